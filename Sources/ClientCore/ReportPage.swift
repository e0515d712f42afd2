import Charts
import Foundation
import Imaging
import Prototypes

/// The self-contained HTML report of a run (DESIGN §9): inline CSS, inline SVG charts and PNG
/// images as data: URIs, no script and no network. Every figure has a caption that says how to
/// read it; a part that is missing says so and why. Pure: `ReportInputs` in, text out.
public struct ReportPage {
  /// What the report shows.
  public var inputs: ReportInputs

  /// Creates the page.
  public init(_ inputs: ReportInputs) { self.inputs = inputs }

  /// Section ids and headings, in order (the table of contents and the tests use them).
  public static let sections: [(id: String, heading: String)] = [
    ("findings", "Findings"),
    ("summary", "Run summary and learning curves"),
    ("prototypes", "Prototypes per class: galleries, GradCAM, footprints"),
    ("attention", "Intra-class attention over checkpoints"),
    ("pairs", "Confused pairs and the learning order"),
    ("uncertain", "Uncertain prototypes and fine-tunes"),
    ("faithfulness", "Faithfulness of GradCAM"),
    ("explainer", "Data-free explainer"),
  ]

  /// The whole HTML document.
  public func html() -> String {
    var body = ""
    body += header()
    body += section("findings", findingsSection())
    body += section("summary", summarySection())
    body += section("prototypes", prototypesSection())
    body += section("attention", attentionSection())
    body += section("pairs", pairsSection())
    body += section("uncertain", uncertainSection())
    body += section("faithfulness", faithfulnessSection())
    body += section("explainer", explainerSection())
    return """
      <!DOCTYPE html>
      <html lang="en">
      <head>
      <meta charset="utf-8">
      <meta name="viewport" content="width=device-width, initial-scale=1">
      <title>i2x report: \(esc(inputs.run))</title>
      <style>\(Self.style)</style>
      </head>
      <body>
      \(body)
      <footer>Made by \(esc(ClientCommands.version)) from daemon \(esc(inputs.daemonVersion ?? "?")) on \(esc(Self.timestamp(inputs.generatedAt))). One file: no script, no network.</footer>
      </body>
      </html>

      """
  }

  func header() -> String {
    let stepText =
      inputs.requestedStep.map { "as it stood after checkpoint step \($0)" } ?? "at its latest analysed checkpoint"
    var out =
      "<header><h1>i2x report: \(esc(inputs.run))</h1><p class=\"lede\">Why does the model look where it looks? "
    out += "This report reads run <b>\(esc(inputs.run))</b> \(stepText).</p>"
    out += glance()
    out += "<nav><ol>"
    for section in Self.sections { out += "<li><a href=\"#\(section.id)\">\(esc(section.heading))</a></li>" }
    return out + "</ol></nav></header>"
  }

  func section(_ id: String, _ content: String) -> String {
    let heading = Self.sections.first { $0.id == id }?.heading ?? id
    return "<section id=\"\(id)\"><h2>\(esc(heading))</h2>\(content)</section>\n"
  }

  /// A figure with its caption (how to read it).
  func figure(_ content: String, caption: String, id: String? = nil) -> String {
    "<figure\(id.map { " id=\"\(esc($0))\"" } ?? "")>\(content)<figcaption>\(caption)</figcaption></figure>"
  }

  /// A stated absence: what is not shown and why.
  func absent(_ text: String) -> String {
    "<p class=\"absent\"><b>Not shown:</b> \(esc(text))</p>"
  }

  /// An inline PNG.
  func image(_ png: PNGImage, alt: String) -> String {
    guard let bytes = try? png.encoded() else { return absent("the image '\(alt)' could not be encoded") }
    return image(bytes: bytes, alt: alt, width: png.width)
  }

  func image(bytes: [UInt8], alt: String, width: Int? = nil) -> String {
    "<img alt=\"\(esc(alt))\" src=\"data:image/png;base64,\(Data(bytes).base64EncodedString())\""
      + (width.map { " width=\"\($0)\"" } ?? "") + ">"
  }

  func esc(_ text: String) -> String { SVGText.escape(text) }

  /// Class name of index `c`.
  func className(_ c: Int) -> String {
    if case .success(let analysis) = inputs.analysis, analysis.report.classNames.indices.contains(c) {
      return analysis.report.classNames[c]
    }
    let names = inputs.runRow["classes"] as? [String] ?? []
    return names.indices.contains(c) ? names[c] : "class \(c)"
  }

  /// A link to a class's gallery.
  func classLink(_ c: Int) -> String { "<a href=\"#class-\(c)\">\(esc(className(c)))</a>" }

  /// A link to a prototype's entry.
  func prototypeLink(_ k: Int) -> String { "<a href=\"#prototype-\(k)\">prototype \(k)</a>" }

  /// A link to a pair's row.
  func pairLink(_ a: Int, _ b: Int) -> String {
    let (x, y) = (min(a, b), max(a, b))
    return "<a href=\"#pair-\(x)-\(y)\">\(esc(className(x))) / \(esc(className(y)))</a>"
  }

  static func timestamp(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.string(from: date)
  }

  static func percent(_ value: Double) -> String { String(format: "%.0f%%", 100 * value) }
  static func fixed(_ value: Double, _ decimals: Int = 3) -> String { String(format: "%.\(decimals)f", value) }

  static let style = """
    body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1b1b;margin:0 auto;max-width:1100px;padding:0 20px 40px}
    h1{font-size:26px;margin:24px 0 4px}h2{font-size:21px;border-bottom:2px solid #333;padding-bottom:3px;margin-top:40px}
    h3{font-size:17px;margin:22px 0 6px}.lede{color:#444;margin-top:0}
    nav ol{columns:2;padding-left:20px}figure{margin:14px 0 22px}figcaption{color:#444;font-size:13px;max-width:900px}
    .absent{background:#fff6e0;border-left:4px solid #d9a400;padding:6px 10px}
    .glance{background:#f3f6fa;border:1px solid #cbd5e1;padding:8px 14px}.glance li{margin:3px 0}
    table{border-collapse:collapse;font-size:13px;margin:8px 0}th,td{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}
    th{background:#f0f0f0}td.num{text-align:right;font-variant-numeric:tabular-nums}
    .chart text{font:11px system-ui,sans-serif;fill:#222}.chart .chart-title{font-size:13px;font-weight:600}
    .chart .band-label{font-size:10px;fill:#555}img{image-rendering:pixelated;border:1px solid #ddd}
    .sev-high{color:#fff;background:#b00020;padding:1px 6px;border-radius:3px}.sev-medium{background:#f2c94c;padding:1px 6px;border-radius:3px}
    .sev-low,.sev-info{background:#ddd;padding:1px 6px;border-radius:3px}code{background:#f4f4f4;padding:1px 4px}
    .gallery{display:flex;flex-wrap:wrap;gap:10px 24px;align-items:flex-start}
    .gallery figure{margin:6px 0;max-width:520px}.gallery figcaption{font-size:12px}
    details{margin:6px 0}summary{cursor:pointer;font-weight:600}footer{color:#666;font-size:12px;margin-top:40px}
    """
}

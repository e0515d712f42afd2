import Charts
import Foundation
import Prototypes

extension ReportPage {
  /// Uncertain prototypes with their examples and evidence signs, then the fine-tunes and what
  /// they changed.
  func uncertainSection() -> String {
    var out = ""
    if case .success(let analysis) = inputs.analysis {
      let report = analysis.report
      if report.uncertain.isEmpty {
        let intervals = max(report.steps.count - 1, 0)
        out +=
          intervals < 3
          ? "<p>No uncertain prototypes yet: the rule needs at least 3 analysed intervals (\(intervals) so far).</p>"
          : "<p>No uncertain prototypes: over the last \(min(6, intervals)) intervals, no prototype's significant evidence "
            + "between the most confused pairs flipped sign twice (or the model is not yet above twice chance).</p>"
      }
      for flag in report.uncertain {
        let (a, b) = (flag.pair[safe: 0] ?? 0, flag.pair[safe: 1] ?? 0)
        out += "<h3>\(prototypeLink(flag.prototype)) between \(pairLink(a, b))</h3>"
        out +=
          "<p>Its evidence flipped \(flag.flips) times over the window (score \(Self.fixed(flag.score))): the model "
          + "used the same part as evidence for \(esc(className(a))), then for \(esc(className(b))), then back.</p>"
        out += figure(
          signStrip(flag, a: a, b: b),
          caption:
            "One square per interval (steps below): + the prototype's evidence favoured \(esc(className(a))), − it "
            + "favoured \(esc(className(b))), 0 not significant (|Δ| under 2 bootstrap standard errors).")
        if case .success(let probe) = inputs.probe {
          out += figure(
            image(ReportImages.strip(probe, examples: Array(flag.examples.prefix(6))), alt: "examples of the flag"),
            caption:
              "Probe images where the prototype is most intense, its cells tinted red: "
              + flag.examples.prefix(6).map { "#\($0.probe) (\(esc(className($0.label))))" }.joined(separator: ", ")
              + ". If the tinted cells are background or a mark rather than the garment, suspect a shortcut.")
        }
        if let chart = pairChart(a, b) {
          out += figure(
            chart,
            caption:
              "The pair's probe confusions over training; shaded spans are fine-tune segments. A drop after a span "
              + "is what the fine-tune changed on this run (one run, not a controlled comparison).")
        }
      }
    } else {
      out += absent("uncertain prototypes: \(analysisReason())")
    }
    out += "<h3 id=\"finetunes\">Fine-tunes</h3>" + fineTuneTable()
    return out
  }

  /// +/−/0 squares per interval of a flag's window.
  func signStrip(_ flag: AnalysisReport.UncertainPrototype, a: Int, b: Int) -> String {
    let n = SVGText.number
    let size = 34.0
    let width = max(Double(flag.signs.count) * (size + 4) + 4, 60)
    var out =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"\(n(width))\" height=\"52\" viewBox=\"0 0 \(n(width)) 52\" role=\"img\" aria-label=\"evidence signs\">"
    for (i, sign) in flag.signs.enumerated() {
      let x = 4 + Double(i) * (size + 4)
      let fill = sign > 0 ? SeriesStyle.colours[0].css : (sign < 0 ? SeriesStyle.colours[4].css : "#dddddd")
      let symbol = sign > 0 ? "+" : (sign < 0 ? "−" : "0")
      let step = flag.steps[safe: i + 1] ?? flag.steps[safe: i] ?? 0
      out += "<rect x=\"\(n(x))\" y=\"2\" width=\"\(n(size))\" height=\"\(n(size))\" fill=\"\(fill)\">"
      out += "<title>interval to step \(step): \(symbol)</title></rect>"
      out +=
        "<text x=\"\(n(x + size / 2))\" y=\"\(n(2 + size / 2 + 5))\" text-anchor=\"middle\" style=\"font-size:15px;font-weight:700\" fill=\"\(sign == 0 ? "#333" : "#fff")\">\(symbol)</text>"
      out += "<text x=\"\(n(x + size / 2))\" y=\"46\" text-anchor=\"middle\" class=\"tick\">\(step)</text>"
    }
    return out + "</svg>"
  }

  /// The run's directives with their states and outcomes.
  func fineTuneTable() -> String {
    guard case .success(let reply) = inputs.directives else {
      if case .failure(let absence) = inputs.directives { return absent("fine-tunes: \(absence.reason)") }
      return ""
    }
    let directives = reply["directives"] as? [[String: Any]] ?? []
    var out = "<p>Fine-tune policy: <b>\(esc(reply["policy"] as? String ?? "?"))</b>. "
    guard !directives.isEmpty else {
      return out + "No fine-tune directive was made for this run.</p>"
    }
    out += "A fine-tune removes the training images of the pair that carry the uncertain prototype for one epoch, "
    out += "then trains one epoch on all data. The outcome compares the daemon's own probe numbers before the "
    out += "segment and at the latest checkpoint after it; the trainer's validation numbers are beside them. These "
    out += "are observations of one run; <code>i2x-train experiment finetune</code> is the controlled comparison.</p>"
    out += "<table><tr><th>id</th><th>pair</th><th>prototypes</th><th>source</th><th>at step</th><th>state</th>"
    out += "<th>|R|</th><th>segment</th><th>probe outcome</th><th>trainer validation</th></tr>"
    for d in directives {
      let pair = d["pair"] as? [Int] ?? []
      let metrics = d["metrics"] as? [String: Any] ?? [:]
      func number(_ key: String) -> Double? { (metrics[key] as? NSNumber)?.doubleValue }
      var validation = "-"
      if let before = number("val_accuracy_before"), let after = number("val_accuracy_after") {
        validation = "accuracy \(Self.fixed(before)) → \(Self.fixed(after))"
        if let cb = number("pair_val_confusions_before"), let ca = number("pair_val_confusions_after") {
          validation += ", pair confusions \(Int(cb)) → \(Int(ca))"
        }
      }
      let segment = number("first_step").map { "\(Int($0))…\(Int(number("last_step") ?? 0))" } ?? "-"
      out += "<tr><td class=\"num\">\(d["id"] as? Int ?? 0)</td>"
      out += "<td>\(pair.count == 2 ? pairLink(pair[0], pair[1]) : "-")</td>"
      out += "<td>\((d["prototypes"] as? [Int] ?? []).map { prototypeLink($0) }.joined(separator: ", "))</td>"
      out += "<td>\(esc(d["source"] as? String ?? ""))</td><td class=\"num\">\(d["step"] as? Int ?? 0)</td>"
      out += "<td>\(esc(d["state"] as? String ?? ""))\(esc((d["reason"] as? String).map { ": \($0)" } ?? ""))</td>"
      out += "<td class=\"num\">\(number("removed").map { String(Int($0)) } ?? "-")</td><td>\(segment)</td>"
      out += "<td>\(esc(ClientCommands.outcomeSummary(d["outcome"] as? [String: Any])))</td><td>\(validation)</td></tr>"
    }
    out += "</table>"
    for d in directives where d["state"] as? String == "done" {
      let pair = d["pair"] as? [Int] ?? []
      guard pair.count == 2, let chart = pairChart(pair[0], pair[1]) else { continue }
      out += figure(
        chart,
        caption:
          "Fine-tune #\(d["id"] as? Int ?? 0) of \(pairLink(pair[0], pair[1])): the pair's probe confusions over "
          + "training, its segment shaded. Compare the level after the span with the level before it.")
    }
    return out
  }
}

import Charts
import Foundation
import Prototypes

extension ReportPage {
  /// Pair confusions over checkpoints as a heat map, and the learning order as a table.
  func pairsSection() -> String {
    guard case .success(let analysis) = inputs.analysis else { return absent("pairs: \(analysisReason())") }
    let report = analysis.report
    let position = Dictionary(
      report.learningOrder.enumerated().map { ("\($0.element.first ?? 0)-\($0.element.last ?? 0)", $0.offset) },
      uniquingKeysWith: { a, _ in a })
    func rank(_ p: AnalysisReport.PairProgress) -> Int { position["\(p.a)-\(p.b)"] ?? Int.max }
    let confused = report.pairs.filter { ($0.confusions.max() ?? 0) > 0 }
    guard !confused.isEmpty else {
      return "<p>No pair of classes was ever confused on the probe set.</p>"
    }
    let shown = confused.sorted { ($0.confusions.max() ?? 0) > ($1.confusions.max() ?? 0) }.prefix(NiceTicks.limit)
      .sorted { rank($0) < rank($1) }
    let high = Double(shown.compactMap { $0.confusions.max() }.max() ?? 1)
    var map = HeatMap(
      title: "Probe confusions per pair", rowLabels: shown.map { "\(className($0.a)) / \(className($0.b))" },
      columnLabels: report.steps.map(String.init),
      values: shown.map { pair in pair.confusions.map { Double($0) } }, columnAxisLabel: "checkpoint step",
      valueLabel: "confusions (a→b + b→a)", range: (0, high))
    map.width = 900
    map.rowLinks = shown.map { "pair-\($0.a)-\($0.b)" }
    var out = figure(
      map.svg(),
      caption:
        "The \(shown.count) pairs with the most probe confusions at any checkpoint (of \(confused.count) ever "
        + "confused), in learning order: pairs separated first at the top. A row that stays bright is a pair the "
        + "model still mixes up; a row that darkens early was learned early. Counts are both directions on the "
        + "held-out probe set; a row name links to the pair's numbers below.")
    out += whyConfused(report)
    out += "<h3>Learning order</h3><p>Pairs by separation step: the first checkpoint after which confusions stay at or "
    out +=
      "below 25% of their maximum. <b>Overlap</b> is the cosine between the two classes' attention profiles: near 1, "
    out += "they look at the same prototypes, which is why they are confused. <b>Discriminative</b> prototypes carry "
    out += "evidence for one class against the other (latest interval); <b>contested</b> ones support both.</p>"
    out += "<details open><summary>\(min(confused.count, 60)) pairs</summary><table><tr><th>#</th><th>pair</th>"
    out += "<th>separated at</th><th>max / latest confusions</th><th>overlap</th><th>for a</th><th>for b</th>"
    out += "<th>contested</th></tr>"
    for (index, pair) in confused.sorted(by: { rank($0) < rank($1) }).prefix(60).enumerated() {
      out += "<tr id=\"pair-\(pair.a)-\(pair.b)\"><td class=\"num\">\(index + 1)</td><td>\(classLink(pair.a)) / "
      out += "\(classLink(pair.b))</td><td>\(pair.separationStep.map(String.init) ?? "not yet")</td>"
      out += "<td class=\"num\">\(pair.confusions.max() ?? 0) / \(pair.confusions.last ?? 0)</td>"
      out += "<td class=\"num\">\(Self.fixed(pair.attentionOverlap, 2))</td>"
      out += "<td>\(pair.discriminativeForA.map { prototypeLink($0) }.joined(separator: ", "))</td>"
      out += "<td>\(pair.discriminativeForB.map { prototypeLink($0) }.joined(separator: ", "))</td>"
      out += "<td>\(pair.contested.map { prototypeLink($0) }.joined(separator: ", "))</td></tr>"
    }
    return out + "</table></details>"
  }

  /// The probe confusions of pair (a, b) and its classes' accuracies over checkpoints, with
  /// fine-tune segments shaded.
  func pairChart(_ a: Int, _ b: Int) -> String? {
    guard case .success(let analysis) = inputs.analysis else { return nil }
    let report = analysis.report
    let (x, y) = (min(a, b), max(a, b))
    guard let pair = report.pairs.first(where: { $0.a == x && $0.b == y }) else { return nil }
    let steps = report.steps.map(Double.init)
    var chart = LineChart(
      title: "\(className(x)) / \(className(y)): probe confusions", xLabel: "training step",
      yLabel: "confusions (both ways)",
      series: [.init(name: "confusions", points: zip(steps, pair.confusions).map { ($0, Double($1)) })])
    chart.bands = fineTuneBands()
    chart.height = 220
    return chart.svg()
  }

  /// For the three pairs most confused at the analysed checkpoint: how much their attention
  /// overlaps and the prototypes both classes lean on, with examples.
  func whyConfused(_ report: AnalysisReport) -> String {
    let top = report.pairs.filter { ($0.confusions.last ?? 0) > 0 }
      .sorted { ($0.confusions.last ?? 0) > ($1.confusions.last ?? 0) }.prefix(3)
    guard !top.isEmpty else { return "<p>No pair is confused at the analysed checkpoint.</p>" }
    var out = "<h3>Why the most confused pairs are confused</h3>"
    for pair in top {
      let (a, b) = (className(pair.a), className(pair.b))
      // Prototypes present (ρ ≥ 0.1) in both classes, the most present in the rarer of the two first.
      let shared = report.prototypes.filter {
        ($0.presence[safe: pair.a] ?? 0) >= 0.1 && ($0.presence[safe: pair.b] ?? 0) >= 0.1
      }.sorted {
        min($0.presence[safe: pair.a] ?? 0, $0.presence[safe: pair.b] ?? 0)
          > min($1.presence[safe: pair.a] ?? 0, $1.presence[safe: pair.b] ?? 0)
      }
      var text =
        "\(pairLink(pair.a, pair.b)): \(pair.confusions.last ?? 0) probe confusions now (at most "
        + "\(pair.confusions.max() ?? 0)); attention overlap \(Self.fixed(pair.attentionOverlap, 2))"
        + (pair.attentionOverlap >= 0.8
          ? " — the two classes look at nearly the same prototypes."
          : pair.attentionOverlap >= 0.5
            ? " — they share much of what they look at." : " — they mostly look at different prototypes.")
      if shared.isEmpty {
        text += " No prototype is attended in at least 10% of both classes."
      } else {
        text +=
          " Prototypes attended in both: "
          + shared.prefix(3).map {
            "\(prototypeLink($0.id)) (ρ \(Self.fixed($0.presence[safe: pair.a] ?? 0, 2)) in \(esc(a)), "
              + "\(Self.fixed($0.presence[safe: pair.b] ?? 0, 2)) in \(esc(b)))"
          }.joined(separator: ", ") + "."
      }
      if !pair.contested.isEmpty {
        text +=
          " Contested (evidence for both): " + pair.contested.map { prototypeLink($0) }.joined(separator: ", ") + "."
      }
      var figureContent = ""
      if case .success(let probe) = inputs.probe, let first = shared.first {
        let examples =
          first.examples.filter { $0.label == pair.a }.prefix(2)
          + first.examples.filter { $0.label == pair.b }.prefix(2)
        if !examples.isEmpty {
          figureContent = figure(
            image(ReportImages.strip(probe, examples: Array(examples)), alt: "prototype \(first.id) in \(a) and \(b)"),
            caption:
              "Prototype \(first.id), cells tinted red, on probes of both classes: "
              + examples.map { "#\($0.probe) (\(esc(className($0.label))))" }.joined(separator: ", ")
              + ". The same part drawing the model's attention in both classes is a reason to mix them up.")
        }
      }
      out += "<p>\(text)</p>" + figureContent
    }
    return out
  }
}

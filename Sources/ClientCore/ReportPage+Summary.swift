import Charts
import Foundation
import Prototypes

extension ReportPage {
  /// "At a glance": the answers a reader looks for first, each from a measured number.
  func glance() -> String {
    var items: [String] = []
    if case .success(let analysis) = inputs.analysis {
      let report = analysis.report
      if let worst = report.pairs.max(by: { ($0.confusions.last ?? 0) < ($1.confusions.last ?? 0) }),
        (worst.confusions.last ?? 0) > 0
      {
        items.append(
          "Most confused pair now: \(pairLink(worst.a, worst.b)) with \(worst.confusions.last ?? 0) probe confusions "
            + "(both directions) at step \(analysis.step).")
      }
      if let flag = report.uncertain.max(by: { $0.score < $1.score }) {
        items.append(
          "Strongest uncertain prototype: \(prototypeLink(flag.prototype)) between \(pairLink(flag.pair[0], flag.pair[1])) "
            + "(evidence flipped \(flag.flips) times; <a href=\"#uncertain\">details</a>).")
      } else {
        items.append("No uncertain prototype is flagged (<a href=\"#uncertain\">why</a>).")
      }
      if let latest = report.faithfulness.last {
        let beats = latest.deletion < latest.randomDeletion && latest.insertion > latest.randomInsertion
        items.append(
          "GradCAM \(beats ? "beats" : "does not beat") a random pixel order at step \(latest.step): deletion AUC "
            + "\(Self.fixed(latest.deletion)) vs \(Self.fixed(latest.randomDeletion)), insertion "
            + "\(Self.fixed(latest.insertion)) vs \(Self.fixed(latest.randomInsertion)) (<a href=\"#faithfulness\">chart</a>)."
        )
      }
    }
    if case .success(let findings) = inputs.findings {
      let list = findings["findings"] as? [[String: Any]] ?? []
      let high = list.filter { $0["severity"] as? String == "high" }.count
      items.append("<a href=\"#findings\">\(list.count) finding(s)</a>, \(high) of high severity.")
      if let first = list.first, let statement = first["statement"] as? String {
        let short = statement.count > 160 ? String(statement.prefix(159)) + "…" : statement
        items.append("First finding (\(esc(first["severity"] as? String ?? "info"))): \(esc(short))")
      }
    }
    if case .success(let reply) = inputs.directives {
      let done = (reply["directives"] as? [[String: Any]] ?? []).filter { $0["state"] as? String == "done" }
      if let last = done.last {
        items.append(
          "Latest fine-tune (#\(last["id"] as? Int ?? 0)): \(esc(ClientCommands.outcomeSummary(last["outcome"] as? [String: Any]))) "
            + "(<a href=\"#finetunes\">details</a>).")
      }
    }
    guard !items.isEmpty else { return "" }
    return "<div class=\"glance\"><b>At a glance</b><ul>" + items.map { "<li>\($0)</li>" }.joined() + "</ul></div>"
  }

  /// Fine-tune segments as chart bands (first to last step of each done directive).
  func fineTuneBands() -> [LineChart.Band] {
    guard case .success(let reply) = inputs.directives else { return [] }
    return (reply["directives"] as? [[String: Any]] ?? []).compactMap { d in
      let metrics = d["metrics"] as? [String: Any] ?? [:]
      guard let first = (metrics["first_step"] as? NSNumber)?.doubleValue,
        let last = (metrics["last_step"] as? NSNumber)?.doubleValue
      else { return nil }
      return LineChart.Band(from: first, to: last, label: "fine-tune #\(d["id"] as? Int ?? 0)")
    }
  }

  func summarySection() -> String {
    var out = "<table>"
    func row(_ name: String, _ value: String) { out += "<tr><th>\(esc(name))</th><td>\(value)</td></tr>" }
    row("run", esc(inputs.run))
    row("architecture", esc(inputs.runRow["architecture"] as? String ?? "?"))
    let classes = inputs.runRow["classes"] as? [String] ?? []
    row("classes", "\(classes.count): " + classes.enumerated().map { classLink($0.offset) }.joined(separator: ", "))
    row("probe images", "\(inputs.runRow["probe_count"] as? Int ?? 0) (held out; never trained on)")
    let steps = inputs.checkpoints.compactMap { $0["step"] as? Int }
    row(
      "checkpoints received",
      steps.isEmpty ? "none" : "\(steps.count) (steps \(steps.first ?? 0)…\(steps.last ?? 0))")
    switch inputs.analysis {
    case .success(let analysis):
      let report = analysis.report
      var text = "\(report.steps.count) checkpoints, up to step \(analysis.step)"
      if report.incremental == true {
        text += "; incremental (older drift and couplings under earlier vocabularies; a full refresh follows when idle)"
      }
      row("analysed", esc(text))
      row(
        "vocabulary",
        esc(
          "\(report.vocabulary.size) prototypes fitted on step \(report.vocabulary.fittedOnStep), PCA \(report.vocabulary.pcaComponents) components (\(Self.percent(report.vocabulary.explainedVariance)) variance)"
            + (report.vocabulary.adjustedRandIndex.map { ", ARI vs previous fit \(Self.fixed($0))" } ?? "")))
      let failed = analysis.raw["failed_checkpoints"] as? [[String: Any]] ?? []
      if !failed.isEmpty {
        row(
          "failed analyses",
          esc(failed.map { "step \($0["step"] as? Int ?? 0): \($0["error"] as? String ?? "")" }.joined(separator: "; "))
        )
      }
    case .failure(let absence):
      row("analysed", esc("no analysis: \(absence.reason)"))
    }
    if case .success(let reply) = inputs.directives {
      row("fine-tune policy", esc(reply["policy"] as? String ?? "?"))
    }
    if case .success(let reply) = inputs.explanations {
      row("explain policy", esc(reply["explain_policy"] as? String ?? "?"))
    }
    out += "</table>"
    out += learningCurves()
    return out
  }

  func learningCurves() -> String {
    var out = ""
    // Trainer metrics per checkpoint (loss and friends), as the trainer reported them.
    var byMetric: [String: [(x: Double, y: Double)]] = [:]
    for checkpoint in inputs.checkpoints {
      guard let step = checkpoint["step"] as? Int else { continue }
      for (name, value) in checkpoint["metrics"] as? [String: Any] ?? [:] {
        if let number = (value as? NSNumber)?.doubleValue, number.isFinite {
          byMetric[name, default: []].append((Double(step), number))
        }
      }
    }
    let bands = fineTuneBands()
    let plotted = byMetric.keys.sorted().filter { (byMetric[$0]?.count ?? 0) >= 2 }
    if plotted.isEmpty {
      out += absent("trainer metrics: the checkpoints carry fewer than two values of any metric")
    } else {
      for group in Self.metricGroups(plotted) {
        var chart = LineChart(
          title: "Trainer metrics: \(group.joined(separator: ", "))", xLabel: "training step", yLabel: "value",
          series: group.map { .init(name: $0, points: byMetric[$0] ?? []) })
        chart.bands = bands
        out += figure(
          chart.svg(),
          caption:
            "What the trainer reported with each checkpoint, against the training step. Shaded spans are fine-tune "
            + "segments (curated epoch, then full data), so a jump inside one is the fine-tune's doing.")
      }
    }
    guard case .success(let analysis) = inputs.analysis else {
      return out + absent("probe accuracy per class: no analysis yet")
    }
    let report = analysis.report
    let steps = report.steps.map(Double.init)
    let ordered = report.classes.sorted { $0.label < $1.label }
    // Means over classes as lines (readable at any number of checkpoints)…
    func mean(_ series: (AnalysisReport.ClassProgress) -> [Double]) -> [(x: Double, y: Double)] {
      steps.indices.map { t in
        let values = ordered.compactMap { series($0)[safe: t] }
        return (steps[t], values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count))
      }
    }
    var means = LineChart(
      title: "Mean probe accuracy and true-class confidence over classes", xLabel: "training step", yLabel: "mean",
      series: [
        .init(name: "probe accuracy", points: mean(\.accuracy)),
        .init(name: "true-class confidence", points: mean(\.confidence)),
      ], yRange: (0, 1))
    means.bands = bands
    out += figure(
      means.svg(),
      caption:
        "Averages over the classes of the held-out probe set at every analysed checkpoint. Confidence (mean softmax "
        + "of the true class) can still grow while accuracy is flat: the model becomes surer of what it gets right.")
    // …and one heat-map row per class (at most 12: the classes with the lowest latest accuracy).
    let shown =
      ordered.count <= NiceTicks.limit
      ? ordered
      : Array(ordered.sorted { ($0.accuracy.last ?? 0) < ($1.accuracy.last ?? 0) }.prefix(NiceTicks.limit))
        .sorted { $0.label < $1.label }
    for (title, valueLabel, series) in [
      ("Probe accuracy per class", "probe accuracy", \AnalysisReport.ClassProgress.accuracy),
      ("True-class confidence per class", "mean confidence", \AnalysisReport.ClassProgress.confidence),
    ] {
      var map = HeatMap(
        title: title, rowLabels: shown.map(\.name), columnLabels: report.steps.map(String.init),
        values: shown.map { c in report.steps.indices.map { c[keyPath: series][safe: $0] } },
        columnAxisLabel: "checkpoint step", valueLabel: valueLabel, range: (0, 1))
      map.width = 900
      map.rowLinks = shown.map { "class-\($0.label)" }
      out += figure(
        map.svg(),
        caption:
          "One row per class\(shown.count < ordered.count ? " (the \(shown.count) with the lowest latest accuracy)" : ""), "
          + "one column per analysed checkpoint; dark is 0, yellow is 1. A row that turns yellow late is a class "
          + "learned late; dark stripes shared by two rows are usually confusions between them (see the pair heat "
          + "map). Hover a cell for its value.")
    }
    return out
  }

  /// Metrics that share a scale go in one chart: losses together, accuracies together, the rest one each.
  static func metricGroups(_ names: [String]) -> [[String]] {
    let losses = names.filter { $0.lowercased().contains("loss") }
    let accuracies = names.filter { $0.lowercased().contains("acc") && !losses.contains($0) }
    let rest = names.filter { !losses.contains($0) && !accuracies.contains($0) }
    return [losses, accuracies].filter { !$0.isEmpty } + rest.map { [$0] }
  }
}

/// Incremental analysis: a flat cost per new checkpoint.
///
/// A full analysis recomputes every interval under the newest vocabulary (I2X's retrospective
/// view), so its cost grows with the run. Incrementally, only the last `incrementalWindow`
/// intervals are recomputed (`analyze` over the last checkpoints, which covers the
/// uncertain-prototype rule's window) and merged onto the previous report:
/// - series that do not depend on the vocabulary (accuracy, confidence, confusions, margins,
///   faithfulness, zero maps) are exact for every checkpoint;
/// - vocabulary-dependent series of older checkpoints (drift, concentration, interval
///   couplings) keep the values computed under the vocabulary of their time;
/// - everything "latest" (profiles, presence, prototypes, discriminative prototypes, flags)
///   is computed now.
/// With one vocabulary throughout, merging equals the full analysis exactly (tested); the
/// daemon runs a full analysis when it is idle, so a run's final report is always I2X's.
extension RunAnalysis {
  /// Intervals an incremental analysis recomputes (≥ the uncertainty rule's window of 6).
  public static let incrementalWindow = 6

  /// The previous report with `window` (an `analyze` of the last checkpoints, whose first
  /// step is in `previous.steps` and whose other steps follow it) laid over its end.
  /// - Returns: nil when they do not overlap that way, or when the report does not list every
  ///   pair (more than `allPairsUpToClasses` classes): then only a full analysis is right.
  public static func merge(previous: AnalysisReport, window: AnalysisReport) -> AnalysisReport? {
    guard let first = window.steps.first, let m = previous.steps.firstIndex(of: first),
      Array(previous.steps[m...]) == Array(window.steps.prefix(previous.steps.count - m)),
      window.steps.count > previous.steps.count - m, previous.classNames == window.classNames,
      previous.classNames.count <= allPairsUpToClasses
    else { return nil }
    var merged = window
    merged.steps = Array(previous.steps.prefix(m)) + window.steps
    merged.classes = window.classes.map { current in
      guard let old = previous.classes.first(where: { $0.label == current.label }) else { return current }
      var progress = current
      progress.drift = Array(old.drift.prefix(m)) + current.drift
      progress.concentration = Array(old.concentration.prefix(m)) + current.concentration
      progress.accuracy = Array(old.accuracy.prefix(m)) + current.accuracy
      progress.confidence = Array(old.confidence.prefix(m)) + current.confidence
      return progress
    }
    var pairs: [AnalysisReport.PairProgress] = []
    for current in window.pairs {
      guard let old = previous.pairs.first(where: { ($0.a, $0.b) == (current.a, current.b) }) else { return nil }
      var pair = current
      pair.confusions = Array(old.confusions.prefix(m)) + current.confusions
      pair.margin = Array(old.margin.prefix(m)) + current.margin
      pair.separationStep = separationIndex(pair.confusions).map { merged.steps[$0] }
      pairs.append(pair)
    }
    merged.pairs = pairs
    merged.learningOrder = learningOrder(pairs)
    // The permutation null is computed for the latest interval only.
    let older = previous.intervals.prefix(m).map { interval -> AnalysisReport.IntervalCoupling in
      var copy = interval
      copy.null95 = nil
      return copy
    }
    merged.intervals = Array(older) + window.intervals
    // Faithfulness is measured at some checkpoints only: kept by step.
    let kept = Set(previous.steps.prefix(m))
    merged.faithfulness = previous.faithfulness.filter { kept.contains($0.step) } + window.faithfulness
    merged.zeroMaps = Array(previous.zeroMaps.prefix(m)) + window.zeroMaps
    merged.incremental = true
    // Running sums: the settled part grows by the intervals that left the window (those kept
    // from `previous`), then the window's are added; the same additions in the same order as
    // a full analysis makes, so with one vocabulary both are equal.
    let classes = window.classNames.count
    if let settled = previous.settledEvidence, settled.intervals <= m,
      merged.intervals.count - incrementalWindow <= m
    {
      (merged.settledEvidence, merged.evidenceTotals) = EvidenceTotals.accumulate(
        classes: classes, settled: settled, intervals: merged.intervals, from: settled.intervals)
    } else {
      (merged.settledEvidence, merged.evidenceTotals) = EvidenceTotals.accumulate(
        classes: classes, settled: EvidenceTotals(classes: classes), intervals: merged.intervals, from: 0)
    }
    merged.applyAccumulatedEvidence()
    return merged
  }
}

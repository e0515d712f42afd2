extension AnalysisReport {
  /// Sets every pair's `accumulated` discriminative and contested prototypes from
  /// `evidenceTotals`, among the current vocabulary's prototypes.
  mutating func applyAccumulatedEvidence() {
    guard let totals = evidenceTotals, totals.intervals > 0 else { return }
    let ids = prototypes.map(\.id)
    for index in pairs.indices {
      pairs[index].accumulated = totals.pairEvidence(pairs[index].a, pairs[index].b, among: ids)
    }
  }

  /// Each class's prototypes with the most accumulated evidence for it (at most `count`),
  /// falling back to the latest interval's evidence in reports without totals.
  public func topPrototypes(_ count: Int, for c: Int) -> [Int] {
    let ids = prototypes.map(\.id)
    if let totals = evidenceTotals, totals.intervals > 0 { return totals.top(count, for: c, among: ids) }
    guard let evidence = intervals.last?.evidence, evidence.count == ids.count * classNames.count else { return [] }
    let k = classNames.count
    return ids.indices.filter { evidence[$0 * k + c] > 0 }.sorted { evidence[$0 * k + c] > evidence[$1 * k + c] }
      .prefix(count).map { ids[$0] }
  }
}

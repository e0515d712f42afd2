/// Class evidence accumulated over every interval of a run (DESIGN §6b): running sums
/// S[k,c] = Σ_t w_t·E_t[k,c] and W = Σ_t w_t, where E_t is interval t's evidence and w_t the
/// number of probes in its learning groups. Rows are keyed by prototype id, so intervals
/// computed under earlier vocabularies (incremental reports) add to the ids they had then.
/// Adding an interval or taking one back costs O(k·classes), whatever the run's length.
public struct EvidenceTotals: Codable, Sendable, Equatable {
  /// Classes (columns).
  public var classes: Int
  /// Intervals summed (counted even when one carried no ids).
  public var intervals: Int
  /// W = Σ_t w_t.
  public var weight: Double
  /// Prototype ids of the rows of `sums`, ascending.
  public var ids: [Int]
  /// S (ids × classes, row-major).
  public var sums: [Double]

  /// Empty totals over `classes` classes.
  public init(classes: Int) {
    self.classes = classes
    intervals = 0
    weight = 0
    ids = []
    sums = []
  }

  /// Totals of `intervals` (those without prototype ids or weight, from old reports, are skipped).
  public init(classes: Int, intervals: [AnalysisReport.IntervalCoupling]) {
    self.init(classes: classes)
    for interval in intervals { add(interval) }
  }

  /// Settled and total sums of a report's `intervals`: `settled` (the sums of
  /// `intervals[..<from]`) grows by the intervals up to the last `RunAnalysis.incrementalWindow`,
  /// and the total adds those too. Costs O(window + intervals added) additions of k·classes.
  public static func accumulate(
    classes: Int, settled: EvidenceTotals, intervals: [AnalysisReport.IntervalCoupling], from: Int
  ) -> (settled: EvidenceTotals, total: EvidenceTotals) {
    let boundary = max(from, intervals.count - RunAnalysis.incrementalWindow)
    var settled = settled
    for interval in intervals[from..<boundary] { settled.add(interval) }
    var total = settled
    for interval in intervals[boundary...] { total.add(interval) }
    return (settled, total)
  }

  /// Adds w_t·E_t of `interval` (and counts it; one without prototype ids or weight, from a
  /// report stored before they were recorded, adds nothing).
  public mutating func add(_ interval: AnalysisReport.IntervalCoupling) {
    intervals += 1
    guard let rows = interval.prototypeIDs, let w = interval.groupedProbes,
      interval.evidence.count == rows.count * classes
    else { return }
    for (r, id) in rows.enumerated() {
      let row = index(of: id)
      for c in 0..<classes { sums[row * classes + c] += Double(w) * interval.evidence[r * classes + c] }
    }
    weight += Double(w)
  }

  /// The row of `id`, inserted (zeros) in id order if new.
  mutating func index(of id: Int) -> Int {
    var low = 0
    var high = ids.count
    while low < high {
      let mid = (low + high) / 2
      if ids[mid] < id { low = mid + 1 } else { high = mid }
    }
    if low == ids.count || ids[low] != id {
      ids.insert(id, at: low)
      sums.insert(contentsOf: [Double](repeating: 0, count: classes), at: low * classes)
    }
    return low
  }

  /// Mean accumulated evidence S[id,c]/W (0 for an id never seen or before any interval).
  public func mean(_ id: Int, _ c: Int) -> Double {
    guard weight > 0, let row = ids.firstIndex(of: id) else { return 0 }
    return sums[row * classes + c] / weight
  }

  /// Prototype ids (among `candidates`) with the largest positive mean evidence for class `c`.
  public func top(_ count: Int, for c: Int, among candidates: [Int]) -> [Int] {
    candidates.filter { mean($0, c) > 0 }.sorted { mean($0, c) > mean($1, c) }.prefix(count).map { $0 }
  }

  /// Discriminative (top 3 each way by Δ_ab = mean(k,a) − mean(k,b)) and contested (positive
  /// for both, by the smaller of the two) prototypes among `candidates`.
  public func pairEvidence(_ a: Int, _ b: Int, among candidates: [Int]) -> AnalysisReport.PairEvidence {
    let delta = Dictionary(uniqueKeysWithValues: candidates.map { ($0, mean($0, a) - mean($0, b)) })
    let forA = candidates.filter { delta[$0, default: 0] > 0 }.sorted { delta[$0, default: 0] > delta[$1, default: 0] }
      .prefix(3)
    let forB = candidates.filter { delta[$0, default: 0] < 0 }.sorted { delta[$0, default: 0] < delta[$1, default: 0] }
      .prefix(3)
    let contested = candidates.filter { mean($0, a) > 0 && mean($0, b) > 0 }
      .sorted { min(mean($0, a), mean($0, b)) > min(mean($1, a), mean($1, b)) }.prefix(3)
    return AnalysisReport.PairEvidence(
      discriminativeForA: Array(forA), discriminativeForB: Array(forB), contested: Array(contested))
  }
}

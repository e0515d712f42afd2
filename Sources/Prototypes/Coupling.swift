import Engine
import Foundation

/// One interval's learning groups (HDBSCAN on ΔŶ) and prototype → confidence coupling
/// (ridge per group; evidence E = Σ_g (n_g/n) β_g; DESIGN §6.5–6.6).
struct Coupling {
  let deltaP: [Double]
  let deltaY: [Double]
  /// ΔP and ΔŶ with columns standardised over all n rows, once (every fit reuses them).
  let standardisedP: [Double]
  let standardisedY: [Double]
  let n: Int, k: Int, classes: Int
  /// Rows of each learning group (noise excluded); one pooled group when HDBSCAN finds none.
  let groupRows: [[Int]]
  let groupLambdas: [Double]
  let pooled: RidgeCoupling
  let noise: Int
  /// Seconds spent in HDBSCAN and in the ridge fits while building this interval.
  let hdbscanSeconds: Double
  let ridgeSeconds: Double
  /// The λ of each group's fit (the pooled λ when there are no groups).
  let evidenceLambdas: [Double]
  /// Class evidence E (k×classes) of the learning groups, computed once.
  let evidence: [Double]

  init(
    before: (intensity: [Double], probabilities: [Double]), after: (intensity: [Double], probabilities: [Double]),
    n: Int, k: Int, classes: Int, seed: UInt64
  ) {
    let deltaP = zip(after.intensity, before.intensity).map { $0 - $1 }
    let deltaY = zip(after.probabilities, before.probabilities).map { $0 - $1 }
    self.deltaP = deltaP
    self.deltaY = deltaY
    standardisedP = Standardised(deltaP, n, k).values
    standardisedY = Standardised(deltaY, n, classes).values
    self.n = n
    self.k = k
    self.classes = classes
    let clusteringStart = Date()
    let clustering = HDBSCAN(
      points: deltaY, rows: n, columns: classes, minimumClusterSize: max(15, n / 100), minimumSamples: 5)
    hdbscanSeconds = Date().timeIntervalSince(clusteringStart)
    let ridgeStart = Date()
    var rows = (0..<clustering.clusterCount).map { g in (0..<n).filter { clustering.labels[$0] == g } }
    noise = clustering.labels.filter { $0 < 0 }.count
    pooled = RidgeCoupling(x: deltaP, y: deltaY, rows: n, predictors: k, targets: classes, seed: seed)
    if rows.isEmpty { rows = [Array(0..<n)] }
    groupRows = rows
    groupLambdas = rows.enumerated().map { g, members in
      guard members.count >= 10, members.count < n else { return RidgeCoupling.lambdas[6] }
      let x = members.flatMap { i in (0..<k).map { deltaP[i * k + $0] } }
      let y = members.flatMap { i in (0..<classes).map { deltaY[i * classes + $0] } }
      return RidgeCoupling(x: x, y: y, rows: members.count, predictors: k, targets: classes, seed: seed &+ UInt64(g))
        .lambda
    }
    evidenceLambdas = groupRows.count == 1 && groupRows[0].count == n ? [pooled.lambda] : groupLambdas
    evidence = Self.evidence(
      rows: groupRows, x: standardisedP, y: standardisedY, n: n, k: k, classes: classes, lambdas: evidenceLambdas)
    ridgeSeconds = Date().timeIntervalSince(ridgeStart)
  }

  /// E (k×classes) from group fits on `rows` (resampled rows for the bootstrap).
  /// E = Σ_g (n_g/n) β_g from ridge fits on `rows` of standardised ΔP, ΔŶ (one λ per group).
  static func evidence(
    rows: [[Int]], x: [Double], y: [Double], n: Int, k: Int, classes: Int, lambdas: [Double]
  ) -> [Double] {
    var e = [Double](repeating: 0, count: k * classes)
    for (g, members) in rows.enumerated() where members.count >= 2 {
      let beta = RidgeCoupling.solve(x, y, rows: members, k, classes, lambdas[g])
      let weight = Double(members.count) / Double(n)
      for index in 0..<(k * classes) { e[index] += weight * beta[index] }
    }
    return e
  }

  /// Bootstrap replicates of E (rows resampled within each group), `resamples` × (k×classes).
  func bootstrap(resamples: Int, seed: UInt64) -> [[Double]] {
    var generator = SplitMix64(seed: seed)
    return (0..<resamples).map { _ in
      Self.evidence(
        rows: groupRows.map { members in members.map { _ in members[Int(generator.next() % UInt64(members.count))] } },
        x: standardisedP, y: standardisedY, n: n, k: k, classes: classes, lambdas: evidenceLambdas)
    }
  }

  func summary(from: Int, to: Int, null permutations: Int, seed: UInt64) -> AnalysisReport.IntervalCoupling {
    var null95: Double?
    if permutations > 0 {
      let null = pooled.permutationNull(x: deltaP, y: deltaY, rows: n, permutations: permutations, seed: seed)
      null95 = null.sorted()[min(null.count - 1, Int(0.95 * Double(null.count)))]
    }
    let grouped = groupRows.count == 1 && groupRows[0].count == n ? [] : groupRows
    return AnalysisReport.IntervalCoupling(
      fromStep: from, toStep: to, groups: grouped.count, groupSizes: grouped.map(\.count), noise: noise,
      lambda: pooled.lambda, crossValidatedR2: pooled.crossValidatedR2, null95: null95, evidence: evidence)
  }
}

import Engine

/// The uncertain-prototype rule (DESIGN §6): over the last L = min(window, #intervals)
/// intervals (L ≥ 3), for the top 3 confused pairs (≥ 3 confusions), a prototype present in
/// both classes (ρ ≥ 0.1) is uncertain when the significant signs of Δ_ab^t[k] =
/// E^t[k,a] − E^t[k,b] (|Δ| > `significance` bootstrap SE) flip at least twice.
///
/// DESIGN §6 says 1 SE. Measured on constructed runs without any coupling, 1 SE flags
/// something in 19 of 20 runs (each interval passes the test by chance 32% of the time, and
/// there are many prototype × pair candidates), so the default here is 2 SE; the swinging run
/// is still caught. `RunAnalysis.Settings.significance` restores 1.
///
/// A second addition: the model must have learned something — mean probe accuracy over the
/// window ≥ 2/K (twice chance). "Evidence swinging between a and b" presupposes a model that
/// tells classes apart at all; on Fashion-MNIST runs trained on shuffled labels (probe accuracy
/// ≈ 1/K) the rule without this gate flagged prototypes in 3 of 4 runs. (Per-class recall is
/// not a usable gate: a shuffled-label model that predicts one class everywhere has full
/// recall on it.)
/// Score = flips/(L−1) · min(ρ_ka, ρ_kb) · mean |Δ|/SE; at most 3 per pair.
struct UncertaintyRule {
  var significance: Double
  var window: Int
  var bootstrap: Int
  var seed: UInt64

  func evaluate(
    intervals: [Coupling], steps: [Int], pairs: [AnalysisReport.PairProgress], presence: [[Double]],
    accuracy: [Double], classes classCount: Int, examples: (Int, Int, Int) -> [AnalysisReport.Example], ids: [Int]
  ) -> [AnalysisReport.UncertainPrototype] {
    let length = min(window, intervals.count)
    guard length >= 3 else { return [] }
    let recent = Array(intervals.suffix(length))
    let window = accuracy.suffix(length + 1)
    guard window.reduce(0, +) / Double(max(1, window.count)) >= 2 / Double(max(1, classCount)) else { return [] }
    let candidates = pairs.filter { ($0.confusions.last ?? 0) >= 3 }
      .sorted { ($0.confusions.last ?? 0) > ($1.confusions.last ?? 0) }.prefix(3)
    guard !candidates.isEmpty else { return [] }
    let classes = recent[0].classes
    let evidence = recent.map(\.evidence)
    let replicates = Parallel.map(recent.count) { recent[$0].bootstrap(resamples: bootstrap, seed: seed &+ UInt64($0)) }
    var flagged: [AnalysisReport.UncertainPrototype] = []
    for pair in candidates {
      let (a, b) = (pair.a, pair.b)
      var found: [AnalysisReport.UncertainPrototype] = []
      for p in presence.indices where presence[p][a] >= 0.1 && presence[p][b] >= 0.1 {
        var signs: [Int] = []
        var ratios: [Double] = []
        for t in 0..<length {
          let delta = evidence[t][p * classes + a] - evidence[t][p * classes + b]
          // SE of Δ itself from its bootstrap replicates (E[k,a] and E[k,b] are correlated).
          let se = standardDeviation(replicates[t].map { $0[p * classes + a] - $0[p * classes + b] })
          signs.append(se > 0 && abs(delta) > significance * se ? (delta > 0 ? 1 : -1) : 0)
          if se > 0 { ratios.append(abs(delta) / se) }
        }
        let nonZero = signs.filter { $0 != 0 }
        let flips = zip(nonZero, nonZero.dropFirst()).filter { $0 != $1 }.count
        guard flips >= 2 else { continue }
        let meanRatio = ratios.isEmpty ? 0 : ratios.reduce(0, +) / Double(ratios.count)
        let score = Double(flips) / Double(length - 1) * min(presence[p][a], presence[p][b]) * meanRatio
        found.append(
          AnalysisReport.UncertainPrototype(
            prototype: ids[p], pair: [a, b], flips: flips, score: score, signs: signs,
            steps: Array(steps.suffix(length + 1)),
            examples: examples(p, a, b)))
      }
      flagged += found.sorted { $0.score > $1.score }.prefix(3)
    }
    return flagged.sorted { $0.score > $1.score }
  }

  func standardDeviation(_ values: [Double]) -> Double {
    guard values.count > 1 else { return 0 }
    let mean = values.reduce(0, +) / Double(values.count)
    return (values.reduce(0.0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)).squareRoot()
  }
}

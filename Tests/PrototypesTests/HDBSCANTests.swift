import Engine
import Foundation
import Prototypes
import Testing

@Suite struct HDBSCANTests {
  /// Three dense Gaussian blobs of 60 points and 20 points spread uniformly over a wide box:
  /// HDBSCAN finds exactly the three blobs and calls most scattered points noise.
  @Test func findsDenseBlobsAndNoise() {
    var g = SplitMix64(seed: 4)
    func uniform() -> Double { Double(g.next() >> 11) / Double(1 << 53) }
    func gaussian() -> Double { (-2 * log(max(uniform(), 1e-300))).squareRoot() * cos(2 * .pi * uniform()) }
    var points: [Double] = []
    var truth: [Int] = []
    for (c, centre) in [(0.0, 0.0), (8.0, 0.0), (4.0, 7.0)].enumerated() {
      for _ in 0..<60 {
        points += [centre.0 + 0.5 * gaussian(), centre.1 + 0.5 * gaussian()]
        truth.append(c)
      }
    }
    for _ in 0..<20 {
      points += [uniform() * 30 - 10, uniform() * 30 - 10]
      truth.append(-1)
    }
    let result = HDBSCAN(points: points, rows: 200, columns: 2, minimumClusterSize: 15, minimumSamples: 5)
    #expect(result.clusterCount == 3)
    let blobs = Array(0..<180)
    #expect(AdjustedRandIndex.compute(blobs.map { result.labels[$0] }, blobs.map { truth[$0] }) > 0.95)
    let noise = (180..<200).filter { result.labels[$0] == -1 }.count
    #expect(noise >= 12, "only \(noise) of 20 scattered points are noise")
  }

  /// Two clusters of very different density are both found (what DBSCAN with one ε cannot do).
  @Test func handlesVaryingDensity() {
    var g = SplitMix64(seed: 5)
    func uniform() -> Double { Double(g.next() >> 11) / Double(1 << 53) }
    var points: [Double] = []
    for _ in 0..<50 { points += [uniform() * 0.5, uniform() * 0.5] }
    for _ in 0..<50 { points += [20 + uniform() * 5, 20 + uniform() * 5] }
    let result = HDBSCAN(points: points, rows: 100, columns: 2, minimumClusterSize: 15, minimumSamples: 5)
    #expect(result.clusterCount == 2)
    #expect(Set(result.labels[0..<50]).count == 1 && Set(result.labels[50..<100]).count == 1)
    #expect(result.labels[0] != result.labels[50])
  }

  @Test func tooFewPointsAreAllNoise() {
    let result = HDBSCAN(points: [0, 0, 1, 1], rows: 2, columns: 2, minimumClusterSize: 15, minimumSamples: 5)
    #expect(result.labels == [-1, -1] && result.clusterCount == 0)
  }

  /// Extreme inputs a diverging run produces (DESIGN §6.5 runs on ΔŶ): NaN rows are noise,
  /// the finite rows are still clustered, and nothing traps.
  @Test func nonFiniteRowsAreNoiseAndTheRestIsClustered() {
    var points: [Double] = []
    for i in 0..<40 { points += [Double(i % 4) * 1e-3 + (i < 20 ? 0 : 1), 0] }  // two tight blobs
    for _ in 0..<10 { points += [.nan, 0] }
    for _ in 0..<5 { points += [.infinity, -.infinity] }
    let result = HDBSCAN(points: points, rows: 55, columns: 2, minimumClusterSize: 15, minimumSamples: 5)
    #expect(result.labels[40..<55].allSatisfy { $0 == -1 })
    #expect(result.clusterCount == 2)
    #expect(Set(result.labels[0..<20]).count == 1 && Set(result.labels[20..<40]).count == 1)
    #expect(result.labels[0] != result.labels[20] && result.labels[0] >= 0 && result.labels[20] >= 0)
  }

  @Test func allIdenticalPointsAndHugeValuesDoNotTrap() {
    let same = HDBSCAN(
      points: [Double](repeating: 0.25, count: 60), rows: 30, columns: 2, minimumClusterSize: 15, minimumSamples: 5)
    #expect(same.labels.count == 30)
    #expect(Set(same.labels).count == 1, "identical points share one label: \(same.labels)")
    // Distances overflow to +inf (1e200² > Double.max): every merge is at infinity.
    var huge: [Double] = []
    for i in 0..<30 { huge += [i.isMultiple(of: 2) ? 1e200 : -1e200, Double(i) * 1e199] }
    let result = HDBSCAN(points: huge, rows: 30, columns: 2, minimumClusterSize: 15, minimumSamples: 5)
    #expect(result.labels.count == 30)
    let nan = HDBSCAN(
      points: [Double](repeating: .nan, count: 60), rows: 30, columns: 2, minimumClusterSize: 15, minimumSamples: 5)
    #expect(nan.labels == [Int](repeating: -1, count: 30) && nan.clusterCount == 0)
  }
}

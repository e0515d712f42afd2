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
}

import Engine
import Testing

@testable import Prototypes

/// Lloyd's assignment step computes each point's k distances 8 at a time, then scans them
/// (`KMeans.nearest(norm:products:centreNorms:k:scratch:)`): the same index and distance as
/// the obvious scalar scan with `<`, for k with and without a remainder of 8, and with ties
/// (values from a small set, so equal distances are common).
@Suite struct KMeansNearestTests {
  @Test(arguments: [1, 5, 8, 13, 32, 33, 64])
  func vectorDistancesAndScanMatchTheObviousLoop(k: Int) {
    var generator = SplitMix64(seed: UInt64(k))
    func value() -> Double { Double(generator.next() % 7) * 0.25 - 0.5 }
    let scratch = UnsafeMutablePointer<Double>.allocate(capacity: k)
    defer { scratch.deallocate() }
    var ties = 0
    for _ in 0..<500 {
      let norm = value() + 2
      let products = (0..<k).map { _ in value() }
      let centreNorms = (0..<k).map { _ in value() + 1 }
      var best = 0
      var bestDistance = Double.infinity
      for c in 0..<k {
        let d = norm - 2 * products[c] + centreNorms[c]
        if d < bestDistance {
          bestDistance = d
          best = c
        }
      }
      let distances = (0..<k).map { norm - 2 * products[$0] + centreNorms[$0] }
      if distances.filter({ $0 == bestDistance }).count > 1 { ties += 1 }
      let fast = products.withUnsafeBufferPointer { products in
        centreNorms.withUnsafeBufferPointer { centreNorms in
          KMeans.nearest(
            norm: norm, products: products.baseAddress!, centreNorms: centreNorms.baseAddress!, k: k,
            scratch: scratch)
        }
      }
      #expect(fast.index == best && fast.distance == bestDistance, "k \(k): \(fast) against \(best), \(bestDistance)")
    }
    if k >= 8 { #expect(ties > 50, "k \(k): only \(ties) of 500 points had tied nearest centres") }
  }
}

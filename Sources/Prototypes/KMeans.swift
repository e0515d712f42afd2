import COpenBLAS
import Engine
import Foundation

/// k-means with k-means++ seeding (Arthur & Vassilvitskii 2007), Lloyd iterations, and the
/// best inertia over several seeded restarts.
public struct KMeans: Sendable, Equatable {
  /// Centres (K×p, row-major).
  public var centres: [Double]
  /// Cluster of each point.
  public var assignments: [Int]
  /// Sum of squared distances to the assigned centres.
  public var inertia: Double
  /// Number of clusters K.
  public var clusters: Int
  /// Point dimension p.
  public var dimension: Int

  /// Fits `points` (n×p).
  public init(
    fitting points: [Double], rows n: Int, columns p: Int, clusters k: Int, restarts: Int = 3, seed: UInt64,
    maximumIterations: Int = 100
  ) {
    precondition(n >= k && k > 0 && points.count == n * p, "KMeans: \(n) points of \(p) for \(k) clusters")
    var best: KMeans?
    var generator = SplitMix64(seed: seed)
    for _ in 0..<max(1, restarts) {
      let fit = Self.fitOnce(points, n, p, k, maximumIterations, &generator)
      if best == nil || fit.inertia < best?.inertia ?? .infinity { best = fit }
    }
    self = best ?? Self.fitOnce(points, n, p, k, maximumIterations, &generator)
  }

  /// Fits `points` (n×p) by Lloyd iterations from given `centres` (k×p), e.g. a previous fit's
  /// (a warm start: fewer iterations, and clusters that stay where they were).
  public init(
    fitting points: [Double], rows n: Int, columns p: Int, from centres: [Double], maximumIterations: Int = 100
  ) {
    let k = centres.count / max(1, p)
    precondition(n >= k && k > 0 && points.count == n * p && centres.count == k * p, "KMeans: bad warm start")
    self = Self.lloyd(points, n, p, k, centres: centres, iterations: maximumIterations)
  }

  init(centres: [Double], assignments: [Int], inertia: Double, clusters: Int, dimension: Int) {
    self.centres = centres
    self.assignments = assignments
    self.inertia = inertia
    self.clusters = clusters
    self.dimension = dimension
  }

  /// The nearest centre of each point (n×p).
  public func assign(_ points: [Double], rows n: Int) -> [Int] {
    (0..<n).map { Self.nearest(points, $0, dimension, centres, clusters).index }
  }

  static func nearest(_ x: [Double], _ i: Int, _ p: Int, _ centres: [Double], _ k: Int) -> (
    index: Int, distance: Double
  ) {
    var bestIndex = 0
    var bestDistance = Double.infinity
    for c in 0..<k {
      var d = 0.0
      for j in 0..<p {
        let diff = x[i * p + j] - centres[c * p + j]
        d += diff * diff
      }
      if d < bestDistance {
        bestDistance = d
        bestIndex = c
      }
    }
    return (bestIndex, bestDistance)
  }

  /// ‖a_i − b_j‖² for rows i of `a` and j of `b` (p columns).
  static func squaredDistance(_ a: [Double], _ i: Int, _ b: [Double], _ j: Int, _ p: Int) -> Double {
    var sum = 0.0
    for f in 0..<p {
      let d = a[i * p + f] - b[j * p + f]
      sum += d * d
    }
    return sum
  }

  static func fitOnce(_ x: [Double], _ n: Int, _ p: Int, _ k: Int, _ iterations: Int, _ generator: inout SplitMix64)
    -> KMeans
  {
    // Greedy k-means++ (Arthur & Vassilvitskii 2007; scikit-learn's default): first centre
    // uniform; each next one the best of 2 + ⌊ln k⌋ candidates drawn with probability ∝ D(x)²,
    // "best" = lowest total D² after adding it.
    var centres = [Double]()
    let first = Int(generator.next() % UInt64(n))
    centres += x[(first * p)..<(first * p + p)]
    var distances = (0..<n).map { i in squaredDistance(x, i, centres, 0, p) }
    let trials = 2 + Int(log(Double(k)))
    while centres.count < k * p {
      let total = distances.reduce(0, +)
      var best: (index: Int, distances: [Double], potential: Double)?
      for _ in 0..<trials {
        var candidate = Int(generator.next() % UInt64(n))
        if total > 0 {
          var target = Double(generator.next() >> 11) / Double(1 << 53) * total
          for i in 0..<n {
            target -= distances[i]
            if target <= 0 {
              candidate = i
              break
            }
          }
        }
        var updated = distances
        var potential = 0.0
        for i in 0..<n {
          updated[i] = min(updated[i], squaredDistance(x, i, x, candidate, p))
          potential += updated[i]
        }
        if best.map({ potential < $0.potential }) ?? true { best = (candidate, updated, potential) }
      }
      guard let chosen = best else { break }
      centres += x[(chosen.index * p)..<(chosen.index * p + p)]
      distances = chosen.distances
    }
    return lloyd(x, n, p, k, centres: centres, iterations: iterations)
  }

  /// Lloyd iterations from `centres` (k×p) until no assignment changes or `iterations` pass.
  static func lloyd(_ x: [Double], _ n: Int, _ p: Int, _ k: Int, centres start: [Double], iterations: Int) -> KMeans {
    var centres = start
    var assignments = [Int](repeating: -1, count: n)
    var inertia = 0.0
    let pointNorms = (0..<n).map { i in (0..<p).reduce(0.0) { $0 + x[i * p + $1] * x[i * p + $1] } }
    var products = [Double](repeating: 0, count: n * k)
    for _ in 0..<iterations {
      var changed = false
      inertia = 0
      // ‖x − c‖² = ‖x‖² − 2 x·c + ‖c‖², with all x·c from one dgemm (n×p · p×k).
      cblas_dgemm(
        CblasRowMajor, CblasNoTrans, CblasTrans, blasint(n), blasint(k), blasint(p), 1, x, blasint(p), centres,
        blasint(p), 0, &products, blasint(k))
      let centreNorms = (0..<k).map { c in (0..<p).reduce(0.0) { $0 + centres[c * p + $1] * centres[c * p + $1] } }
      for i in 0..<n {
        var best = 0
        var bestDistance = Double.infinity
        for c in 0..<k {
          let d = pointNorms[i] - 2 * products[i * k + c] + centreNorms[c]
          if d < bestDistance {
            bestDistance = d
            best = c
          }
        }
        inertia += max(0, bestDistance)
        if assignments[i] != best {
          assignments[i] = best
          changed = true
        }
      }
      if !changed { break }
      var sums = [Double](repeating: 0, count: k * p)
      var counts = [Int](repeating: 0, count: k)
      for i in 0..<n {
        counts[assignments[i]] += 1
        for j in 0..<p { sums[assignments[i] * p + j] += x[i * p + j] }
      }
      for c in 0..<k where counts[c] > 0 {
        for j in 0..<p { centres[c * p + j] = sums[c * p + j] / Double(counts[c]) }
      }
    }
    return KMeans(centres: centres, assignments: assignments, inertia: inertia, clusters: k, dimension: p)
  }
}

import COpenBLAS
import Engine
import Foundation

/// Ridge regression `β = (πᵀπ + λI)⁻¹ πᵀ C` on standardised columns, with λ chosen by k-fold
/// cross-validation over 10⁻³…10³ (DESIGN §6.6). π: n×p predictors (ΔP rows), C: n×q targets
/// (ΔŶ rows).
public struct RidgeCoupling: Sendable {
  /// Coefficients (p×q, row-major) in standardised units.
  public var beta: [Double]
  /// The λ chosen by cross-validation.
  public var lambda: Double
  /// Cross-validated R² at that λ (pooled over targets).
  public var crossValidatedR2: Double
  /// Predictors p and targets q.
  public var predictors: Int, targets: Int

  /// λ grid: 10^-3, 10^-2.5, …, 10^3.
  public static let lambdas: [Double] = (0...12).map { pow10(-3 + Double($0) * 0.5) }

  /// Fits with `folds`-fold CV (rows split by a seeded permutation).
  public init(x: [Double], y: [Double], rows n: Int, predictors p: Int, targets q: Int, folds: Int = 5, seed: UInt64) {
    precondition(
      x.count == n * p && y.count == n * q && n >= 2,
      "ridge: \(x.count) and \(y.count) values for n=\(n), p=\(p), q=\(q)")
    let xs = Standardised(x, n, p).values
    let ys = Standardised(y, n, q).values
    var generator = SplitMix64(seed: seed)
    let order = Array(0..<n).shuffled(using: &generator)
    let k = max(2, min(folds, n))
    var bestLambda = Self.lambdas[0]
    var bestR2 = -Double.infinity
    for lambda in Self.lambdas {
      let r2 = Self.crossValidatedR2(xs, ys, n, p, q, lambda, folds: k, order: order)
      if r2 > bestR2 {
        bestR2 = r2
        bestLambda = lambda
      }
    }
    beta = Self.solve(xs, ys, rows: Array(0..<n), p, q, bestLambda)
    lambda = bestLambda
    crossValidatedR2 = bestR2
    predictors = p
    targets = q
  }

  /// Pooled out-of-fold R² of standardised data at a fixed λ.
  static func crossValidatedR2(
    _ xs: [Double], _ ys: [Double], _ n: Int, _ p: Int, _ q: Int, _ lambda: Double, folds k: Int, order: [Int]
  ) -> Double {
    var sse = 0.0
    var sst = 0.0
    for fold in 0..<k {
      let test = Set(stride(from: fold, to: n, by: k).map { order[$0] })
      let train = (0..<n).filter { !test.contains($0) }
      let b = solve(xs, ys, rows: train, p, q, lambda)
      for j in 0..<q {
        let mean = train.reduce(0.0) { $0 + ys[$1 * q + j] } / Double(max(1, train.count))
        for i in test {
          var prediction = 0.0
          for f in 0..<p { prediction += xs[i * p + f] * b[f * q + j] }
          sse += (ys[i * q + j] - prediction) * (ys[i * q + j] - prediction)
          sst += (ys[i * q + j] - mean) * (ys[i * q + j] - mean)
        }
      }
    }
    return sst > 0 ? 1 - sse / sst : 0
  }

  /// Coefficients of a fit at a fixed λ on the given rows (standardised inputs).
  public static func coefficients(
    x: [Double], y: [Double], rows: [Int], predictors p: Int, targets q: Int, lambda: Double
  ) -> [Double] {
    let n = x.count / max(1, p)
    return solve(Standardised(x, n, p).values, Standardised(y, n, q).values, rows: rows, p, q, lambda)
  }

  /// (XᵀX + λI) B = XᵀY over `rows`, solved with LAPACK `dgesv`.
  static func solve(_ x: [Double], _ y: [Double], rows: [Int], _ p: Int, _ q: Int, _ lambda: Double) -> [Double] {
    var gram = [Double](repeating: 0, count: p * p)
    var rhs = [Double](repeating: 0, count: p * q)
    for i in rows {
      for a in 0..<p {
        let xa = x[i * p + a]
        if xa == 0 { continue }
        for b in 0..<p { gram[a * p + b] += xa * x[i * p + b] }
        for j in 0..<q { rhs[a * q + j] += xa * y[i * q + j] }
      }
    }
    for a in 0..<p { gram[a * p + a] += lambda }
    // LAPACK is column-major: the Gram matrix is symmetric; the right-hand side is transposed.
    var columnMajor = [Double](repeating: 0, count: p * q)
    for a in 0..<p { for j in 0..<q { columnMajor[j * p + a] = rhs[a * q + j] } }
    var n = Int32(p)
    var nrhs = Int32(q)
    var lda = Int32(p)
    var ldb = Int32(p)
    var pivots = [Int32](repeating: 0, count: p)
    var info: Int32 = 0
    dgesv_(&n, &nrhs, &gram, &lda, &pivots, &columnMajor, &ldb, &info)
    guard info == 0 else { return [Double](repeating: 0, count: p * q) }
    var out = [Double](repeating: 0, count: p * q)
    for a in 0..<p { for j in 0..<q { out[a * q + j] = columnMajor[j * p + a] } }
    return out
  }

  /// Cross-validated R² at `lambda` of `permutations` fits with the rows of x shuffled: the
  /// null a real coupling must beat (its 95th percentile).
  public static func permutationNull(
    x: [Double], y: [Double], rows n: Int, predictors p: Int, targets q: Int, lambda: Double, permutations: Int = 50,
    seed: UInt64
  ) -> [Double] {
    var generator = SplitMix64(seed: seed ^ 0xC0FFEE)
    let xs = Standardised(x, n, p).values
    let ys = Standardised(y, n, q).values
    let order = Array(0..<n).shuffled(using: &generator)
    return (0..<permutations).map { _ in
      let permutation = Array(0..<n).shuffled(using: &generator)
      var shuffled = [Double](repeating: 0, count: n * p)
      for i in 0..<n { for f in 0..<p { shuffled[i * p + f] = xs[permutation[i] * p + f] } }
      return crossValidatedR2(shuffled, ys, n, p, q, lambda, folds: min(5, n), order: order)
    }
  }
}

/// Columns scaled to zero mean and unit variance (constant columns become 0).
struct Standardised {
  var values: [Double]

  init(_ data: [Double], _ n: Int, _ p: Int) {
    values = data
    for j in 0..<p {
      var mean = 0.0
      for i in 0..<n { mean += data[i * p + j] }
      mean /= Double(max(1, n))
      var variance = 0.0
      for i in 0..<n { variance += (data[i * p + j] - mean) * (data[i * p + j] - mean) }
      let sd = (variance / Double(max(1, n))).squareRoot()
      for i in 0..<n { values[i * p + j] = sd > 1e-12 ? (data[i * p + j] - mean) / sd : 0 }
    }
  }
}

private func pow10(_ x: Double) -> Double { exp(x * log(10)) }

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
  /// Seed of the fold assignment; the permutation null reuses the same folds.
  public var foldSeed: UInt64

  /// λ grid: 10^-3, 10^-2.5, …, 10^3.
  public static let lambdas: [Double] = (0...12).map { pow10(-3 + Double($0) * 0.5) }

  /// Fits with `folds`-fold CV (rows split by a seeded permutation).
  public init(x: [Double], y: [Double], rows n: Int, predictors p: Int, targets q: Int, folds: Int = 5, seed: UInt64) {
    precondition(
      x.count == n * p && y.count == n * q && n >= 2,
      "ridge: \(x.count) and \(y.count) values for n=\(n), p=\(p), q=\(q)")
    let xs = Standardised(x, n, p).values
    let ys = Standardised(y, n, q).values
    let order = Self.foldOrder(n, seed: seed)
    let k = max(2, min(folds, n))
    let scores = Self.crossValidatedR2(xs, ys, n, p, q, lambdas: Self.lambdas, folds: k, order: order)
    let best = scores.indices.max { scores[$0] < scores[$1] } ?? 0
    let bestLambda = Self.lambdas[best]
    let bestR2 = scores[best]
    beta = Self.solve(xs, ys, rows: Array(0..<n), p, q, bestLambda)
    lambda = bestLambda
    crossValidatedR2 = bestR2
    predictors = p
    targets = q
    foldSeed = seed
  }

  /// Out-of-fold R² (pooled over targets) at each of `lambdas`, on the folds `foldSeed` makes,
  /// for raw x (n×p) and y (n×q), standardised as the fit does: what `init` maximises.
  public static func crossValidatedR2(
    x: [Double], y: [Double], rows n: Int, predictors p: Int, targets q: Int, lambdas: [Double], folds: Int = 5,
    foldSeed: UInt64
  ) -> [Double] {
    crossValidatedR2(
      Standardised(x, n, p).values, Standardised(y, n, q).values, n, p, q, lambdas: lambdas,
      folds: max(2, min(folds, n)), order: foldOrder(n, seed: foldSeed))
  }

  /// The row order whose stride-k slices are the CV folds (fold f = rows order[f], order[f+k], …).
  public static func foldOrder(_ n: Int, seed: UInt64) -> [Int] {
    var generator = SplitMix64(seed: seed)
    return Array(0..<n).shuffled(using: &generator)
  }

  /// Cross-validated R² at this fit's λ, on its folds, of `permutations` refits with the rows
  /// of x shuffled: the null the fit's CV R² must beat (its 95th percentile). Same folds and
  /// the same per-fold centring as the fit, so the two are comparable.
  public func permutationNull(x: [Double], y: [Double], rows n: Int, permutations: Int = 50, seed: UInt64) -> [Double] {
    Self.permutationNull(
      x: x, y: y, rows: n, predictors: predictors, targets: targets, lambda: lambda, permutations: permutations,
      foldSeed: foldSeed, seed: seed)
  }

  /// Pooled out-of-fold R² of standardised data at a fixed λ.
  static func crossValidatedR2(
    _ xs: [Double], _ ys: [Double], _ n: Int, _ p: Int, _ q: Int, _ lambda: Double, folds k: Int, order: [Int]
  ) -> Double {
    crossValidatedR2(xs, ys, n, p, q, lambdas: [lambda], folds: k, order: order)[0]
  }

  /// Out-of-fold R² for several λ at once: each fold's Gram matrix is the full one minus the
  /// fold's, computed once and reused for every λ. Each fold is centred on its training rows'
  /// means (x and y), and SST is taken around the training mean of y, so no statistic of the
  /// held-out rows leaks into the fit (centring over all rows biases R² up by about 2.25/n).
  static func crossValidatedR2(
    _ xs: [Double], _ ys: [Double], _ n: Int, _ p: Int, _ q: Int, lambdas: [Double], folds k: Int, order: [Int]
  ) -> [Double] {
    let all = Gram(x: xs, y: ys, rows: Array(0..<n), p, q)
    var sse = [Double](repeating: 0, count: lambdas.count)
    var sst = 0.0
    for fold in 0..<k {
      let test = stride(from: fold, to: n, by: k).map { order[$0] }
      let held = Gram(x: xs, y: ys, rows: test, p, q)
      let trainCount = Double(n - test.count)
      let train = all.subtracting(held).centred(rows: trainCount)
      let (meanX, meanY) = train.means
      for j in 0..<q {
        for i in test { sst += (ys[i * q + j] - meanY[j]) * (ys[i * q + j] - meanY[j]) }
      }
      for (index, lambda) in lambdas.enumerated() {
        let b = train.solve(lambda)
        for i in test {
          for j in 0..<q {
            var prediction = meanY[j]
            for f in 0..<p { prediction += (xs[i * p + f] - meanX[f]) * b[f * q + j] }
            sse[index] += (ys[i * q + j] - prediction) * (ys[i * q + j] - prediction)
          }
        }
      }
    }
    return sse.map { sst > 0 ? 1 - $0 / sst : 0 }
  }

  /// Coefficients of a fit at a fixed λ on the given rows (columns standardised over all rows).
  public static func coefficients(
    x: [Double], y: [Double], rows: [Int], predictors p: Int, targets q: Int, lambda: Double
  ) -> [Double] {
    let n = x.count / max(1, p)
    return solve(Standardised(x, n, p).values, Standardised(y, n, q).values, rows: rows, p, q, lambda)
  }

  /// (XᵀX + λI) B = XᵀY over `rows`.
  static func solve(_ x: [Double], _ y: [Double], rows: [Int], _ p: Int, _ q: Int, _ lambda: Double) -> [Double] {
    Gram(x: x, y: y, rows: rows, p, q).solve(lambda)
  }

  /// Cross-validated R² at `lambda` of `permutations` fits with the rows of x shuffled: the
  /// null a real coupling must beat (its 95th percentile). `foldSeed` must be the fit's, so
  /// the null uses the same folds (`RidgeCoupling.permutationNull(x:y:rows:permutations:seed:)`
  /// passes it).
  public static func permutationNull(
    x: [Double], y: [Double], rows n: Int, predictors p: Int, targets q: Int, lambda: Double, permutations: Int = 50,
    foldSeed: UInt64, seed: UInt64
  ) -> [Double] {
    var generator = SplitMix64(seed: seed ^ 0xC0FFEE)
    let xs = Standardised(x, n, p).values
    let ys = Standardised(y, n, q).values
    let order = foldOrder(n, seed: foldSeed)
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

/// XᵀX (p×p), XᵀY (p×q) and column sums of Y over a set of rows, by OpenBLAS `dgemm`.
struct Gram {
  var xx: [Double]
  var xy: [Double]
  var ySums: [Double]
  var xSums: [Double]
  /// Rows summed (set by `centred`; 0 means unknown).
  var count = 0.0
  let p: Int, q: Int

  init(x: [Double], y: [Double], rows: [Int], _ p: Int, _ q: Int) {
    self.p = p
    self.q = q
    let m = rows.count
    var gx = [Double](repeating: 0, count: m * p)
    var gy = [Double](repeating: 0, count: m * q)
    var sums = [Double](repeating: 0, count: q)
    var xSums = [Double](repeating: 0, count: p)
    for (r, i) in rows.enumerated() {
      for f in 0..<p {
        gx[r * p + f] = x[i * p + f]
        xSums[f] += x[i * p + f]
      }
      for j in 0..<q {
        gy[r * q + j] = y[i * q + j]
        sums[j] += y[i * q + j]
      }
    }
    var xx = [Double](repeating: 0, count: p * p)
    var xy = [Double](repeating: 0, count: p * q)
    if m > 0 {
      cblas_dgemm(
        CblasRowMajor, CblasTrans, CblasNoTrans, blasint(p), blasint(p), blasint(m), 1, gx, blasint(p), gx, blasint(p),
        0, &xx, blasint(p))
      cblas_dgemm(
        CblasRowMajor, CblasTrans, CblasNoTrans, blasint(p), blasint(q), blasint(m), 1, gx, blasint(p), gy, blasint(q),
        0, &xy, blasint(q))
    }
    self.xx = xx
    self.xy = xy
    ySums = sums
    self.xSums = xSums
  }

  func subtracting(_ other: Gram) -> Gram {
    var out = self
    for i in 0..<xx.count { out.xx[i] -= other.xx[i] }
    for i in 0..<xy.count { out.xy[i] -= other.xy[i] }
    for j in 0..<q { out.ySums[j] -= other.ySums[j] }
    for f in 0..<p { out.xSums[f] -= other.xSums[f] }
    return out
  }

  /// Column means of x and y over the `rows` rows summed.
  var means: (x: [Double], y: [Double]) {
    let m = max(1, count)
    return (xSums.map { $0 / m }, ySums.map { $0 / m })
  }

  /// The Gram matrices of the same rows centred on their own means:
  /// XᵀX − m·μₓμₓᵀ and XᵀY − m·μₓμᵧᵀ (sums unchanged, so `means` still gives μ).
  func centred(rows m: Double) -> Gram {
    var out = self
    out.count = m
    let (mx, my) = out.means
    for a in 0..<p {
      for b in 0..<p { out.xx[a * p + b] -= m * mx[a] * mx[b] }
      for j in 0..<q { out.xy[a * q + j] -= m * mx[a] * my[j] }
    }
    return out
  }

  /// B (p×q) solving (XᵀX + λI) B = XᵀY with LAPACK `dgesv`; zeros if singular.
  func solve(_ lambda: Double) -> [Double] {
    var gram = xx
    for a in 0..<p { gram[a * p + a] += lambda }
    // Column-major for LAPACK: the Gram matrix is symmetric; the right-hand side is transposed.
    var columnMajor = [Double](repeating: 0, count: p * q)
    for a in 0..<p { for j in 0..<q { columnMajor[j * p + a] = xy[a * q + j] } }
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
}

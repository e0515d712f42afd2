import COpenBLAS
import Foundation
import Prototypes

/// The Fréchet distance between two Gaussians fitted to feature sets (Heusel et al. 2017, the
/// FID formula): `‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2 (Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2})`, with the matrix
/// square roots taken by LAPACK symmetric eigen-decompositions (negative eigenvalues from
/// rounding are clipped to 0). Covariances are unbiased (divide by n − 1).
public enum FrechetDistance {
  /// The distance between the rows of `a` (n₁×d) and of `b` (n₂×d), both row-major.
  public static func distance(_ a: [Double], _ b: [Double], dimension d: Int) -> Double {
    let (meanA, covA) = moments(a, dimension: d)
    let (meanB, covB) = moments(b, dimension: d)
    var meanTerm = 0.0
    for k in 0..<d { meanTerm += (meanA[k] - meanB[k]) * (meanA[k] - meanB[k]) }
    var trace = 0.0
    for k in 0..<d { trace += covA[k * d + k] + covB[k * d + k] }
    // S = Σ₁^{1/2} (symmetric), M = S Σ₂ S, tr M^{1/2} = Σ √λ(M).
    let root = squareRoot(covA, dimension: d)
    let m = multiply(multiply(root, covB, d), root, d)
    var symmetric = m
    for i in 0..<d { for j in 0..<d { symmetric[i * d + j] = 0.5 * (m[i * d + j] + m[j * d + i]) } }
    let values = SymmetricEigen.decompose(symmetric, dimension: d).values
    let traceRoot = values.reduce(0) { $0 + max($1, 0).squareRoot() }
    return max(0, meanTerm + trace - 2 * traceRoot)
  }

  /// Mean (d) and unbiased covariance (d×d) of the rows.
  static func moments(_ rows: [Double], dimension d: Int) -> ([Double], [Double]) {
    let n = rows.count / d
    precondition(n >= 2 && rows.count == n * d, "FrechetDistance: need ≥ 2 rows of \(d), got \(rows.count) values")
    var mean = [Double](repeating: 0, count: d)
    for i in 0..<n { for k in 0..<d { mean[k] += rows[i * d + k] } }
    for k in 0..<d { mean[k] /= Double(n) }
    var centred = rows
    for i in 0..<n { for k in 0..<d { centred[i * d + k] -= mean[k] } }
    // Σ = Xcᵀ Xc / (n − 1).
    var cov = [Double](repeating: 0, count: d * d)
    cblas_dgemm(
      CblasRowMajor, CblasTrans, CblasNoTrans, blasint(d), blasint(d), blasint(n), 1 / Double(n - 1), centred,
      blasint(d), centred, blasint(d), 0, &cov, blasint(d))
    return (mean, cov)
  }

  /// The symmetric positive semi-definite square root V diag(√λ₊) Vᵀ (dsyevd's vectors are
  /// column-major: vector e is `vectors[e·d ..< (e+1)·d]`).
  static func squareRoot(_ matrix: [Double], dimension d: Int) -> [Double] {
    let (values, vectors) = SymmetricEigen.decompose(matrix, dimension: d)
    // Rows of `scaled` are √λ_e · v_eᵀ; the root is scaledᵀ · V-rows = Σ_e √λ_e v_e v_eᵀ.
    var scaled = vectors
    for e in 0..<d {
      let r = max(values[e], 0).squareRoot()
      for i in 0..<d { scaled[e * d + i] *= r }
    }
    var out = [Double](repeating: 0, count: d * d)
    let n = blasint(d)
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, n, n, 1, scaled, n, vectors, n, 0, &out, n)
    return out
  }

  /// a · b for d×d row-major matrices (BLAS).
  static func multiply(_ a: [Double], _ b: [Double], _ d: Int) -> [Double] {
    var out = [Double](repeating: 0, count: d * d)
    let n = blasint(d)
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, &out, n)
    return out
  }
}

/// A binomial proportion with its Wilson score 95% interval (computed by `BinomialInterval`).
public struct Proportion: Codable, Equatable, Sendable {
  /// Successes.
  public var hits: Int
  /// Trials.
  public var trials: Int
  /// hits / trials (0 for no trials).
  public var rate: Double
  /// Wilson 95% interval.
  public var low: Double, high: Double

  /// The proportion hits/trials with its Wilson interval: the findings' `BinomialInterval`
  /// (one formula), under the explainer's JSON keys (`hits`, `low`, `high`).
  public init(hits: Int, trials: Int) {
    let interval = BinomialInterval(successes: hits, trials: trials)
    self.hits = hits
    self.trials = trials
    rate = interval.rate
    low = interval.lower
    high = interval.upper
  }
}

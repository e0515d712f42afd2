import COpenBLAS

/// Principal component analysis by eigen-decomposition of the covariance matrix (LAPACK
/// `dsyevd` from OpenBLAS; no hand-rolled eigen-solver).
///
/// Keeps the smallest number of leading components whose explained variance reaches
/// `varianceTarget`, capped at `maximumComponents` (DESIGN §6.2: 95%, 32 for 28×28 inputs).
public struct PCA: Sendable, Equatable {
  /// Column means (d).
  public var mean: [Double]
  /// Components (k×d, row-major), orthonormal rows, by decreasing variance.
  public var components: [Double]
  /// Variance along each kept component.
  public var variances: [Double]
  /// Fraction of the total variance the kept components explain.
  public var explained: Double
  /// Input dimension d.
  public var dimension: Int

  /// Number of kept components k.
  public var count: Int { variances.count }

  /// Fits rows of `data` (n×d, row-major).
  public init(
    fitting data: [Float], rows n: Int, columns d: Int, varianceTarget: Double = 0.95, maximumComponents: Int = 32
  ) {
    precondition(n > 0 && d > 0 && data.count == n * d, "PCA: \(data.count) values for \(n)×\(d)")
    var mean = [Double](repeating: 0, count: d)
    for i in 0..<n { for j in 0..<d { mean[j] += Double(data[i * d + j]) } }
    for j in 0..<d { mean[j] /= Double(n) }
    // Covariance (column-major == row-major: it is symmetric): XᵀX/(n−1) of the centred rows,
    // accumulated by BLAS `dsyrk` over blocks of rows (the upper triangle), then mirrored.
    var covariance = [Double](repeating: 0, count: d * d)
    let block = 4096
    var centered = [Double](repeating: 0, count: min(n, block) * d)
    var start = 0
    while start < n {
      let rows = min(block, n - start)
      for i in 0..<rows {
        for j in 0..<d { centered[i * d + j] = Double(data[(start + i) * d + j]) - mean[j] }
      }
      cblas_dsyrk(
        CblasRowMajor, CblasUpper, CblasTrans, blasint(d), blasint(rows), 1 / Double(max(1, n - 1)), centered,
        blasint(d), start == 0 ? 0 : 1, &covariance, blasint(d))
      start += rows
    }
    for a in 0..<d { for b in a..<d { covariance[b * d + a] = covariance[a * d + b] } }
    let (values, vectors) = SymmetricEigen.decompose(covariance, dimension: d)
    // dsyevd returns ascending eigenvalues; walk from the largest.
    let total = values.reduce(0) { $0 + max(0, $1) }
    var kept: [Int] = []
    var sum = 0.0
    for index in stride(from: d - 1, through: 0, by: -1) {
      kept.append(index)
      sum += max(0, values[index])
      if total <= 0 || sum / total >= varianceTarget || kept.count >= maximumComponents { break }
    }
    var components = [Double]()
    for index in kept {
      // Column `index` of the column-major eigenvector matrix.
      var vector = (0..<d).map { vectors[index * d + $0] }
      // Fix the sign (largest |entry| positive) so fits are reproducible.
      if let largest = vector.indices.max(by: { abs(vector[$0]) < abs(vector[$1]) }), vector[largest] < 0 {
        vector = vector.map { -$0 }
      }
      components += vector
    }
    self.mean = mean
    self.components = components
    self.variances = kept.map { max(0, values[$0]) }
    self.explained = total > 0 ? sum / total : 1
    self.dimension = d
  }

  /// A fitted PCA from its parts (as carried by a `VocabularyBasis`); variances are unknown.
  public init(mean: [Double], components: [Double], dimension: Int) {
    precondition(
      mean.count == dimension && dimension > 0 && components.count % dimension == 0,
      "PCA: \(mean.count) means and \(components.count) component values for d=\(dimension)")
    self.mean = mean
    self.components = components
    self.variances = [Double](repeating: 0, count: components.count / dimension)
    self.explained = 0
    self.dimension = dimension
  }

  /// Projects rows (n×d) onto the components: (n×k).
  public func transform(_ data: [Float], rows n: Int) -> [Double] {
    precondition(data.count == n * dimension, "PCA.transform: \(data.count) values for \(n)×\(dimension)")
    let k = count
    var centered = [Double](repeating: 0, count: n * dimension)
    for i in 0..<n {
      for j in 0..<dimension { centered[i * dimension + j] = Double(data[i * dimension + j]) - mean[j] }
    }
    var out = [Double](repeating: 0, count: n * k)
    cblas_dgemm(
      CblasRowMajor, CblasNoTrans, CblasTrans, blasint(n), blasint(k), blasint(dimension), 1, centered,
      blasint(dimension),
      components, blasint(dimension), 0, &out, blasint(k))
    return out
  }
}

/// Eigen-decomposition of a symmetric matrix with LAPACK's `dsyevd`.
public enum SymmetricEigen {
  /// Eigenvalues (ascending) and eigenvectors (column-major, column i for value i) of the
  /// symmetric d×d matrix `matrix`.
  public static func decompose(_ matrix: [Double], dimension d: Int) -> (values: [Double], vectors: [Double]) {
    precondition(matrix.count == d * d, "SymmetricEigen: \(matrix.count) values for \(d)×\(d)")
    var a = matrix
    var w = [Double](repeating: 0, count: d)
    var n = Int32(d)
    var lda = Int32(d)
    var info: Int32 = 0
    var jobz = CChar(UInt8(ascii: "V"))
    var uplo = CChar(UInt8(ascii: "U"))
    // Workspace query, then the real call.
    var workSize = 0.0
    var iworkSize: Int32 = 0
    var query: Int32 = -1
    dsyevd_(&jobz, &uplo, &n, &a, &lda, &w, &workSize, &query, &iworkSize, &query, &info)
    var lwork = Int32(workSize)
    var liwork = iworkSize
    var work = [Double](repeating: 0, count: Int(max(1, lwork)))
    var iwork = [Int32](repeating: 0, count: Int(max(1, liwork)))
    dsyevd_(&jobz, &uplo, &n, &a, &lda, &w, &work, &lwork, &iwork, &liwork, &info)
    precondition(info == 0, "dsyevd failed with info \(info) (a NaN in the covariance?)")
    return (w, a)
  }
}

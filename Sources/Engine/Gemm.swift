import COpenBLAS
import Glibc

/// Single-precision matrix multiply over OpenBLAS: `C = alpha·op(A)·op(B) + beta·C`, row-major.
///
/// Shapes: `op(A)` is m×k, `op(B)` is k×n, `C` is m×n. Leading dimensions are row strides
/// of the stored (untransposed) matrices.
public enum Gemm {
  /// Runs `cblas_sgemm` on raw pointers (row-major).
  /// - Parameters:
  ///   - transposeA: use Aᵀ (A stored k×m) instead of A (stored m×k).
  ///   - transposeB: use Bᵀ (B stored n×k) instead of B (stored k×n).
  ///   - parallel: false on a thread that is itself one of the engine's workers.
  @inlinable
  public static func multiply(
    transposeA: Bool = false, transposeB: Bool = false,
    m: Int, n: Int, k: Int, alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0,
    c: UnsafeMutablePointer<Float>, ldc: Int, parallel: Bool = true
  ) {
    precondition(m >= 0 && n >= 0 && k >= 0, "gemm: negative size m=\(m) n=\(n) k=\(k)")
    if m == 0 || n == 0 { return }
    EngineRuntime.configure()
    let workers = Parallel.workers
    guard parallel, workers > 1, m * n * k >= 1 << 18, !Parallel.isSerialHere else {
      return kernel(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }
    // Our threads, single-threaded OpenBLAS in each: split the larger output dimension.
    if n >= m {
      Parallel.forEach(0..<workers) { part in
        let (start, end) = (part * n / workers, (part + 1) * n / workers)
        kernel(
          transposeA, transposeB, m, end - start, k, alpha, a, lda,
          transposeB ? b + start * ldb : b + start, ldb, beta, c + start, ldc)
      }
    } else {
      Parallel.forEach(0..<workers) { part in
        let (start, end) = (part * m / workers, (part + 1) * m / workers)
        kernel(
          transposeA, transposeB, end - start, n, k, alpha, transposeA ? a + start : a + start * lda, lda,
          b, ldb, beta, c + start * ldc, ldc)
      }
    }
  }

  @usableFromInline
  static func kernel(
    _ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
    _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int, _ beta: Float,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int
  ) {
    if m == 0 || n == 0 { return }
    cblas_sgemm(
      CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
      blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
  }

  /// Multiplies two rank-2 tensors: `op(a) · op(b)`.
  public static func matmul(
    _ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false
  ) -> Tensor {
    precondition(a.rank == 2 && b.rank == 2, "matmul needs rank-2 tensors, got \(a.shape) and \(b.shape)")
    let (m, ka) = transposeA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
    let (kb, n) = transposeB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
    precondition(
      ka == kb, "matmul inner sizes differ: \(a.shape)\(transposeA ? "ᵀ" : "") × \(b.shape)\(transposeB ? "ᵀ" : "")")
    var out = Tensor(shape: [m, n])
    a.withPointer { pa in
      b.withPointer { pb in
        out.withMutablePointer { pc in
          multiply(
            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: ka,
            a: pa, lda: a.shape[1], b: pb, ldb: b.shape[1], c: pc, ldc: n)
        }
      }
    }
    return out
  }

  /// The obviously-correct triple loop (accumulating in Double) that `matmul` is tested against.
  public static func referenceMatmul(
    _ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false
  ) -> Tensor {
    let (m, k) = transposeA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
    let n = transposeB ? b.shape[0] : b.shape[1]
    var out = Tensor(shape: [m, n])
    for i in 0..<m {
      for j in 0..<n {
        var sum = 0.0
        for p in 0..<k {
          let x = transposeA ? a.scalars[p * a.shape[1] + i] : a.scalars[i * a.shape[1] + p]
          let y = transposeB ? b.scalars[j * b.shape[1] + p] : b.scalars[p * b.shape[1] + j]
          sum += Double(x) * Double(y)
        }
        out.scalars[i * n + j] = Float(sum)
      }
    }
    return out
  }
}

import COpenBLAS
import Glibc

/// Process-wide settings the engine needs for speed, applied once before the first GEMM.
///
/// - OpenBLAS runs single-threaded: the engine splits work over its own threads
///   (`Parallel`), so BLAS threads never spin against ours on a small machine.
/// - glibc keeps freed large blocks instead of returning them to the kernel, so the
///   per-step activation buffers are reused rather than page-faulted in anew each step. The
///   mmap threshold is 32 MB, glibc's maximum on 64-bit (a larger value is refused and
///   leaves the default in place).
public enum EngineRuntime {
  private static let applied: Bool = {
    openblas_set_num_threads(1)
    mallopt(M_MMAP_THRESHOLD, 32 << 20)
    mallopt(M_TRIM_THRESHOLD, 1 << 30)
    return true
  }()

  /// Applies the settings (idempotent, thread-safe).
  @inlinable
  public static func configure() { _ = isApplied }

  @usableFromInline
  static var isApplied: Bool { applied }
}

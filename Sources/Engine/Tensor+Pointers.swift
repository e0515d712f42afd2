/// A one-scalar allocation standing in for the base address of an empty buffer, so that
/// pointer-taking kernels never need a force unwrap; kernels never read it (their counts are 0).
nonisolated(unsafe) private let emptyScalars = UnsafeMutablePointer<Float>.allocate(capacity: 1)

extension Tensor {
  /// Calls `body` with a pointer to the scalars (valid only inside `body`).
  @inlinable
  public func withPointer<R>(_ body: (UnsafePointer<Float>) throws -> R) rethrows -> R {
    try scalars.withUnsafeBufferPointer { try body($0.baseAddress ?? UnsafePointer(Tensor.emptyBase)) }
  }

  /// Calls `body` with a mutable pointer to the scalars (valid only inside `body`).
  @inlinable
  public mutating func withMutablePointer<R>(
    _ body: (UnsafeMutablePointer<Float>) throws -> R
  ) rethrows -> R {
    try scalars.withUnsafeMutableBufferPointer { try body($0.baseAddress ?? Tensor.emptyBase) }
  }

  /// Base address used for empty tensors.
  @usableFromInline
  static var emptyBase: UnsafeMutablePointer<Float> { emptyScalars }
}

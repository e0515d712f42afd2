/// A dense Float32 tensor: a shape and its row-major (C-contiguous) scalars.
///
/// Images are NCHW. A `Tensor` is a value type; copies share storage until written
/// (Swift's array copy-on-write), so passing one around is cheap.
public struct Tensor: Equatable, Sendable {
  /// The extent of each dimension, outermost first.
  public var shape: [Int]
  /// `shape.reduce(1, *)` scalars in row-major order.
  public var scalars: [Float]

  /// Creates a tensor from a shape and matching scalars.
  /// - Precondition: `scalars.count == shape.reduce(1, *)`.
  public init(shape: [Int], scalars: [Float]) {
    precondition(
      shape.allSatisfy { $0 >= 0 } && shape.reduce(1, *) == scalars.count,
      "Tensor shape \(shape) needs \(shape.reduce(1, *)) scalars, got \(scalars.count)")
    self.shape = shape
    self.scalars = scalars
  }

  /// A tensor of the given shape filled with `value` (zero by default).
  public init(shape: [Int], repeating value: Float = 0) {
    precondition(shape.allSatisfy { $0 >= 0 }, "Tensor shape \(shape) has a negative extent")
    self.shape = shape
    self.scalars = [Float](repeating: value, count: shape.reduce(1, *))
  }

  /// A tensor whose scalars the caller overwrites completely before reading any
  /// (skips the zero fill on hot paths); `initializer` receives the buffer.
  @inlinable
  public init(shape: [Int], overwriting initializer: (UnsafeMutablePointer<Float>) -> Void) {
    let count = shape.reduce(1, *)
    self.shape = shape
    self.scalars = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
      if let base = buffer.baseAddress { initializer(base) }
      initialized = count
    }
  }

  /// Number of scalars.
  public var count: Int { scalars.count }

  /// Number of dimensions.
  public var rank: Int { shape.count }

  /// The same scalars viewed with another shape of equal size.
  public func reshaped(_ newShape: [Int]) -> Tensor {
    Tensor(shape: newShape, scalars: scalars)
  }

  /// The `index`-th slice along the first dimension (e.g. one image of a batch).
  public func slice(_ index: Int) -> Tensor {
    precondition(rank >= 1 && index >= 0 && index < shape[0], "slice \(index) out of \(shape)")
    let inner = Array(shape.dropFirst())
    let size = inner.reduce(1, *)
    return Tensor(shape: inner, scalars: Array(scalars[index * size..<(index + 1) * size]))
  }

  /// Stacks equally shaped tensors along a new first dimension.
  public static func stack(_ parts: [Tensor]) -> Tensor {
    precondition(!parts.isEmpty, "stack needs at least one tensor")
    let inner = parts[0].shape
    var scalars = [Float]()
    scalars.reserveCapacity(parts.count * parts[0].count)
    for part in parts {
      precondition(part.shape == inner, "stack: shape \(part.shape) differs from \(inner)")
      scalars.append(contentsOf: part.scalars)
    }
    return Tensor(shape: [parts.count] + inner, scalars: scalars)
  }
}

/// Splits the feature dimension into a shape, like PyTorch's `nn.Unflatten(1, shape)`:
/// (N, F) → (N, d1, d2, …) with `F = d1·d2·…` (for a decoder, (N, C·H·W) → (N, C, H, W)).
/// The scalars are not moved; backward reshapes the gradient back to (N, F).
public final class Unflatten: Layer {
  public let name: String
  /// The shape each example's features take, e.g. [C, H, W].
  public let shape: [Int]
  /// F, the product of `shape`.
  public let features: Int

  /// Creates the layer (no parameters).
  /// - Precondition: `shape` is non-empty, positive, and its product fits in `Int`.
  public init(name: String, shape: [Int]) {
    precondition(!shape.isEmpty && shape.allSatisfy { $0 > 0 }, "\(name): Unflatten shape \(shape) must be positive")
    var product = 1
    for extent in shape {
      let (next, overflow) = product.multipliedReportingOverflow(by: extent)
      precondition(!overflow, "\(name): Unflatten shape \(shape) has more than \(Int.max) elements")
      product = next
    }
    self.name = name
    self.shape = shape
    self.features = product
  }

  public func outputShape(for s: [Int]) -> [Int]? {
    s.count == 2 && s[1] == features ? [s[0]] + shape : nil
  }

  public func forward(_ input: Tensor, training: Bool) -> Tensor {
    guard let outShape = outputShape(for: input.shape) else {
      preconditionFailure("\(name): Unflatten to \(shape) needs (N,\(features)), got \(input.shape)")
    }
    return input.reshaped(outShape)
  }

  public func backward(_ gradOutput: Tensor, needs: BackwardNeeds) -> Tensor {
    precondition(
      gradOutput.rank == shape.count + 1 && Array(gradOutput.shape.dropFirst()) == shape,
      "\(name): gradient \(gradOutput.shape) does not match the last output")
    return needs.inputGradient ? gradOutput.reshaped([gradOutput.shape[0], features]) : Tensor(shape: [0])
  }
}

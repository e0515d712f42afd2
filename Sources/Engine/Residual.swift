/// Residual connection: `out = in + body(in)`; `∂in = ∂out + body.backward(∂out)`.
/// The body must preserve the shape.
public final class Residual: Layer {
  public let name: String
  /// Layers of the residual branch, applied in order.
  public let body: [any Layer]

  /// Creates a residual block around `body`.
  public init(name: String, body: [any Layer]) {
    self.name = name
    self.body = body
  }

  public var parameters: [Parameter] { body.flatMap(\.parameters) }

  public func outputShape(for inputShape: [Int]) -> [Int]? {
    var shape: [Int]? = inputShape
    for layer in body { shape = shape.flatMap { layer.outputShape(for: $0) } }
    return shape == inputShape ? inputShape : nil
  }

  public func forward(_ input: Tensor, training: Bool) -> Tensor {
    precondition(outputShape(for: input.shape) != nil, "\(name): residual body does not preserve shape \(input.shape)")
    var branch = input
    for layer in body { branch = layer.forward(branch, training: training) }
    for i in 0..<branch.count { branch.scalars[i] += input.scalars[i] }
    return branch
  }

  public func backward(_ gradOutput: Tensor, needs: BackwardNeeds) -> Tensor {
    var grad = gradOutput
    for (index, layer) in body.enumerated().reversed() {
      let first = index == 0
      grad = layer.backward(
        grad,
        needs: BackwardNeeds(
          inputGradient: needs.inputGradient || !first, parameterGradients: needs.parameterGradients))
    }
    guard needs.inputGradient else { return Tensor(shape: [0]) }
    for i in 0..<grad.count { grad.scalars[i] += gradOutput.scalars[i] }
    return grad
  }
}

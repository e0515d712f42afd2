/// Rectified linear unit: `out = max(0, in)`; `∂in = ∂out · 1[out > 0]`. Any shape.
public final class ReLU: Layer {
  public let name: String
  private var output = Tensor(shape: [0])

  /// Creates a ReLU (no parameters; `name` is used in messages and the architecture).
  public init(name: String) { self.name = name }

  public func outputShape(for inputShape: [Int]) -> [Int]? { inputShape }

  public func forward(_ input: Tensor, training: Bool) -> Tensor {
    var out = input
    out.withMutablePointer { y in
      for i in 0..<input.count where y[i] < 0 { y[i] = 0 }
    }
    output = out
    return out
  }

  public func backward(_ gradOutput: Tensor, needs: BackwardNeeds) -> Tensor {
    precondition(gradOutput.shape == output.shape, "\(name): gradient \(gradOutput.shape) vs output \(output.shape)")
    guard needs.inputGradient else { return Tensor(shape: [0]) }
    var grad = gradOutput
    output.withPointer { y in
      grad.withMutablePointer { g in
        for i in 0..<output.count where y[i] <= 0 { g[i] = 0 }
      }
    }
    return grad
  }
}

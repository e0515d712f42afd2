/// Sigmoid linear unit (swish), like PyTorch's `nn.SiLU`: `out = in · σ(in)`;
/// `∂in = ∂out · σ(in) · (1 + in · (1 − σ(in)))` from the cached input. Any shape.
public final class SiLU: Layer {
  public let name: String
  private var input = Tensor(shape: [0])

  /// Creates the layer (no parameters).
  public init(name: String) { self.name = name }

  public func outputShape(for inputShape: [Int]) -> [Int]? { inputShape }

  public func forward(_ input: Tensor, training: Bool) -> Tensor {
    self.input = input
    let count = input.count
    return input.withPointer { x in
      Tensor(shape: input.shape) { y in
        Parallel.chunks(count) { start, end in
          for i in start..<end { y[i] = x[i] * Sigmoid.logistic(x[i]) }
        }
      }
    }
  }

  public func backward(_ gradOutput: Tensor, needs: BackwardNeeds) -> Tensor {
    precondition(gradOutput.shape == input.shape, "\(name): gradient \(gradOutput.shape) vs output \(input.shape)")
    guard needs.inputGradient else { return Tensor(shape: [0]) }
    let count = input.count
    return input.withPointer { x in
      gradOutput.withPointer { g in
        Tensor(shape: input.shape) { gx in
          Parallel.chunks(count) { start, end in
            for i in start..<end {
              let s = Sigmoid.logistic(x[i])
              gx[i] = g[i] * s * (1 + x[i] * (1 - s))
            }
          }
        }
      }
    }
  }
}

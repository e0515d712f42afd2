/// Rectified linear unit: `out = max(0, in)`; `∂in = ∂out · 1[out > 0]`. Any shape.
public final class ReLU: Layer {
  public let name: String
  private var output = Tensor(shape: [0])

  /// Creates a ReLU (no parameters; `name` is used in messages and the architecture).
  public init(name: String) { self.name = name }

  public func outputShape(for inputShape: [Int]) -> [Int]? { inputShape }

  public func forward(_ input: Tensor, training: Bool) -> Tensor {
    let count = input.count
    output = input.withPointer { x in
      Tensor(shape: input.shape) { y in
        Parallel.chunks(count) { start, end in
          for i in start..<end { y[i] = max(x[i], 0) }
        }
      }
    }
    return output
  }

  public func backward(_ gradOutput: Tensor, needs: BackwardNeeds) -> Tensor {
    precondition(gradOutput.shape == output.shape, "\(name): gradient \(gradOutput.shape) vs output \(output.shape)")
    guard needs.inputGradient else { return Tensor(shape: [0]) }
    let count = output.count
    return output.withPointer { y in
      gradOutput.withPointer { g in
        Tensor(shape: output.shape) { gx in
          Parallel.chunks(count) { start, end in
            for i in start..<end {
              let (value, gradient) = (y[i], g[i])  // both loaded: lets the loop vectorise
              gx[i] = value > 0 ? gradient : 0
            }
          }
        }
      }
    }
  }
}

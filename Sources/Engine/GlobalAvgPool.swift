/// Global average pooling: `out[n,c] = mean_{y,x} in[n,c,y,x]`; (N,C,H,W) → (N,C).
/// Backward spreads `∂out[n,c] / (H·W)` over the plane.
public final class GlobalAvgPool: Layer {
  public let name: String
  private var inputShape = [Int]()

  /// Creates the pooling layer.
  public init(name: String) { self.name = name }

  public func outputShape(for s: [Int]) -> [Int]? { s.count == 4 ? [s[0], s[1]] : nil }

  public func forward(_ input: Tensor, training: Bool) -> Tensor {
    precondition(input.rank == 4, "\(name): GlobalAvgPool needs (N,C,H,W), got \(input.shape)")
    inputShape = input.shape
    let planes = input.shape[0] * input.shape[1]
    let size = input.shape[2] * input.shape[3]
    var out = Tensor(shape: [input.shape[0], input.shape[1]])
    input.withPointer { x in
      out.withMutablePointer { y in
        for p in 0..<planes { y[p] = Reductions.sum(x + p * size, count: size) / Float(size) }
      }
    }
    return out
  }

  public func backward(_ gradOutput: Tensor, needs: BackwardNeeds) -> Tensor {
    precondition(
      gradOutput.shape == [inputShape[0], inputShape[1]],
      "\(name): gradient \(gradOutput.shape) does not match the last output")
    guard needs.inputGradient else { return Tensor(shape: [0]) }
    let size = inputShape[2] * inputShape[3]
    var grad = Tensor(shape: inputShape)
    gradOutput.withPointer { gy in
      grad.withMutablePointer { gx in
        for p in 0..<gradOutput.count {
          let v = gy[p] / Float(size)
          for i in 0..<size { gx[p * size + i] = v }
        }
      }
    }
    return grad
  }
}

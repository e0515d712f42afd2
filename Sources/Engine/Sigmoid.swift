import Foundation

/// Logistic sigmoid: `out = σ(in) = 1 / (1 + e^(−in))`; `∂in = ∂out · out · (1 − out)`
/// from the cached output. Any shape; output shape = input shape.
public final class Sigmoid: Layer {
  public let name: String
  private var output = Tensor(shape: [0])

  /// Creates the layer (no parameters).
  public init(name: String) { self.name = name }

  public func outputShape(for inputShape: [Int]) -> [Int]? { inputShape }

  public func forward(_ input: Tensor, training: Bool) -> Tensor {
    let count = input.count
    output = input.withPointer { x in
      Tensor(shape: input.shape) { y in
        Parallel.chunks(count) { start, end in
          for i in start..<end { y[i] = Sigmoid.logistic(x[i]) }
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
            for i in start..<end { gx[i] = g[i] * y[i] * (1 - y[i]) }
          }
        }
      }
    }
  }

  /// σ(v) without overflow: `e^(−|v|)` never exceeds 1, so large |v| saturates to 0 or 1.
  static func logistic(_ v: Float) -> Float {
    let e = Foundation.exp(-abs(v))
    return v >= 0 ? 1 / (1 + e) : e / (1 + e)
  }
}

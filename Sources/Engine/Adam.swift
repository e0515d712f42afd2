import Foundation

/// Adam (Kingma & Ba 2015) exactly as `torch.optim.Adam` (L2 decay added to the gradient):
/// `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`,
/// `w ← w − (η/(1−β₁ᵗ)) · m / (√v/√(1−β₂ᵗ) + ε)`.
public struct Adam: UpdateRule {
  /// Learning rate η.
  public var learningRate: Float
  /// β₁, β₂.
  public var beta1: Float, beta2: Float
  /// ε in the denominator.
  public var epsilon: Float
  /// L2 weight decay λ.
  public var weightDecay: Float

  /// Creates the rule with PyTorch's defaults.
  public init(
    learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
    weightDecay: Float = 0
  ) {
    self.learningRate = learningRate
    self.beta1 = beta1
    self.beta2 = beta2
    self.epsilon = epsilon
    self.weightDecay = weightDecay
  }

  public var stateCount: Int { 2 }

  public func update(
    value w: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>, count: Int,
    state: [UnsafeMutablePointer<Float>], step: Int
  ) {
    let (m, v) = (state[0], state[1])
    let correction1 = 1 - Foundation.pow(beta1, Float(step))
    let correction2Root = (1 - Foundation.pow(beta2, Float(step))).squareRoot()
    let stepSize = learningRate / correction1
    for i in 0..<count {
      let g = gradient[i] + weightDecay * w[i]
      m[i] = beta1 * m[i] + (1 - beta1) * g
      v[i] = beta2 * v[i] + (1 - beta2) * g * g
      w[i] -= stepSize * m[i] / (v[i].squareRoot() / correction2Root + epsilon)
    }
  }
}

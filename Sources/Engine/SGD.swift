/// Stochastic gradient descent with PyTorch's conventions (`torch.optim.SGD`, dampening 0):
/// `g ← ∇ + λ·w`; with momentum μ: `v ← μ·v + g` (v₁ = g), `g ← v` (or `g + μ·v` for Nesterov);
/// `w ← w − η·g`.
public struct SGD: UpdateRule {
  /// Learning rate η.
  public var learningRate: Float
  /// Momentum μ (0 disables the buffer).
  public var momentum: Float
  /// L2 weight decay λ, added to the gradient.
  public var weightDecay: Float
  /// Nesterov momentum.
  public var nesterov: Bool

  /// Creates the rule.
  public init(learningRate: Float, momentum: Float = 0, weightDecay: Float = 0, nesterov: Bool = false) {
    self.learningRate = learningRate
    self.momentum = momentum
    self.weightDecay = weightDecay
    self.nesterov = nesterov
  }

  public var stateCount: Int { 1 }

  public func update(
    value w: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>, count: Int,
    state: [UnsafeMutablePointer<Float>], step: Int
  ) {
    let v = state[0]
    for i in 0..<count {
      var g = gradient[i] + weightDecay * w[i]
      if momentum != 0 {
        v[i] = step == 1 ? g : momentum * v[i] + g
        g = nesterov ? g + momentum * v[i] : v[i]
      }
      w[i] -= learningRate * g
    }
  }
}

/// Inverted dropout: in training `out = in · m / (1 − p)` with `m ~ Bernoulli(1 − p)`; identity
/// in evaluation. `∂in = ∂out · m / (1 − p)`. Any shape.
public final class Dropout: Layer {
  public let name: String
  /// Probability p of zeroing an element.
  public let probability: Float
  private var generator: SplitMix64
  private var mask = [Float]()

  /// Creates a dropout layer with its own seeded mask stream.
  public init(name: String, probability: Float, seed: UInt64) {
    precondition(probability >= 0 && probability < 1, "\(name): dropout probability \(probability) not in [0, 1)")
    self.name = name
    self.probability = probability
    self.generator = SplitMix64(seed: seed)
  }

  public func outputShape(for inputShape: [Int]) -> [Int]? { inputShape }

  public func forward(_ input: Tensor, training: Bool) -> Tensor {
    guard training, probability > 0 else {
      mask = []
      return input
    }
    let scale = 1 / (1 - probability)
    let threshold = UInt64(Double(probability) * Double(UInt64.max))
    mask = (0..<input.count).map { _ in generator.next() < threshold ? 0 : scale }
    var out = input
    for i in 0..<out.count { out.scalars[i] *= mask[i] }
    return out
  }

  public func backward(_ gradOutput: Tensor, needs: BackwardNeeds) -> Tensor {
    guard needs.inputGradient else { return Tensor(shape: [0]) }
    guard !mask.isEmpty else { return gradOutput }
    precondition(mask.count == gradOutput.count, "\(name): gradient \(gradOutput.shape) does not match the last output")
    var grad = gradOutput
    for i in 0..<grad.count { grad.scalars[i] *= mask[i] }
    return grad
  }
}

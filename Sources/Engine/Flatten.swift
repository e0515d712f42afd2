/// Flattens every dimension after the batch: (N, d1, d2, …) → (N, d1·d2·…).
public final class Flatten: Layer {
  public let name: String
  private var inputShape = [Int]()

  /// Creates the layer.
  public init(name: String) { self.name = name }

  public func outputShape(for s: [Int]) -> [Int]? {
    s.isEmpty ? nil : [s[0], s.dropFirst().reduce(1, *)]
  }

  public func forward(_ input: Tensor, training: Bool) -> Tensor {
    inputShape = input.shape
    return input.reshaped([input.shape[0], input.count / max(1, input.shape[0])])
  }

  public func backward(_ gradOutput: Tensor, needs: BackwardNeeds) -> Tensor {
    needs.inputGradient ? gradOutput.reshaped(inputShape) : Tensor(shape: [0])
  }
}

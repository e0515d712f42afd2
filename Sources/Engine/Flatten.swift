/// Flattens every dimension after the batch: (N, d1, d2, …) → (N, d1·d2·…).
public final class Flatten: Layer {
  public let name: String
  private var inputShape = [Int]()

  /// Creates the layer.
  public init(name: String) { self.name = name }

  public func outputShape(for s: [Int]) -> [Int]? {
    guard let batch = s.first else { return nil }
    var features = 1
    for extent in s.dropFirst() {
      let (product, overflow) = features.multipliedReportingOverflow(by: extent)
      guard !overflow else { return nil }  // hostile sizes: reject instead of trapping
      features = product
    }
    return [batch, features]
  }

  public func forward(_ input: Tensor, training: Bool) -> Tensor {
    inputShape = input.shape
    return input.reshaped([input.shape[0], input.count / max(1, input.shape[0])])
  }

  public func backward(_ gradOutput: Tensor, needs: BackwardNeeds) -> Tensor {
    needs.inputGradient ? gradOutput.reshaped(inputShape) : Tensor(shape: [0])
  }
}

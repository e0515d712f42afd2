/// Fully connected layer: `out = in · Wᵀ + b`; in (N,I) → out (N,O), weight (O,I) like PyTorch.
/// `∂W = ∂outᵀ · in`, `∂b = Σ_n ∂out`, `∂in = ∂out · W`.
public final class Linear: Layer {
  public let name: String
  /// Input features I.
  public let inputFeatures: Int
  /// Output features O.
  public let outputFeatures: Int
  /// Weight (O,I).
  public let weight: Parameter
  /// Bias (O), if any.
  public let bias: Parameter?
  private var input = Tensor(shape: [0])

  /// Creates a layer initialised like PyTorch's `nn.Linear` (U(±1/√I)).
  public init<G: RandomNumberGenerator>(
    name: String, inputFeatures: Int, outputFeatures: Int, bias: Bool = true, generator: inout G
  ) {
    self.name = name
    self.inputFeatures = inputFeatures
    self.outputFeatures = outputFeatures
    let bound = Float(1 / Double(inputFeatures).squareRoot())
    weight = Parameter(
      name: "weight",
      value: .uniform(shape: [outputFeatures, inputFeatures], bound: bound, using: &generator))
    self.bias =
      bias
      ? Parameter(name: "bias", value: .uniform(shape: [outputFeatures], bound: bound, using: &generator))
      : nil
  }

  public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

  public func outputShape(for s: [Int]) -> [Int]? {
    s.count == 2 && s[1] == inputFeatures ? [s[0], outputFeatures] : nil
  }

  public func forward(_ input: Tensor, training: Bool) -> Tensor {
    precondition(
      outputShape(for: input.shape) != nil,
      "\(name): Linear(\(inputFeatures)→\(outputFeatures)) got input \(input.shape)")
    self.input = input
    var out = Gemm.matmul(input, weight.value, transposeB: true)
    if let bias {
      let n = input.shape[0]
      bias.value.withPointer { b in
        out.withMutablePointer { y in
          for i in 0..<n {
            for o in 0..<outputFeatures { y[i * outputFeatures + o] += b[o] }
          }
        }
      }
    }
    return out
  }

  public func backward(_ gradOutput: Tensor, needs: BackwardNeeds) -> Tensor {
    precondition(
      gradOutput.shape == [input.shape[0], outputFeatures],
      "\(name): gradient \(gradOutput.shape) does not match the last output")
    if needs.parameterGradients {
      weight.gradient = Gemm.matmul(gradOutput, input, transposeA: true)
      if let bias {
        var db = Tensor(shape: [outputFeatures])
        for i in 0..<input.shape[0] {
          for o in 0..<outputFeatures { db.scalars[o] += gradOutput.scalars[i * outputFeatures + o] }
        }
        bias.gradient = db
      }
    }
    return needs.inputGradient ? Gemm.matmul(gradOutput, weight.value) : Tensor(shape: [0])
  }
}

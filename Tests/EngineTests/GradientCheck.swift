import Engine
import Testing

/// Central finite differences for a layer: L = Σ forward(x) ⊙ R with a fixed random R.
/// Compares ∂L/∂x and every ∂L/∂θ from `backward` with (L(v+ε) − L(v−ε)) / 2ε (Double sums).
struct GradientCheck {
  var epsilon: Float = 1e-3
  /// Allowed max |analytic − numeric| divided by max |numeric| (Float32 noise ≈ 1e-3).
  var tolerance = 1e-2

  /// Returns the worst normalised error over the input and parameter gradients.
  @discardableResult
  func check(
    _ layer: any Layer, input: Tensor, training: Bool = true, seed: UInt64 = 11, expectPass: Bool = true,
    sourceLocation: SourceLocation = #_sourceLocation
  ) -> Double {
    check(
      making: { layer }, input: input, training: training, seed: seed, expectPass: expectPass,
      sourceLocation: sourceLocation)
  }

  /// The same check with the layer built afresh by `makeLayer` before every forward: for a
  /// layer whose forward draws random numbers (Dropout), a fresh layer from the same seed
  /// repeats the same draw, so L is a fixed function of the input. Parameters are checked
  /// only on the first layer built, so use this with parameter-free layers.
  @discardableResult
  func check(
    making makeLayer: () -> any Layer, input: Tensor, training: Bool = true, seed: UInt64 = 11,
    expectPass: Bool = true, sourceLocation: SourceLocation = #_sourceLocation
  ) -> Double {
    var generator = SplitMix64(seed: seed)
    let outputShape = makeLayer().forward(input, training: training).shape
    let weights = Tensor.uniform(shape: outputShape, bound: 1, using: &generator)
    func loss(_ x: Tensor) -> Double {
      let y = makeLayer().forward(x, training: training)
      return zip(y.scalars, weights.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }
    // The analytic pass: backward right after a forward on the unperturbed input.
    let layer = makeLayer()
    _ = layer.forward(input, training: training)
    let analyticInput = layer.backward(weights, needs: BackwardNeeds())
    let analyticParameters = layer.parameters.map(\.gradient)
    guard analyticInput.shape == input.shape else {
      Issue.record(
        "\(layer.name): input gradient \(analyticInput.shape) for input \(input.shape)", sourceLocation: sourceLocation)
      return .infinity
    }

    let numericInput = numericGradient(of: loss, at: input, epsilon: epsilon)
    var worst = normalisedError(analyticInput, numericInput)
    #expect(
      !expectPass || worst < tolerance, "input gradient of \(layer.name): error \(worst)",
      sourceLocation: sourceLocation)

    for (index, parameter) in layer.parameters.enumerated() {
      let numeric = numericGradient(of: { loss(input) }, parameter: parameter, epsilon: epsilon)
      let error = normalisedError(analyticParameters[index], numeric)
      #expect(
        !expectPass || error < tolerance, "\(layer.name).\(parameter.name) gradient: error \(error)",
        sourceLocation: sourceLocation)
      worst = max(worst, error)
    }
    return worst
  }
}

/// Central differences (ε, Double) of `loss` with respect to every scalar of `input`.
func numericGradient(of loss: (Tensor) -> Double, at input: Tensor, epsilon: Float = 1e-3) -> Tensor {
  var numeric = Tensor(shape: input.shape)
  for i in 0..<input.count {
    var plus = input
    plus.scalars[i] += epsilon
    var minus = input
    minus.scalars[i] -= epsilon
    numeric.scalars[i] = Float((loss(plus) - loss(minus)) / (2 * Double(epsilon)))
  }
  return numeric
}

/// Central differences (ε, Double) of `loss` with respect to every scalar of `parameter`,
/// which is restored afterwards.
func numericGradient(of loss: () -> Double, parameter: Parameter, epsilon: Float = 1e-3) -> Tensor {
  var numeric = Tensor(shape: parameter.value.shape)
  for i in 0..<parameter.value.count {
    let original = parameter.value.scalars[i]
    parameter.value.scalars[i] = original + epsilon
    let up = loss()
    parameter.value.scalars[i] = original - epsilon
    let down = loss()
    parameter.value.scalars[i] = original
    numeric.scalars[i] = Float((up - down) / (2 * Double(epsilon)))
  }
  return numeric
}

/// max |a − b| / max(|b|, tiny).
func normalisedError(_ a: Tensor, _ b: Tensor) -> Double {
  precondition(a.shape == b.shape, "compare \(a.shape) with \(b.shape)")
  var difference = 0.0
  var scale = 1e-6
  for i in 0..<a.count {
    difference = max(difference, Double(abs(a.scalars[i] - b.scalars[i])))
    scale = max(scale, Double(abs(b.scalars[i])))
  }
  return difference / scale
}

/// Seeded uniform input in [−1, 1).
func randomTensor(_ shape: [Int], seed: UInt64) -> Tensor {
  var generator = SplitMix64(seed: seed)
  return Tensor.uniform(shape: shape, bound: 1, using: &generator)
}

/// Seeded input whose entries keep at least `gap` away from 0 (for ReLU's kink).
func awayFromZero(_ shape: [Int], seed: UInt64, gap: Float = 0.05) -> Tensor {
  var t = randomTensor(shape, seed: seed)
  for i in 0..<t.count { t.scalars[i] = t.scalars[i] >= 0 ? t.scalars[i] + gap : t.scalars[i] - gap }
  return t
}

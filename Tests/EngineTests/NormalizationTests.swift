import Engine
import Testing

@Suite struct NormalizationTests {
  /// One channel, values [1, 2, 3, 6] (N=2, 2×1 planes): mean 3, biased variance 3.5,
  /// unbiased 14/3. Running stats after one step with momentum 0.1 from (0, 1):
  /// mean 0.3, var 0.9 + 0.1·14/3 = 1.366667. Output x̂ = (x − 3)/√(3.5 + 1e-5).
  @Test func runningStatisticsFollowPyTorch() {
    let layer = BatchNorm2d(name: "bn", channels: 1)
    let input = Tensor(shape: [2, 1, 2, 1], scalars: [1, 2, 3, 6])
    let output = layer.forward(input, training: true)
    #expect(abs(layer.runningMean.scalars[0] - 0.3) < 1e-6)
    #expect(abs(layer.runningVariance.scalars[0] - 1.3666667) < 1e-6)
    #expect(layer.batchesTracked == 1)
    let scale = 1 / (3.5 + 1e-5 as Float).squareRoot()
    for (got, x) in zip(output.scalars, input.scalars) { #expect(abs(got - (x - 3) * scale) < 1e-5) }
  }

  @Test func evaluationUsesRunningStatistics() {
    let layer = BatchNorm2d(name: "bn", channels: 1)
    layer.runningMean = Tensor(shape: [1], scalars: [2])
    layer.runningVariance = Tensor(shape: [1], scalars: [4])
    layer.weight.value = Tensor(shape: [1], scalars: [3])
    layer.bias.value = Tensor(shape: [1], scalars: [1])
    let output = layer.forward(Tensor(shape: [1, 1, 1, 2], scalars: [2, 6]), training: false)
    // (x − 2)/√(4 + 1e-5)·3 + 1 → [1, 7] (to 1e-5).
    #expect(abs(output.scalars[0] - 1) < 1e-5)
    #expect(abs(output.scalars[1] - 7) < 1e-4)
    #expect(layer.batchesTracked == 0)
  }

  /// Two channels, N = 2, 1×2 planes, the same batch twice.
  /// c0 = {1, 3, 5, 7}: mean 4, Σ(x − 4)² = 20, biased variance 5, unbiased 20/3.
  /// c1 = {2, 2, 2, 2}: mean 2, variance 0 (x̂ = 0/√ε = 0, so the output is β exactly).
  /// Step 1 from (0, 1): mean (0.4, 0.2), var (0.9 + 2/3, 0.9) = (1.5666667, 0.9).
  /// Step 2: mean (0.9·0.4 + 0.4, 0.9·0.2 + 0.2) = (0.76, 0.38),
  ///         var (0.9·1.5666667 + 2/3, 0.81) = (2.0766667, 0.81).
  @Test func runningStatisticsCompoundOverSteps() {
    let layer = BatchNorm2d(name: "bn", channels: 2)
    layer.bias.value = Tensor(shape: [2], scalars: [0, 0.25])
    // (n, c) planes in order: n0c0, n0c1, n1c0, n1c1.
    let input = Tensor(shape: [2, 2, 1, 2], scalars: [1, 3, 2, 2, 5, 7, 2, 2])
    let first = layer.forward(input, training: true)
    #expect(abs(layer.runningMean.scalars[0] - 0.4) < 1e-6)
    #expect(abs(layer.runningMean.scalars[1] - 0.2) < 1e-6)
    #expect(abs(layer.runningVariance.scalars[0] - 1.5666667) < 1e-6)
    #expect(abs(layer.runningVariance.scalars[1] - 0.9) < 1e-6)
    for i in [2, 3, 6, 7] { #expect(first.scalars[i] == 0.25) }
    _ = layer.forward(input, training: true)
    #expect(abs(layer.runningMean.scalars[0] - 0.76) < 1e-6)
    #expect(abs(layer.runningMean.scalars[1] - 0.38) < 1e-6)
    #expect(abs(layer.runningVariance.scalars[0] - 2.0766667) < 2e-6)
    #expect(abs(layer.runningVariance.scalars[1] - 0.81) < 1e-6)
    #expect(layer.batchesTracked == 2)
    #expect(layer.buffers["num_batches_tracked"]?.scalars == [2])

    // Evaluation now normalises with those running statistics, not the batch's:
    // c0, x = 4: (4 − 0.76)/√(2.0766667 + 1e-5) = 3.24/1.4410658 = 2.2483327;
    // c1, x = 2: (2 − 0.38)/√(0.81 + 1e-5) + 0.25 = 1.62/0.9000056 + 0.25 = 2.0499889.
    let eval = layer.forward(Tensor(shape: [1, 2, 1, 1], scalars: [4, 2]), training: false)
    #expect(abs(eval.scalars[0] - 2.2483327) < 1e-5)
    #expect(abs(eval.scalars[1] - 2.0499889) < 1e-5)
    #expect(layer.batchesTracked == 2)
  }

  /// Statistics of a channel far from zero (mean 1000, spread ±0.5) must match a two-pass
  /// Double reference: x̂ = (x − μ)/√(σ² + ε). E[x²] − μ² in Float loses every digit here.
  @Test func trainingStatisticsSurviveALargeMean() {
    let (n, channels, height, width) = (2, 2, 16, 16)
    var input = randomTensor([n, channels, height, width], seed: 30)
    for i in 0..<input.count { input.scalars[i] = 1000 + input.scalars[i] / 2 }
    let layer = BatchNorm2d(name: "bn", channels: channels)
    let output = layer.forward(input, training: true)
    let plane = height * width
    for c in 0..<channels {
      var values: [Double] = []
      for b in 0..<n {
        values += input.scalars[(b * channels + c) * plane..<(b * channels + c + 1) * plane].map(Double.init)
      }
      let mean = values.reduce(0, +) / Double(values.count)
      let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
      let unbiased = variance * Double(values.count) / Double(values.count - 1)
      #expect(abs(Double(layer.runningVariance.scalars[c]) - (0.9 + 0.1 * unbiased)) < 1e-4, "channel \(c)")
      var worst = 0.0
      for b in 0..<n {
        for i in 0..<plane {
          let index = (b * channels + c) * plane + i
          let expected = (Double(input.scalars[index]) - mean) / (variance + 1e-5).squareRoot()
          worst = max(worst, abs(Double(output.scalars[index]) - expected))
        }
      }
      #expect(worst < 1e-2, "channel \(c): x̂ off by \(worst) (variance \(variance))")
    }
  }

  /// The buffers round-trip under their `state_dict` names.
  @Test func buffersUseStateDictNames() {
    let layer = BatchNorm2d(name: "bn", channels: 2)
    layer.buffers = [
      "running_mean": Tensor(shape: [2], scalars: [1, 2]), "running_var": Tensor(shape: [2], scalars: [3, 4]),
      "num_batches_tracked": Tensor(shape: [], scalars: [7]),
    ]
    #expect(layer.runningMean.scalars == [1, 2])
    #expect(layer.runningVariance.scalars == [3, 4])
    #expect(layer.batchesTracked == 7)
    #expect(Set(layer.buffers.keys) == ["running_mean", "running_var", "num_batches_tracked"])
  }

  /// A backward that is deliberately wrong must be caught, or the checks above prove nothing.
  @Test func gradientCheckDetectsAWrongBackward() {
    let worst = GradientCheck().check(DoublingReLU(), input: awayFromZero([1, 1, 3, 3], seed: 3), expectPass: false)
    #expect(worst > 0.5)
  }
}

/// ReLU whose backward is twice the truth.
private final class DoublingReLU: Layer {
  let name = "broken"
  let inner = ReLU(name: "inner")
  func outputShape(for inputShape: [Int]) -> [Int]? { inputShape }
  func forward(_ input: Tensor, training: Bool) -> Tensor { inner.forward(input, training: training) }
  func backward(_ gradOutput: Tensor, needs: BackwardNeeds) -> Tensor {
    var g = inner.backward(gradOutput, needs: needs)
    for i in 0..<g.count { g.scalars[i] *= 2 }
    return g
  }
}

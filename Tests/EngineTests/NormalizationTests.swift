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

import Engine
import Foundation
import Testing

@Suite struct LossTests {
  /// logits [0, ln 3], label 1: softmax = [1/4, 3/4], loss = −ln(3/4) = ln(4/3);
  /// ∂L/∂z = softmax − onehot = [1/4, −1/4].
  @Test func handComputedCrossEntropy() {
    let result = SoftmaxCrossEntropy.evaluate(
      logits: Tensor(shape: [1, 2], scalars: [0, Float(log(3.0))]), labels: [1])
    #expect(abs(Double(result.loss) - log(4.0 / 3.0)) < 1e-6)
    #expect(abs(result.gradient.scalars[0] - 0.25) < 1e-6)
    #expect(abs(result.gradient.scalars[1] + 0.25) < 1e-6)
  }

  @Test func crossEntropyGradientMatchesFiniteDifferences() {
    let logits = randomTensor([4, 5], seed: 20)
    let labels = [0, 3, 4, 1]
    let analytic = SoftmaxCrossEntropy.evaluate(logits: logits, labels: labels).gradient
    var numeric = Tensor(shape: logits.shape)
    let epsilon: Float = 1e-3
    for i in 0..<logits.count {
      var plus = logits
      plus.scalars[i] += epsilon
      var minus = logits
      minus.scalars[i] -= epsilon
      let up = Double(SoftmaxCrossEntropy.evaluate(logits: plus, labels: labels).loss)
      let down = Double(SoftmaxCrossEntropy.evaluate(logits: minus, labels: labels).loss)
      numeric.scalars[i] = Float((up - down) / (2 * Double(epsilon)))
    }
    #expect(normalisedError(analytic, numeric) < 1e-2)
  }

  /// Two images, logits [0, ln 3] with labels 1 and 0 and weights 1 and 0.5:
  /// ℓ = [ln(4/3), ln 4], L = (1·ln(4/3) + 0.5·ln 4) / 2 = (ln(4/3) + ln 2) / 2 = ln(8/3) / 2;
  /// ∂L/∂z_0 = 1·[1/4, −1/4] / 2, ∂L/∂z_1 = 0.5·[1/4 − 1, 3/4] / 2 = [−3/16, 3/16].
  @Test func weightedCrossEntropyScalesEachSample() {
    let logits = Tensor(shape: [2, 2], scalars: [0, Float(log(3.0)), 0, Float(log(3.0))])
    let result = SoftmaxCrossEntropy.evaluate(logits: logits, labels: [1, 0], weights: [1, 0.5])
    #expect(abs(Double(result.loss) - log(8.0 / 3.0) / 2) < 1e-6)
    let expected: [Float] = [0.125, -0.125, -0.1875, 0.1875]
    for (value, wanted) in zip(result.gradient.scalars, expected) { #expect(abs(value - wanted) < 1e-6) }
    // Unit weights are the unweighted loss, bit for bit.
    let plain = SoftmaxCrossEntropy.evaluate(logits: logits, labels: [1, 0])
    let ones = SoftmaxCrossEntropy.evaluate(logits: logits, labels: [1, 0], weights: [1, 1])
    #expect(plain.loss == ones.loss && plain.gradient.scalars == ones.gradient.scalars)
  }

  @Test func weightedCrossEntropyGradientMatchesFiniteDifferences() {
    let logits = randomTensor([4, 5], seed: 21)
    let labels = [0, 3, 4, 1]
    let weights: [Float] = [1, 0.5, 0.25, 2]
    let analytic = SoftmaxCrossEntropy.evaluate(logits: logits, labels: labels, weights: weights).gradient
    var numeric = Tensor(shape: logits.shape)
    let epsilon: Float = 1e-3
    for i in 0..<logits.count {
      var plus = logits
      plus.scalars[i] += epsilon
      var minus = logits
      minus.scalars[i] -= epsilon
      let up = Double(SoftmaxCrossEntropy.evaluate(logits: plus, labels: labels, weights: weights).loss)
      let down = Double(SoftmaxCrossEntropy.evaluate(logits: minus, labels: labels, weights: weights).loss)
      numeric.scalars[i] = Float((up - down) / (2 * Double(epsilon)))
    }
    #expect(normalisedError(analytic, numeric) < 1e-2)
  }

  @Test func largeLogitsStayFinite() {
    let result = SoftmaxCrossEntropy.evaluate(logits: Tensor(shape: [1, 3], scalars: [1000, -1000, 0]), labels: [1])
    #expect(result.loss.isFinite)
    #expect(abs(result.loss - 2000) < 1e-2)
  }
}

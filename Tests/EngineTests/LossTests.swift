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

  @Test func largeLogitsStayFinite() {
    let result = SoftmaxCrossEntropy.evaluate(logits: Tensor(shape: [1, 3], scalars: [1000, -1000, 0]), labels: [1])
    #expect(result.loss.isFinite)
    #expect(abs(result.loss - 2000) < 1e-2)
  }
}

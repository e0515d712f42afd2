import Checkpoints
import Engine
import Testing

/// Three SGD steps (lr 0.01, momentum 0.9) from the fixture model on its 32 images, against
/// PyTorch's losses and parameters (`train_losses`, `after_train.*`).
@Test func threeSGDStepsMatchPyTorch() throws {
  let fixture = try Fixture()
  let network = try fixture.network()
  let images = try fixture.tensor("images")
  let labels = try fixture.labels()
  let optimizer = Optimizer(rule: SGD(learningRate: 0.01, momentum: 0.9), parameters: network.parameters)
  let expectedLosses = try fixture.tensor("train_losses").scalars
  for step in 0..<3 {
    let (logits, _) = network.forward(images, training: true)
    let result = SoftmaxCrossEntropy.evaluate(logits: logits, labels: labels)
    #expect(abs(result.loss - expectedLosses[step]) <= 1e-5 * max(1, abs(expectedLosses[step])), "step \(step)")
    network.backward(result.gradient, parameterGradients: true)
    optimizer.step()
  }
  for (name, parameter) in network.namedParameters {
    let expected = try fixture.tensor("after_train.\(name)")
    #expect(relativeError(parameter.value, expected) < 1e-4, "\(name)")
  }
}

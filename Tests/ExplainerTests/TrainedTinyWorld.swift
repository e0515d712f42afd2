import Engine
import Explainer
import Models

/// A small world where explanations can be judged: 8×8 images of one 3×3 bright square in one
/// of three places (the class) plus noise; a prior trained on a set where class 0 is rare
/// (10%), a classifier and an independent oracle trained on the classes. Built once (about a
/// second) and shared by the tests that need it.
struct TrainedTinyWorld: @unchecked Sendable {
  let prior: GenerativePrior
  let classifier: Network
  let oracle: Network

  static let shared: TrainedTinyWorld = make()

  static let corners = [(1, 1), (4, 4), (1, 4)]

  /// `count` images with their classes; class 0 has share `rareShare`.
  static func images(count: Int, rareShare: Double, seed: UInt64) -> (Tensor, [Int]) {
    var random = SplitMix64(seed: seed)
    var pixels = [Float](repeating: 0, count: count * 64)
    var labels: [Int] = []
    for i in 0..<count {
      let u = Double(random.next() >> 11) / Double(1 << 53)
      let label = u < rareShare ? 0 : (u < rareShare + (1 - rareShare) / 2 ? 1 : 2)
      labels.append(label)
      let (top, left) = corners[label]
      for p in 0..<64 { pixels[i * 64 + p] = Float(random.next() >> 40) / Float(1 << 24) * 0.1 }
      for y in 0..<3 { for x in 0..<3 { pixels[i * 64 + (top + y) * 8 + left + x] = 0.9 } }
    }
    return (Tensor(shape: [count, 1, 8, 8], scalars: pixels), labels)
  }

  static func classifier(seed: UInt64, data: (Tensor, [Int])) -> Network {
    // The build cannot fail for the fixed tiny architecture.
    let network = (try? TinyPrior.architecture.build(seed: seed))!
    let optimizer = Optimizer(rule: SGD(learningRate: 0.05, momentum: 0.9), parameters: network.parameters)
    let (images, labels) = data
    let n = labels.count
    for step in 0..<300 {
      let start = (step * 32) % (n - 32)
      let batch = Tensor(shape: [32, 1, 8, 8], scalars: Array(images.scalars[(start * 64)..<((start + 32) * 64)]))
      let logits = network.forward(batch, training: true).logits
      let loss = SoftmaxCrossEntropy.evaluate(logits: logits, labels: Array(labels[start..<(start + 32)]))
      network.backward(loss.gradient, parameterGradients: true, inputGradient: false)
      optimizer.step()
    }
    return network
  }

  static func make() -> TrainedTinyWorld {
    let prior = (try? TinyPrior.prior())!
    var settings = GeneratorTraining.Settings()
    settings.vaeEpochs = 30
    settings.vaeBatch = 32
    settings.denoiserSteps = 3000
    settings.denoiserBatch = 128
    _ = GeneratorTraining(prior: prior, settings: settings, log: { _ in }).run(
      images: images(count: 400, rareShare: 0.1, seed: 1).0)
    let balanced = { (seed: UInt64) in images(count: 600, rareShare: 1.0 / 3, seed: seed) }
    return TrainedTinyWorld(
      prior: prior, classifier: classifier(seed: 4, data: balanced(2)), oracle: classifier(seed: 8, data: balanced(3)))
  }
}

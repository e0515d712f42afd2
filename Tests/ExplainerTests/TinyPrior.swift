import Engine
import Explainer
import Models

/// A small prior (8×8 grey images, latent 16) and a small classifier for fast tests.
enum TinyPrior {
  static let image = [1, 8, 8]

  static func description(seed: UInt64 = 3, indices: [Int] = Array(0..<20)) -> GeneratorDescription {
    let split = GeneratorDescription.Split(
      name: "generator", count: indices.count, sha256: GenerativePrior.splitHash(indices), seed: 1)
    return GeneratorDescription.standard(
      dataset: "synthetic", image: image, seed: seed, split: split, width: 4, hidden: 16)
  }

  static func prior(seed: UInt64 = 3) throws -> GenerativePrior {
    try GenerativePrior(description: description(seed: seed), splitIndices: Array(0..<20))
  }

  /// The tiny classifier with its head scaled ×`gain`, so that its class probabilities react
  /// to its input (at PyTorch's default init they are nearly uniform and flat).
  static func classifier(seed: UInt64, gain: Float = 50) throws -> Network {
    let network = try architecture.build(seed: seed)
    for (name, parameter) in network.namedParameters where name.hasPrefix("fc") {
      parameter.value = Tensor(shape: parameter.value.shape, scalars: parameter.value.scalars.map { $0 * gain })
    }
    return network
  }

  /// conv(1→8) · relu (target) · conv(8→8) · relu · gap · fc(8→3).
  static let architecture = Architecture(
    name: "tiny", input: image, classes: 3, target: "relu1",
    layers: [
      .conv3x3("conv1", 1, 8), LayerSpec(kind: "relu", name: "relu1"), .conv3x3("conv2", 8, 8),
      LayerSpec(kind: "relu", name: "relu2"), LayerSpec(kind: "gap", name: "gap"),
      LayerSpec(kind: "linear", name: "fc", inputs: 8, outputs: 3),
    ])
}

import Datasets
import Engine
import Foundation
import Models

/// Mini-batch training of a network on a labelled image set: shuffle, forward, loss,
/// backward, optimiser step — deterministic for a seed.
public final class TrainingLoop {
  /// The network being trained.
  public let network: Network
  /// The optimiser over all of its parameters.
  public let optimizer: Optimizer
  /// Images per step.
  public let batchSize: Int
  /// Steps taken so far.
  public private(set) var step = 0
  private var batch: Tensor
  private var labels: [Int]

  /// Creates a loop for `network` with the given update rule.
  public init(network: Network, rule: any UpdateRule, batchSize: Int) {
    precondition(batchSize > 0, "batch size must be positive")
    self.network = network
    self.optimizer = Optimizer(rule: rule, parameters: network.parameters)
    self.batchSize = batchSize
    batch = Tensor(shape: [batchSize] + network.inputShape)
    labels = []
  }

  /// Builds the update rule a configuration names.
  public static func rule(for configuration: TrainingConfiguration) throws -> any UpdateRule {
    switch configuration.optimizer {
    case "sgd":
      return SGD(
        learningRate: configuration.learningRate, momentum: configuration.momentum,
        weightDecay: configuration.weightDecay)
    case "adam":
      return Adam(learningRate: configuration.learningRate, weightDecay: configuration.weightDecay)
    default:
      throw TrainingError("unknown optimizer '\(configuration.optimizer)'; use sgd or adam", exitCode: .usage)
    }
  }

  /// The order of one epoch: a seeded permutation of `indices`.
  public static func epochOrder(_ indices: [Int], seed: UInt64, epoch: Int) -> [Int] {
    var generator = SplitMix64(seed: seed &* 0x9E37_79B9 &+ UInt64(epoch) &+ 1)
    return indices.shuffled(using: &generator)
  }

  /// One optimiser step on the images `indices` of `data`.
  /// - Parameter weights: Per-image loss weights aligned with `indices` (nil: all 1).
  /// - Returns: the batch's mean (weighted) loss.
  /// - Throws: `TrainingError` when the loss is not finite (diverged).
  @discardableResult
  public func step(on data: LabeledImages, indices: ArraySlice<Int>, weights: [Float]? = nil) throws -> Float {
    let n = indices.count
    if batch.shape[0] != n { batch = Tensor(shape: [n] + network.inputShape) }
    batch.withMutablePointer { data.fillBatch(Array(indices), into: $0) }
    labels = indices.map { data.labels[$0] }
    let (logits, _) = network.forward(batch, training: true)
    let result = SoftmaxCrossEntropy.evaluate(logits: logits, labels: labels, weights: weights)
    guard result.loss.isFinite else {
      throw TrainingError("loss became \(result.loss) at step \(step + 1); lower --lr or check the data")
    }
    network.backward(result.gradient, parameterGradients: true, inputGradient: false)
    optimizer.step()
    step += 1
    return result.loss
  }
}

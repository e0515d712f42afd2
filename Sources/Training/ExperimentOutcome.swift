import Datasets
import Engine
import Foundation

/// The result of one (arm, seed) of the fine-tune experiment, as written to
/// `OUT/results/<arm>-<seed>.json` the moment it finishes.
public struct ExperimentOutcome: Codable, Sendable, Equatable {
  /// The arm.
  public var arm: ExperimentArm
  /// The seed (1…N).
  public var seed: Int
  /// Data-order seed (the same for every arm of this seed).
  public var dataOrderSeed: UInt64
  /// Optimiser steps taken.
  public var steps: Int
  /// Images removed in the curated epoch (0 for C1).
  public var removed: Int
  /// Test accuracy.
  public var accuracy: Double
  /// Test confusions of the pair: a predicted as b plus b predicted as a.
  public var pairConfusions: Int
  /// Mean negative log-likelihood over the test images of classes a and b.
  public var pairNLL: Double
  /// Mean training loss of the last step.
  public var lastLoss: Double
  /// Wall-clock seconds of training and evaluation.
  public var seconds: Double

  enum CodingKeys: String, CodingKey {
    case arm, seed, steps, removed, accuracy, seconds
    case dataOrderSeed = "data_order_seed"
    case pairConfusions = "pair_confusions"
    case pairNLL = "pair_nll"
    case lastLoss = "last_loss"
  }

  /// Measures a trained network on the test split.
  static func measure(
    _ network: Network, test: LabeledImages, pair: [Int]
  ) -> (accuracy: Double, pairConfusions: Int, pairNLL: Double) {
    let evaluation = Evaluation.run(network, on: test)
    let (a, b) = (pair[0], pair[1])
    let pairImages = test.labels.indices.filter { pair.contains(test.labels[$0]) }
    let nll = ExperimentOutcome.losses(network, data: test, indices: pairImages)
    return (
      evaluation.accuracy, evaluation.confusion[a][b] + evaluation.confusion[b][a], ExperimentStatistics.mean(nll)
    )
  }

  /// Per-image cross-entropy −log softmax(z)_y of `indices` (evaluation mode), in Double.
  static func losses(_ network: Network, data: LabeledImages, indices: [Int], batchSize: Int = 256) -> [Double] {
    var losses: [Double] = []
    losses.reserveCapacity(indices.count)
    var start = 0
    while start < indices.count {
      let chunk = Array(indices[start..<min(indices.count, start + batchSize)])
      let batch = Tensor(shape: [chunk.count] + network.inputShape, scalars: data.batchFloats(chunk))
      let (logits, _) = network.forward(batch, training: false)
      let k = logits.shape[1]
      // logits (B,K) -> −z_y + log Σ_j exp z_j, with the max subtracted for stability
      for (row, image) in chunk.enumerated() {
        let z = logits.scalars[row * k..<(row + 1) * k].map(Double.init)
        let top = z.max() ?? 0
        let logSum = top + log(z.reduce(0) { $0 + exp($1 - top) })
        losses.append(logSum - z[data.labels[image]])
      }
      start += batchSize
    }
    return losses
  }
}

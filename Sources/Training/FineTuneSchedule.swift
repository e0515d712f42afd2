import Datasets
import Foundation

/// The batches of a fine-tune segment, as index lists into the training set, so the trainer,
/// the experiment's arms and the tests all run exactly the same steps.
///
/// DESIGN §7, I2X's "curated → full": one epoch over D \ R, then one epoch over D, with the
/// optimiser state kept. The equal-compute control takes the same number of steps on D.
public struct FineTuneSchedule: Sendable, Equatable {
  /// Mini-batches in order.
  public var batches: [[Int]]

  /// Optimiser steps.
  public var steps: Int { batches.count }

  /// Creates a schedule from explicit batches.
  public init(batches: [[Int]]) {
    self.batches = batches
  }

  /// Curated → full: an epoch over `training` minus `removed`, then an epoch over `training`,
  /// each in a seeded order (`TrainingLoop.epochOrder`); the last batch of an epoch may be
  /// smaller.
  public static func curatedThenFull(
    training: [Int], removed: Set<Int>, batchSize: Int, seed: UInt64
  ) -> FineTuneSchedule {
    precondition(batchSize > 0, "batch size must be positive")
    let curated = training.filter { !removed.contains($0) }
    return FineTuneSchedule(
      batches: epochBatches(curated, batchSize: batchSize, seed: seed, epoch: 0)
        + epochBatches(training, batchSize: batchSize, seed: seed, epoch: 1))
  }

  /// Continued training on all of `training` for exactly `steps` optimiser steps (the
  /// equal-compute control C1): full epochs in seeded orders, cut at `steps`.
  public static func continued(training: [Int], steps: Int, batchSize: Int, seed: UInt64) -> FineTuneSchedule {
    precondition(batchSize > 0 && !training.isEmpty, "continued: empty training set or batch size 0")
    var batches: [[Int]] = []
    var epoch = 0
    while batches.count < steps {
      batches += epochBatches(training, batchSize: batchSize, seed: seed, epoch: epoch)
      epoch += 1
    }
    return FineTuneSchedule(batches: Array(batches.prefix(steps)))
  }

  /// Runs every batch through `loop` on `data`, calling `afterStep(index, loss)` after each.
  /// - Throws: `TrainingError` if the loss diverges, or what `afterStep` throws.
  public func run(
    loop: TrainingLoop, data: LabeledImages, afterStep: (Int, Float) throws -> Void = { _, _ in }
  ) throws {
    for (index, batch) in batches.enumerated() {
      let loss = try loop.step(on: data, indices: batch[...])
      try afterStep(index, loss)
    }
  }

  static func epochBatches(_ indices: [Int], batchSize: Int, seed: UInt64, epoch: Int) -> [[Int]] {
    let order = TrainingLoop.epochOrder(indices, seed: seed, epoch: epoch)
    return stride(from: 0, to: order.count, by: batchSize).map { Array(order[$0..<min(order.count, $0 + batchSize)]) }
  }
}

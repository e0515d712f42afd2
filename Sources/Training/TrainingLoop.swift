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
  /// A second copy of the network (same architecture) that takes half of every batch on the
  /// other core; nil when the network's layers couple the images of a batch (BatchNorm).
  private let replica: Network?

  /// Creates a loop for `network` with the given update rule.
  /// - Parameter replica: a network of the same architecture (any weights: they are copied
  ///   from `network` before every step). With it, a step runs two half-batches side by side,
  ///   one per core, each network's loops serial inside (`Parallel.replicas`), and sums their
  ///   parameter gradients: the same loss and gradients as one network over the whole batch
  ///   up to float summation order, with one synchronisation per pass instead of several per
  ///   layer. Ignored when `network` has BatchNorm (its batch statistics need the whole batch)
  ///   or on one core.
  public init(network: Network, rule: any UpdateRule, batchSize: Int, replica: Network? = nil) {
    precondition(batchSize > 0, "batch size must be positive")
    self.network = network
    self.optimizer = Optimizer(rule: rule, parameters: network.parameters)
    self.batchSize = batchSize
    batch = Tensor(shape: [batchSize] + network.inputShape)
    labels = []
    if let replica, Self.canSplitBatches(network), Parallel.workers > 1 {
      precondition(
        replica.parameters.map(\.value.shape) == network.parameters.map(\.value.shape),
        "TrainingLoop: the replica's parameters differ from the network's")
      self.replica = replica
    } else {
      self.replica = nil
    }
  }

  /// Whether a batch can be split across replicas: no layer couples a batch's images.
  public static func canSplitBatches(_ network: Network) -> Bool {
    !network.leafLayers.contains { $0 is BatchNorm2d }
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
    if let replica, n >= 2 * Self.smallestHalf {
      try splitStep(replica: replica, weights: weights)
    } else {
      let (logits, _) = network.forward(batch, training: true)
      let result = try loss(logits, weights)
      network.backward(result.gradient, parameterGradients: true, inputGradient: false)
    }
    optimizer.step()
    step += 1
    return lastLoss
  }

  /// Smallest half-batch worth a replica.
  static let smallestHalf = 8
  private var lastLoss: Float = 0

  private func loss(_ logits: Tensor, _ weights: [Float]?) throws -> SoftmaxCrossEntropy.Result {
    let result = SoftmaxCrossEntropy.evaluate(logits: logits, labels: labels, weights: weights)
    guard result.loss.isFinite else {
      throw TrainingError("loss became \(result.loss) at step \(step + 1); lower --lr or check the data")
    }
    lastLoss = result.loss
    return result
  }

  /// Forward both halves side by side, the loss over the whole batch's logits (so weights and
  /// the mean are exactly the whole batch's), backward both halves side by side, and the
  /// replica's parameter gradients added to the network's.
  private func splitStep(replica: Network, weights: [Float]?) throws {
    for (mine, theirs) in zip(network.parameters, replica.parameters) { theirs.value = mine.value }
    let n = batch.shape[0]
    let half = n / 2
    let size = batch.count / n
    let halves = [0..<half, half..<n].map { rows in
      Tensor(
        shape: [rows.count] + Array(batch.shape.dropFirst()),
        scalars: Array(batch.scalars[(rows.lowerBound * size)..<(rows.upperBound * size)]))
    }
    let networks = [network, replica]
    var logits = [Tensor](repeating: Tensor(shape: [0]), count: 2)
    logits.withUnsafeMutableBufferPointer { slots in
      let out = UncheckedPointer(slots.baseAddress)
      Parallel.replicas(2) { index in
        out.pointer?[index] = networks[index].forward(halves[index], training: true).logits
      }
    }
    let classes = logits[0].shape[1]
    let joined = Tensor(shape: [n, classes], scalars: logits[0].scalars + logits[1].scalars)
    let gradient = try loss(joined, weights).gradient
    let parts = [0..<half, half..<n].map { rows in
      Tensor(
        shape: [rows.count, classes],
        scalars: Array(gradient.scalars[(rows.lowerBound * classes)..<(rows.upperBound * classes)]))
    }
    Parallel.replicas(2) { index in
      networks[index].backward(parts[index], parameterGradients: true, inputGradient: false)
    }
    for (mine, theirs) in zip(network.parameters, replica.parameters) {
      let count = mine.gradient.count
      theirs.gradient.withPointer { g in
        mine.gradient.withMutablePointer { target in
          for i in 0..<count { target[i] += g[i] }
        }
      }
    }
  }
}

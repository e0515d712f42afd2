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
  /// other core; nil when a layer inside a block couples the images of a batch.
  private let replica: Network?
  /// Indices in `network.layers` of its BatchNorm layers (synchronised in a split step).
  private let norms: [Int]

  /// Creates a loop for `network` with the given update rule.
  /// - Parameter replica: a network of the same architecture (any weights: they are copied
  ///   from `network` before every step). With it, a step runs two half-batches side by side,
  ///   one per core, each network's loops serial inside (`Parallel.replicas`), and sums their
  ///   parameter gradients: the same loss and gradients as one network over the whole batch
  ///   up to float summation order, with one synchronisation per pass (and one more per
  ///   BatchNorm, whose statistics are the whole batch's) instead of several per layer.
  ///   Ignored when `canSplitBatches` is false or on one core.
  public init(network: Network, rule: any UpdateRule, batchSize: Int, replica: Network? = nil) {
    precondition(batchSize > 0, "batch size must be positive")
    self.network = network
    self.optimizer = Optimizer(rule: rule, parameters: network.parameters)
    self.batchSize = batchSize
    batch = Tensor(shape: [batchSize] + network.inputShape)
    labels = []
    norms = network.layers.indices.filter { network.layers[$0] is BatchNorm2d }
    if let replica, Self.canSplitBatches(network), Parallel.workers > 1 {
      precondition(
        replica.parameters.map(\.value.shape) == network.parameters.map(\.value.shape),
        "TrainingLoop: the replica's parameters differ from the network's")
      self.replica = replica
    } else {
      self.replica = nil
    }
  }

  /// Whether a batch can be split across replicas: every layer that couples a batch's images
  /// is a BatchNorm at the top level, which the split step synchronises (not one inside a
  /// residual block).
  public static func canSplitBatches(_ network: Network) -> Bool {
    network.leafLayers.filter { $0 is BatchNorm2d }.count == network.layers.filter { $0 is BatchNorm2d }.count
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
  ///
  /// BatchNorm layers are synchronised: each pass runs in segments between them; at a
  /// BatchNorm each half's sums (Σx, Σx² forward; Σ∂y, Σ∂y·x̂ backward) are added, so both
  /// halves normalise with the whole batch's statistics, as one network would.
  private func splitStep(replica: Network, weights: [Float]?) throws {
    for (mine, theirs) in zip(network.parameters, replica.parameters) { theirs.value = mine.value }
    let n = batch.shape[0]
    let half = n / 2
    let networks = [network, replica]
    let layerCount = network.layers.count
    func norm(_ replica: Int, _ index: Int) -> BatchNorm2d {
      // swift-format-ignore: NeverForceUnwrap
      networks[replica].layers[index] as! BatchNorm2d
    }

    // Forward: segment (after the BatchNorm at start − 1, up to the next one at stop).
    var activations = [0..<half, half..<n].map { rows in
      Tensor(shape: [rows.count] + Array(batch.shape.dropFirst()), scalars: slice(batch, rows))
    }
    var sums: [Double] = []
    var start = 0
    for stop in norms + [layerCount] {
      let (inputs, totals) = (activations, sums)
      let results = Parallel.replicaMap(2) { i -> (Tensor, [Double]) in
        var x = inputs[i]
        if start > 0 {
          x = norm(i, start - 1).forward(
            x, batchSums: totals, count: n * x.shape[2] * x.shape[3], updatesRunningStatistics: i == 0)
        }
        x = networks[i].forward(x, layers: start..<stop, training: true)
        return (x, stop < layerCount ? norm(i, stop).batchSums(x) : [])
      }
      activations = results.map(\.0)
      sums = zip(results[0].1, results[1].1).map(+)
      start = stop + 1
    }
    let classes = activations[0].shape[1]
    let joined = Tensor(shape: [n, classes], scalars: activations[0].scalars + activations[1].scalars)
    let gradient = try loss(joined, weights).gradient

    // Backward: segment (above the BatchNorm at low, up to the one at stop, whose input
    // gradient comes first).
    var gradients = [0..<half, half..<n].map { rows in
      Tensor(shape: [rows.count, classes], scalars: slice(gradient, rows))
    }
    var gradientSums: [Float] = []
    var stop = layerCount
    for low in norms.reversed() + [-1] {
      let (outputs, totals) = (gradients, gradientSums)
      let results = Parallel.replicaMap(2) { i -> (Tensor, [Float]) in
        var g = outputs[i]
        if stop < layerCount {
          g = norm(i, stop).inputGradient(g, gradientSums: totals, count: n * g.shape[2] * g.shape[3])
        }
        g = networks[i].backward(g, layers: (low + 1)..<stop, parameterGradients: true, inputGradient: low >= 0)
        return (g, low >= 0 ? norm(i, low).gradientSums(g, parameterGradients: true) : [])
      }
      gradients = results.map(\.0)
      gradientSums = zip(results[0].1, results[1].1).map(+)
      stop = low
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

  /// The rows `rows` of a batch tensor, flat.
  private func slice(_ tensor: Tensor, _ rows: Range<Int>) -> [Float] {
    let size = tensor.count / tensor.shape[0]
    return Array(tensor.scalars[(rows.lowerBound * size)..<(rows.upperBound * size)])
  }
}

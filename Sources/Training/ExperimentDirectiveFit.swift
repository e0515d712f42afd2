import Datasets
import Engine
import Prototypes

/// Builds a fine-tune directive offline from a checkpoint, for experiments on runs that no
/// daemon analysed: the vocabulary is fitted the way the daemon fits it, and the prototypes
/// are the ones the two classes share most.
///
/// - Vocabulary: `Vocabulary.fit` on the target-layer cells of the probe images (K = 32 and at
///   most 32 PCA components for inputs up to 28×28, else 128 and 64; seed 17), as
///   `CheckpointAnalyzer` does.
/// - Prototypes (unless given): presence ρ_c(k) = fraction of the probe images of class c in
///   which prototype k covers at least the occupancy threshold (10%) of the cells; the `top`
///   prototypes by min(ρ_a(k), ρ_b(k)) (ties: lower id), i.e. the most co-occurring ones. This
///   stands in for the daemon's uncertain-prototype rule, which needs a run of checkpoints.
public enum ExperimentDirectiveFit {
  /// One prototype's presence in the two classes.
  public struct Presence: Sendable, Equatable {
    /// Prototype id.
    public var prototype: Int
    /// ρ_a and ρ_b.
    public var presence: [Double]
  }

  /// Fits the vocabulary on `probe` images of `data` and makes a manual directive.
  /// - Parameters:
  ///   - network: The start weights.
  ///   - pair: Two sorted class indices.
  ///   - prototypes: Prototype ids to use; empty chooses the `top` most co-occurring ones.
  ///   - step: The checkpoint's step, recorded in the directive.
  ///   - run: Run name recorded in the directive.
  /// - Returns: the directive and every prototype's presence (most co-occurring first).
  public static func make(
    network: Network, data: LabeledImages, probe: [Int], pair: [Int], prototypes: [Int], top: Int, step: Int,
    run: String
  ) -> (directive: FineTuneDirective, presence: [Presence]) {
    precondition(pair.count == 2 && !probe.isEmpty && top > 0, "ExperimentDirectiveFit: pair \(pair), top \(top)")
    let features = targetFeatures(network, data: data, indices: probe)
    let small = network.inputShape[1] <= 28
    let vocabulary = Vocabulary.fit(
      features: features, step: step, clusters: small ? 32 : 128, maximumComponents: small ? 32 : 64,
      previous: nil, seed: 17)
    guard let basis = vocabulary.basis else { preconditionFailure("Vocabulary.fit always sets its basis") }
    let thresholds = FineTuneDirective.Thresholds()
    let presence = Self.presence(
      cellPrototypes: vocabulary.cellPrototypes, cells: features.shape[2] * features.shape[3],
      labels: probe.map { data.labels[$0] }, pair: pair, ids: vocabulary.ids, occupancy: thresholds.occupancy)
    let chosen = prototypes.isEmpty ? presence.prefix(top).map(\.prototype) : prototypes
    let directive = FineTuneDirective(
      id: 0, key: "experiment-\(run)-\(step)-\(pair[0])-\(pair[1])", run: run, pair: pair,
      classNames: pair.map { data.classNames[$0] }, prototypes: chosen, vocabulary: basis, thresholds: thresholds,
      step: step, source: "manual")
    return (directive, presence)
  }

  /// ρ_a(k), ρ_b(k) for every prototype, sorted by min(ρ_a, ρ_b) descending (ties: lower id).
  /// - Parameters:
  ///   - cellPrototypes: Prototype of each cell, image-major (n·cells).
  ///   - labels: Label of each of the n images.
  public static func presence(
    cellPrototypes: [Int], cells: Int, labels: [Int], pair: [Int], ids: [Int], occupancy: Double
  ) -> [Presence] {
    precondition(cellPrototypes.count == labels.count * cells, "presence: \(cellPrototypes.count) cells")
    var present = [Int: [Int]]()
    for id in ids { present[id] = [0, 0] }
    var imagesOf = [0, 0]
    for (image, label) in labels.enumerated() {
      guard let side = pair.firstIndex(of: label) else { continue }
      imagesOf[side] += 1
      var counts = [Int: Int]()
      for j in 0..<cells { counts[cellPrototypes[image * cells + j], default: 0] += 1 }
      for (id, count) in counts where Double(count) >= occupancy * Double(cells) {
        present[id, default: [0, 0]][side] += 1
      }
    }
    return present.map { id, counts in
      Presence(
        prototype: id, presence: (0..<2).map { imagesOf[$0] == 0 ? 0 : Double(counts[$0]) / Double(imagesOf[$0]) })
    }.sorted {
      (min($0.presence[0], $0.presence[1]), -$0.prototype) > (min($1.presence[0], $1.presence[1]), -$1.prototype)
    }
  }

  // images (n,C,H,W) -> target-layer activations (n,d,h,w), in batches
  static func targetFeatures(_ network: Network, data: LabeledImages, indices: [Int]) -> Tensor {
    var scalars: [Float] = []
    var shape: [Int] = []
    var start = 0
    let size = AnalysisBatching.batchSize(network)
    while start < indices.count {
      let chunk = Array(indices[start..<min(indices.count, start + size)])
      let batch = Tensor(shape: [chunk.count] + network.inputShape, scalars: data.batchFloats(chunk))
      let captured = network.forward(batch, training: false, capture: network.targetLayerIndex).captured
      scalars += captured.scalars
      shape = Array(captured.shape.dropFirst())
      start += size
    }
    return Tensor(shape: [indices.count] + shape, scalars: scalars)
  }
}

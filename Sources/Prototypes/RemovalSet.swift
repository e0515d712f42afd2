import Engine

/// The removal set R of a fine-tune directive (DESIGN §7): training images of classes a and b
/// that contain an uncertain prototype — at least `occupancy` of the target layer's cells
/// assigned to it, with mean normalised GradCAM (for the true class) at least `intensity` over
/// those cells — capped at `maximumFraction` of the two classes' images, keeping the highest
/// occupancy × intensity. The same code serves the trainer and the experiment.
public enum RemovalSet {
  /// One candidate image's strongest flagged prototype.
  public struct Score: Sendable, Equatable {
    /// Index of the image (the caller's numbering).
    public var image: Int
    /// Fraction of cells assigned to the prototype.
    public var occupancy: Double
    /// Mean normalised GradCAM over those cells.
    public var intensity: Double
    /// The prototype.
    public var prototype: Int
  }

  /// Scores per image from cell assignments and maps.
  /// - Parameters:
  ///   - assignments: Prototype id of every cell, image-major (n·cells).
  ///   - maps: Normalised GradCAM Ŝ of every cell, same layout.
  ///   - cells: Cells per image (h·w).
  ///   - images: The caller's index of each of the n images.
  ///   - prototypes: The uncertain prototype ids.
  /// - Returns: for each image, its flagged prototype with the largest occupancy × intensity
  ///   (nil where no flagged prototype occurs).
  public static func scores(
    assignments: [Int], maps: [Float], cells: Int, images: [Int], prototypes: [Int]
  ) -> [Score?] {
    precondition(
      assignments.count == images.count * cells && maps.count == assignments.count,
      "RemovalSet: \(assignments.count) assignments, \(maps.count) map values for \(images.count)×\(cells) cells")
    let flagged = Set(prototypes)
    return images.indices.map { i in
      var best: Score?
      for prototype in flagged {
        var count = 0
        var sum = 0.0
        for j in 0..<cells where assignments[i * cells + j] == prototype {
          count += 1
          sum += Double(maps[i * cells + j])
        }
        guard count > 0 else { continue }
        let score = Score(
          image: images[i], occupancy: Double(count) / Double(cells), intensity: sum / Double(count),
          prototype: prototype)
        if best.map({ score.occupancy * score.intensity > $0.occupancy * $0.intensity }) ?? true { best = score }
      }
      return best
    }
  }

  /// R from scores: the images passing both thresholds, the highest occupancy × intensity
  /// first (ties: lower image index first), at most ⌊maximumFraction · pairImages⌋ of them.
  /// - Parameter pairImages: How many training images classes a and b have together.
  public static func select(
    _ scores: [Score?], pairImages: Int, thresholds: FineTuneDirective.Thresholds
  ) -> [Int] {
    let limit = Int((thresholds.maximumFraction * Double(pairImages)).rounded(.down))
    return
      scores.compactMap { $0 }
      .filter { $0.occupancy >= thresholds.occupancy && $0.intensity >= thresholds.intensity }
      .sorted { ($0.occupancy * $0.intensity, -$0.image) > ($1.occupancy * $1.intensity, -$1.image) }
      .prefix(limit).map(\.image)
  }

  /// R for `directive` with the trainer's current `network`: GradCAM (true class) and target
  /// activations of every candidate image, in memory-budgeted batches, cells assigned with the
  /// directive's vocabulary.
  /// - Parameters:
  ///   - candidates: Indices (the caller's numbering) of the training images of classes a and b.
  ///   - labels: Their labels, aligned with `candidates`.
  ///   - batch: The images (k,C,H,W) for a list of candidate indices.
  /// - Returns: R (candidate indices) and every candidate's score, for reporting.
  public static func select(
    network: Network, candidates: [Int], labels: [Int], directive: FineTuneDirective,
    batch: ([Int]) -> Tensor
  ) -> (removed: [Int], scores: [Score?]) {
    precondition(candidates.count == labels.count, "RemovalSet: \(candidates.count) candidates, \(labels.count) labels")
    let pipeline = CAMPipeline(network: network)
    let size = AnalysisBatching.batchSize(network)
    var scores: [Score?] = []
    var start = 0
    while start < candidates.count {
      let end = min(candidates.count, start + size)
      let indices = Array(candidates[start..<end])
      let result = pipeline.run(batch(indices), target: .classes(Array(labels[start..<end])))
      let cells = result.raw.shape[1] * result.raw.shape[2]
      scores += Self.scores(
        assignments: directive.vocabulary.assign(result.activations), maps: result.normalized.scalars, cells: cells,
        images: indices, prototypes: directive.prototypes)
      start = end
    }
    return (select(scores, pairImages: candidates.count, thresholds: directive.thresholds), scores)
  }
}

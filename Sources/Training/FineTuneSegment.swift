import Datasets
import Engine
import Foundation
import Models
import Prototypes

/// Executes a fine-tune directive on the running job (DESIGN §7): removal set R from the
/// current weights, then the curated → full schedule on the same `TrainingLoop` (same
/// optimiser state and learning rate, step numbers continuing the run's), checkpoints of the
/// segment tagged `i2x.segment = finetune:<id>`, and before/after validation figures.
final class FineTuneSegment: DirectiveExecutor {
  /// A checkpoint writer: (step, epoch, metrics, segment tag) → file written (and published).
  typealias CheckpointWriter = (Int, Int, [String: Double], String) throws -> URL

  let configuration: TrainingConfiguration
  let architecture: Architecture
  let loop: TrainingLoop
  let data: LabeledImages
  let splits: DatasetSplits
  let writeCheckpoint: CheckpointWriter
  let log: @Sendable (String) -> Void
  /// The epoch recorded in the segment's checkpoints (the job's current one).
  var epoch = 1
  /// Checkpoints written by segments, in order (the job takes them for its summary).
  var written: [URL] = []

  init(
    configuration: TrainingConfiguration, architecture: Architecture, loop: TrainingLoop, data: LabeledImages,
    splits: DatasetSplits, writeCheckpoint: @escaping CheckpointWriter, log: @escaping @Sendable (String) -> Void
  ) {
    self.configuration = configuration
    self.architecture = architecture
    self.loop = loop
    self.data = data
    self.splits = splits
    self.writeCheckpoint = writeCheckpoint
    self.log = log
  }

  private var network: Network { loop.network }
  private var hasBatchNorm: Bool { architecture.layers.contains { $0.kind == "batchnorm2d" } }

  /// Channels of the GradCAM target layer's output (the vocabulary's dimension).
  var targetChannels: Int {
    let layers = Array(network.layers[0...network.targetLayerIndex])
    return Network.outputShape(of: layers, for: [1] + network.inputShape)?[1] ?? 0
  }

  func check(_ directive: FineTuneDirective) throws {
    guard configuration.finetunePolicy != "off" else {
      throw DirectiveRefusal("this trainer runs with --finetune off")
    }
    let classes = data.classNames.count
    guard directive.pair.allSatisfy({ (0..<classes).contains($0) }) else {
      throw DirectiveRefusal(
        "pair \(directive.pair) is out of range for dataset '\(configuration.dataset)' (classes 0–\(classes - 1))")
    }
    guard directive.vocabulary.dimension == targetChannels else {
      throw DirectiveRefusal(
        "the vocabulary has dimension \(directive.vocabulary.dimension) but the target layer '\(architecture.target)' has \(targetChannels) channels"
      )
    }
  }

  func execute(_ directive: FineTuneDirective) throws -> [String: Double] {
    let started = Date()
    let c = configuration
    let (a, b) = (directive.pair[0], directive.pair[1])
    let before = Evaluation.run(network, on: data, indices: splits.validation)
    let candidates = splits.train.filter { data.labels[$0] == a || data.labels[$0] == b }
    let selection = RemovalSet.select(
      network: network, candidates: candidates, labels: candidates.map { data.labels[$0] }, directive: directive
    ) { indices in Tensor(shape: [indices.count] + self.network.inputShape, scalars: self.data.batchFloats(indices)) }
    let removed = Set(selection.removed)
    let variant = c.finetuneVariant
    let seed = c.seed ^ (UInt64(directive.id) &* 0x9E37_79B9_7F4A_7C15)
    let schedule = FineTuneSchedule.curatedThenFull(
      training: splits.train, removed: variant == "remove" ? removed : [], batchSize: c.batchSize, seed: seed)
    let curatedSize = variant == "remove" ? splits.train.count - removed.count : splits.train.count
    let curatedBatches = (curatedSize + c.batchSize - 1) / c.batchSize
    let curatedData = try curatedImages(variant, removed: removed, scores: selection.scores, directive, seed: seed)
    let every = c.checkpointEvery > 0 ? c.checkpointEvery : max(1, (schedule.steps + 3) / 4)
    let tag = "finetune:\(directive.id)"
    log(
      "directive \(directive.id): fine-tuning \(data.classNames[a]) / \(data.classNames[b]) (\(variant)): |R| = \(removed.count) of \(candidates.count), \(schedule.steps) steps"
    )

    let firstStep = loop.step + 1
    let trainingStart = Date()
    var taken = 0
    var images = 0
    var loss: Float = .nan
    var lastWritten = -1
    for (index, batch) in schedule.batches.enumerated() {
      if batch.count < 2 && hasBatchNorm { continue }
      let curated = index < curatedBatches
      let weights = variant == "downweight" && curated ? batch.map { removed.contains($0) ? Float(0.5) : 1 } : nil
      loss = try loop.step(on: curated ? curatedData : data, indices: batch[...], weights: weights)
      taken += 1
      images += batch.count
      if taken % every == 0 {
        written.append(try writeCheckpoint(loop.step, epoch, ["loss": Double(loss)], tag))
        lastWritten = loop.step
      }
    }
    let trainingSeconds = Date().timeIntervalSince(trainingStart)
    let after = Evaluation.run(network, on: data, indices: splits.validation)
    if lastWritten != loop.step {
      written.append(
        try writeCheckpoint(
          loop.step, epoch, ["loss": Double(loss), "validation_accuracy": after.accuracy], tag))
    }
    let metrics: [String: Double] = [
      "removed": Double(removed.count), "candidates": Double(candidates.count), "steps": Double(taken),
      "first_step": Double(firstStep), "last_step": Double(loop.step),
      "seconds": Date().timeIntervalSince(started), "training_seconds": trainingSeconds,
      "images_per_second": trainingSeconds > 0 ? Double(images) / trainingSeconds : 0,
      "val_accuracy_before": before.accuracy, "val_accuracy_after": after.accuracy,
      "pair_val_confusions_before": Double(before.confusion[a][b] + before.confusion[b][a]),
      "pair_val_confusions_after": Double(after.confusion[a][b] + after.confusion[b][a]),
    ]
    log(
      String(
        format:
          "directive %d: done, steps %d–%d in %.1f s (%.0f img/s); validation accuracy %.4f → %.4f, pair confusions %d → %d",
        directive.id, firstStep, loop.step, trainingSeconds, metrics["images_per_second"] ?? 0, before.accuracy,
        after.accuracy, Int(metrics["pair_val_confusions_before"] ?? 0), Int(metrics["pair_val_confusions_after"] ?? 0)
      ))
    return metrics
  }

  /// The images of the curated epoch: the data itself, or for the region variants a copy in
  /// which each image of R has the cells of its flagged prototype (the target layer's grid,
  /// upsampled by nearest cell) replaced by a σ=2 blur of the image or by seeded noise.
  func curatedImages(
    _ variant: String, removed: Set<Int>, scores: [RemovalSet.Score?], _ directive: FineTuneDirective, seed: UInt64
  ) throws -> LabeledImages {
    guard variant == "region-blur" || variant == "region-noise", !removed.isEmpty else { return data }
    var copy = data
    var generator = SplitMix64(seed: seed ^ 0x4E01_5E)
    let prototypeOf = Dictionary(
      scores.compactMap { $0 }.filter { removed.contains($0.image) }.map { ($0.image, $0.prototype) },
      uniquingKeysWith: { first, _ in first })
    let (channels, height, width) = (data.channels, data.height, data.width)
    let pipeline = CAMPipeline(network: network)
    let images = removed.sorted()
    for start in stride(from: 0, to: images.count, by: 64) {
      let chunk = Array(images[start..<min(images.count, start + 64)])
      let batch = Tensor(shape: [chunk.count] + network.inputShape, scalars: data.batchFloats(chunk))
      let result = pipeline.run(batch, target: .classes(chunk.map { data.labels[$0] }))
      let (h, w) = (result.raw.shape[1], result.raw.shape[2])
      let assignments = directive.vocabulary.assign(result.activations)
      for (k, image) in chunk.enumerated() {
        guard let prototype = prototypeOf[image] else { continue }
        let base = image * data.imageSize
        let original = data.pixels[base..<base + data.imageSize].map { Float($0) }
        let replacement: [Float]
        if variant == "region-blur" {
          replacement =
            GaussianBlur.apply(Tensor(shape: [channels, height, width], scalars: original), sigma: 2)
            .scalars
        } else {
          replacement = (0..<data.imageSize).map { _ in Float(generator.next() % 256) }
        }
        for y in 0..<height {
          for x in 0..<width where assignments[k * h * w + (y * h / height) * w + x * w / width] == prototype {
            for channel in 0..<channels {
              let offset = (channel * height + y) * width + x
              copy.pixels[base + offset] = UInt8(max(0, min(255, replacement[offset].rounded())))
            }
          }
        }
      }
    }
    return copy
  }
}

import Checkpoints
import Datasets
import Engine
import Explainer
import Foundation
import Models

/// `i2x-train train`: load data, split, train for some epochs, validate each epoch and write
/// checkpoints `step-<n>.safetensors` (periodic and final) into the output directory.
public struct TrainingJob {
  /// What to run.
  public var configuration: TrainingConfiguration
  /// Receives progress and log lines (stderr in the CLI).
  public var log: @Sendable (String) -> Void

  /// Creates a job.
  public init(configuration: TrainingConfiguration, log: @escaping @Sendable (String) -> Void) {
    self.configuration = configuration
    self.log = log
  }

  /// Outcome of a finished run.
  public struct Summary: Sendable {
    /// Steps taken.
    public var steps: Int
    /// Validation accuracy after each epoch.
    public var validationAccuracy: [Double]
    /// Checkpoint files written, in order.
    public var checkpoints: [URL]
    /// Training throughput over the whole run (images/s).
    public var imagesPerSecond: Double
    /// Outbox entries not yet acknowledged when the job ended (publishing only).
    public var pendingPublications = 0
  }

  /// Runs the job.
  /// - Throws: `TrainingError`, `DatasetError`, `ArchitectureError` or file errors.
  public func run() throws -> Summary {
    let c = configuration
    guard let architecture = Architecture.reference(c.architecture) else {
      throw TrainingError(
        "unknown architecture '\(c.architecture)'; built-in: \(Architecture.referenceNames.joined(separator: ", "))",
        exitCode: .usage)
    }
    guard c.epochs > 0, c.batchSize > 0, c.learningRate > 0, c.checkpointEvery >= 0 else {
      throw TrainingError("--epochs, --batch and --lr must be positive, --checkpoint-every ≥ 0", exitCode: .usage)
    }
    let data = try DatasetCatalog.load(
      name: c.dataset, dataDirectory: c.dataDirectory, seed: c.seed, classNamesFile: c.classNamesFile)
    var train = data.train
    guard [train.channels, train.height, train.width] == architecture.input,
      train.classNames.count == architecture.classes
    else {
      throw TrainingError(
        "dataset '\(c.dataset)' has \(train.channels)×\(train.height)×\(train.width) images in \(train.classNames.count) classes; '\(architecture.name)' needs \(architecture.input.map(String.init).joined(separator: "×")) in \(architecture.classes)",
        exitCode: .usage)
    }
    var splits = DatasetSplits.make(
      labels: train.labels, classes: train.classNames.count, validation: c.validationSize,
      probePerClass: c.probePerClass, generator: c.generatorSize, seed: c.seed)
    if c.trainSplit == "generator" {
      // An oracle for the explainer: trained on the generator split only (DESIGN §8).
      splits.train = splits.generator
      log("training on the generator split (\(splits.generator.count) images): an oracle for the explainer")
    }
    if c.shuffleLabels {
      // Permute labels among the training images only: probe and validation stay true.
      var generator = SplitMix64(seed: c.seed ^ 0x5AFF1E)
      let donors = splits.train.shuffled(using: &generator)
      var labels = train.labels
      for (image, donor) in zip(splits.train, donors) { labels[image] = data.train.labels[donor] }
      train.labels = labels
      log("training on shuffled labels (control run)")
    }
    guard splits.train.count >= 2 else {
      throw TrainingError(
        "only \(splits.train.count) training images remain after the held-out splits; lower --validation-size/--probe-per-class/--generator-size"
      )
    }
    try FileManager.default.createDirectory(at: c.outputDirectory, withIntermediateDirectories: true)
    try SplitRecord(configuration: c, splits: splits).write(to: c.outputDirectory.appendingPathComponent("splits.json"))

    let publisher = try c.publishEndpoint.map { endpoint in
      try startPublisher(
        endpoint, architecture: architecture, data: train, probe: splits.probe, generatorSplit: splits.generator)
    }
    let network = try architecture.build(seed: c.seed)
    let loop = TrainingLoop(
      network: network, rule: try TrainingLoop.rule(for: c), batchSize: c.batchSize,
      replica: TrainingLoop.canSplitBatches(network) ? try architecture.build(seed: c.seed) : nil)
    let segment = FineTuneSegment(
      configuration: c, architecture: architecture, loop: loop, data: train, splits: splits,
      writeCheckpoint: { step, epoch, metrics, tag in
        try writeCheckpoint(
          architecture, network, train, step: step, epoch: epoch, metrics: metrics, publisher: publisher, segment: tag)
      }, log: log)
    let directives = try publisher.map { try directiveRunner($0) }
    let stepsPerEpoch = (splits.train.count + c.batchSize - 1) / c.batchSize
    let totalSteps = stepsPerEpoch * c.epochs
    log(
      "training \(architecture.name) on \(c.dataset): \(splits.train.count) images, \(network.parameterCount) parameters, \(totalSteps) steps"
    )

    var progress = ProgressMeter(totalSteps: totalSteps, batchSize: c.batchSize, log: log)
    var summary = Summary(steps: 0, validationAccuracy: [], checkpoints: [], imagesPerSecond: 0)
    var lastLoss: Float = .nan
    var mainSteps = 0
    /// Acts on the directives delivered since the last call (between steps).
    func handleDirectives(epoch: Int) throws {
      guard let publisher, let directives else { return }
      let delivered = publisher.takeDirectives()
      guard !delivered.isEmpty else { return }
      segment.epoch = epoch
      try directives.handle(delivered, executor: segment)
      summary.checkpoints += segment.written
      segment.written = []
    }
    if publisher != nil {
      // The initial weights, as step 0 (epoch 0): the daemon's first interval then runs from
      // before any training, so what is learned before the first published step (a planted
      // cue is, within 100 steps) is evidence accumulated over an interval, not a given.
      summary.checkpoints.append(
        try writeCheckpoint(architecture, network, train, step: 0, epoch: 0, metrics: [:], publisher: publisher))
    }
    for epoch in 1...c.epochs {
      let order = TrainingLoop.epochOrder(splits.train, seed: c.seed, epoch: epoch)
      var start = 0
      while start < order.count {
        let end = min(order.count, start + c.batchSize)
        // A one-image batch has no batch statistics; PyTorch would fail on it too. Skip it.
        if end - start < 2 && architecture.layers.contains(where: { $0.kind == "batchnorm2d" }) { break }
        lastLoss = try loop.step(on: train, indices: order[start..<end])
        mainSteps += 1
        progress.stepFinished(epoch: epoch, epochs: c.epochs, loss: lastLoss)
        if c.checkpointEvery > 0 && loop.step % c.checkpointEvery == 0 && mainSteps < totalSteps {
          summary.checkpoints.append(
            try writeCheckpoint(
              architecture, network, train, step: loop.step, epoch: epoch, metrics: ["loss": Double(lastLoss)],
              publisher: publisher))
        }
        start = end
        try handleDirectives(epoch: epoch)
      }
      let validation = Evaluation.run(network, on: train, indices: splits.validation)
      summary.validationAccuracy.append(validation.accuracy)
      log(
        String(
          format: "epoch %d/%d: validation accuracy %.4f (loss %.4f, %d images)", epoch, c.epochs, validation.accuracy,
          validation.loss, validation.count))
      // A fine-tune segment run after the last batch has already written (and published) this
      // step's checkpoint, tagged with its segment: writing it again would replace that file.
      let segmentEndedHere = summary.checkpoints.last?.lastPathComponent == "step-\(loop.step).safetensors"
      if epoch == c.epochs && !segmentEndedHere {
        summary.checkpoints.append(
          try writeCheckpoint(
            architecture, network, train, step: loop.step, epoch: epoch,
            metrics: ["loss": Double(lastLoss), "validation_accuracy": validation.accuracy], publisher: publisher))
      }
    }
    summary.imagesPerSecond = progress.imagesPerSecond
    if publisher != nil && c.awaitDirectives > 0 {
      // Keep publishing (and polling) for late directives, act on them, wait for the rest.
      log("waiting \(Int(c.awaitDirectives)) s for fine-tune directives")
      let deadline = Date().addingTimeInterval(c.awaitDirectives)
      let journal = try DirectiveJournal(directory: c.outputDirectory.appendingPathComponent("directives"))
      while Date() < deadline {
        try handleDirectives(epoch: c.epochs)
        // Nothing more to do once the --max-finetunes limit is reached.
        if c.maximumFineTunes < Int.max, journal.records().filter({ $0.state == "done" }).count >= c.maximumFineTunes {
          log("--max-finetunes \(c.maximumFineTunes) reached; not waiting for more directives")
          break
        }
        Thread.sleep(forTimeInterval: 0.2)
      }
    }
    summary.steps = loop.step
    if let last = summary.checkpoints.last { try linkFinal(to: last) }
    if let publisher {
      log(
        "waiting up to \(Int(c.drainTimeout)) s for the daemon to acknowledge \(publisher.outbox.pending().count) outbox entries"
      )
      summary.pendingPublications = publisher.drain(timeout: c.drainTimeout)
      // Directives that came in the last acks: answered, so none is left dangling.
      let late = publisher.takeDirectives()
      if let directives, !late.isEmpty {
        try directives.handle(late, executor: FinishedTrainer())
        summary.pendingPublications = publisher.drain(timeout: min(10, c.drainTimeout))
      }
      publisher.stop()
      if summary.pendingPublications > 0 {
        log(
          "\(summary.pendingPublications) checkpoints still unacknowledged in \(publisher.outbox.directory.path); send them later with 'i2x-train drain --out \(c.outputDirectory.path) --endpoint \(c.publishEndpoint ?? "")'"
        )
      } else {
        log("all checkpoints acknowledged by the daemon")
      }
    }
    return summary
  }

  /// Starts the publisher and queues the run registration with its probe set: the
  /// class-stratified probe split, never trained on, as U8 images and I64 labels.
  private func startPublisher(
    _ endpoint: String, architecture: Architecture, data: LabeledImages, probe: [Int], generatorSplit: [Int]
  ) throws -> Publisher {
    let outbox = try Outbox(directory: configuration.outputDirectory.appendingPathComponent("outbox"))
    let publisher = Publisher(
      outbox: outbox, endpoint: endpoint, options: configuration.publishSocketOptions, log: log)
    let probeSet = data.subset(probe)
    let file = SafetensorsFile(tensors: [
      "images": TensorRecord(bytes: probeSet.pixels, shape: [probeSet.count, data.channels, data.height, data.width]),
      "labels": TensorRecord(int64s: probeSet.labels.map { Int64($0) }, shape: [probeSet.count]),
    ])
    var registration = Outbox.Entry(
      kind: "register-run", run: configuration.runName, architecture: architecture.json(), classes: data.classNames,
      finetunePolicy: configuration.finetunePolicy)
    registration.dataset = configuration.dataset
    registration.generatorSplit = GenerativePrior.splitHash(generatorSplit)
    registration.explainPolicy = configuration.explainPolicy
    try publisher.enqueue(registration, payload: try file.serialized())
    publisher.pollInterval = configuration.awaitDirectives > 0 ? 1 : 2
    publisher.start()
    log(
      "publishing to \(endpoint) as run '\(configuration.runName)' (outbox \(outbox.directory.path), \(probeSet.count) probe images)"
    )
    return publisher
  }

  /// The journal and runner of this job's directives; reports directives the trainer was
  /// executing when it last stopped as `failed: interrupted` first.
  private func directiveRunner(_ publisher: Publisher) throws -> DirectiveRunner {
    let journal = try DirectiveJournal(directory: configuration.outputDirectory.appendingPathComponent("directives"))
    let runner = DirectiveRunner(
      journal: journal, run: configuration.runName,
      send: { status in try publisher.enqueue(.directiveStatus(status), payload: []) }, log: log,
      maximumExecutions: configuration.maximumFineTunes)
    try runner.recoverInterrupted()
    return runner
  }

  /// Writes (and publishes) a checkpoint; `segment` tags a fine-tune segment's checkpoints
  /// with the metadata key `i2x.segment`.
  private func writeCheckpoint(
    _ architecture: Architecture, _ network: Network, _ data: LabeledImages, step: Int, epoch: Int,
    metrics: [String: Double], publisher: Publisher?, segment: String? = nil
  ) throws -> URL {
    let url = configuration.outputDirectory.appendingPathComponent("step-\(step).safetensors")
    let metadata = CheckpointMetadata(
      run: configuration.runName, step: step, epoch: epoch, classes: data.classNames, metrics: metrics)
    var file = ModelCheckpoint(architecture: architecture, network: network, metadata: metadata).file
    if let segment { file.metadata["i2x.segment"] = segment }
    try file.write(to: url)
    log("wrote \(url.path)")
    try publisher?.enqueue(
      Outbox.Entry(kind: "checkpoint", run: configuration.runName, step: step, epoch: epoch, metrics: metrics),
      payloadFile: url)
    return url
  }

  /// Points `final.safetensors` at the last checkpoint (a relative symlink, replaced atomically).
  private func linkFinal(to checkpoint: URL) throws {
    let directory = configuration.outputDirectory
    let link = directory.appendingPathComponent("final.safetensors")
    let temporary = directory.appendingPathComponent(".final.safetensors.tmp")
    try? FileManager.default.removeItem(at: temporary)
    try FileManager.default.createSymbolicLink(
      atPath: temporary.path, withDestinationPath: checkpoint.lastPathComponent)
    guard rename(temporary.path, link.path) == 0 else {
      throw TrainingError("cannot create \(link.path): \(String(cString: strerror(errno)))", exitCode: .ioError)
    }
  }
}

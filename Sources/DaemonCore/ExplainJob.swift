import Checkpoints
import Engine
import Explainer
import Foundation
import Models
import Prototypes

/// An `explain` job (DESIGN §8): the data-free explanation of one class of one checkpoint.
/// It reads the run's architecture and class names, the checkpoint's weights, the generator
/// and the oracle — never the run's probe set or any dataset file (a test watches its file
/// accesses from outside the process).
struct ExplainJob {
  let store: DaemonStore
  let settings: ExplainerSettings
  let log: @Sendable (String) -> Void

  /// Runs the job and records the explanation (done or failed with the reason).
  func run(_ job: DaemonStore.Job) throws {
    guard let record = try store.explanation(job: job.id) else { return }
    try store.setExplanationState(id: record.id, "running")
    do {
      let (explanation, images, warnings) = try explain(record, job: job)
      try store.finishExplanation(id: record.id, document: try explanation.json(), images: images, warnings: warnings)
      log(
        String(
          format: "run '%@' step %d: explained class %d in %.1f s (activation %.0f%%, prior %.0f%%%@, sanity %@)",
          job.run, job.step, record.classIndex, explanation.seconds, explanation.activation.rate * 100,
          explanation.priorActivation.rate * 100,
          explanation.oracle.map { String(format: ", oracle %.0f%%", $0.rate * 100) } ?? "",
          explanation.sanity.passed ? "passed" : "FAILED"))
    } catch let error as DaemonError {
      try store.setExplanationState(id: record.id, "failed", error: error.message)
      log("run '\(job.run)': explanation of class \(record.classIndex) failed: \(error.message)")
    }
  }

  private func explain(_ record: DaemonStore.ExplanationRecord, job: DaemonStore.Job) throws
    -> (ClassExplanation, [String: [UInt8]], [String])
  {
    guard let generatorPath = settings.generatorPath else {
      throw DaemonError(
        .notReady, "this daemon has no generator; start i2xd with --generator FILE (i2x-train generator)")
    }
    let prior: GenerativePrior
    do { prior = try GenerativePrior(contentsOf: URL(fileURLWithPath: generatorPath)) } catch {
      throw DaemonError(.badData, "\(error)")
    }
    guard let inputs = try store.jobInputs(job) else {
      throw DaemonError(.unknownRun, "run '\(job.run)' has no checkpoint at step \(job.step)")
    }
    let architecture = try Architecture(json: inputs.architecture, limits: CheckpointAnalyzer.permissive)
    let data = try store.runData(run: job.run)
    let warnings = try Self.check(
      prior.description, architecture: architecture, dataset: data.dataset, split: data.generatorSplit)
    let bytes: [UInt8]
    do { bytes = try store.blobs.get(inputs.sha256) } catch {
      throw RetryableJobError(description: "cannot read blob \(inputs.sha256): \(error)")
    }
    let checkpoint = try ModelCheckpoint(
      file: try SafetensorsFile(
        bytes: bytes, limits: SafetensorsFile.Limits(maximumHeaderBytes: .max, maximumTensors: .max)),
      architecture: architecture, limits: CheckpointAnalyzer.permissive)
    let oracle = try settings.oraclePath.map { path -> Network in
      do { return try ModelCheckpoint(contentsOf: URL(fileURLWithPath: path), architectureName: nil).network } catch {
        throw DaemonError(.badData, "oracle \(path): \(error)")
      }
    }
    var explainerSettings = ClassExplainer.Settings()
    explainerSettings.count = settings.samples
    explainerSettings.scale = settings.scale
    explainerSettings.guidedFraction = settings.guidedFraction
    let explainer: ClassExplainer
    do {
      explainer = try ClassExplainer(
        prior: prior, architecture: architecture, classifier: checkpoint.network, oracle: oracle,
        settings: explainerSettings)
    } catch {
      throw DaemonError(.badData, "\(error)")
    }
    let names = try store.classNames(run: job.run)
    let (explanation, samples) = try explainer.explain(
      record.classIndex, className: names.indices.contains(record.classIndex) ? names[record.classIndex] : nil)
    var images: [String: [UInt8]] = [:]
    for (name, tensor) in [("guided", samples.guided), ("prior", samples.prior), ("randomized", samples.randomized)] {
      images[name] = try ExplanationImages.grid(tensor).encoded()
    }
    return (explanation, images, warnings)
  }

  /// The generator checks (DESIGN §8): the image shape and dataset must match the run (else
  /// an error), and the generator's split should be the one the run held out (else a
  /// warning: the data-free claim cannot be made).
  static func check(_ generator: GeneratorDescription, architecture: Architecture, dataset: String?, split: String?)
    throws
    -> [String]
  {
    guard generator.image == architecture.input else {
      throw DaemonError(
        .badData,
        "the generator makes \(generator.image) images but the run's classifier takes \(architecture.input); train a generator on the run's dataset (i2x-train generator)"
      )
    }
    var warnings: [String] = []
    if let dataset {
      guard dataset == generator.dataset else {
        throw DaemonError(
          .badData,
          "the generator was trained on '\(generator.dataset)' but the run uses '\(dataset)'; train one on '\(dataset)' (i2x-train generator --dataset \(dataset))"
        )
      }
    } else {
      warnings.append(
        "the run does not record its dataset, so the daemon cannot check that the generator (\(generator.dataset)) matches it"
      )
    }
    switch split {
    case generator.split.sha256?:
      break
    case let other?:
      warnings.append(
        "the generator was trained on another split than the one this run held out (run \(other.prefix(12)), generator \(generator.split.sha256.prefix(12)); different --seed or split sizes): it may have seen the classifier's training images, so this explanation is not data-free for this run"
      )
    case nil:
      warnings.append(
        "the run does not record its held-out generator split, so the daemon cannot tell whether the generator's images overlap the classifier's training data"
      )
    }
    return warnings
  }
}

/// The daemon's side of the explainer trigger: under `auto`, both classes of each flagged pair
/// are explained once per run.
enum ExplainTrigger {
  /// Requests the missing explanations; returns how many were created.
  @discardableResult
  static func apply(
    store: DaemonStore, run: String, report: AnalysisReport, step: Int, settings: ExplainerSettings,
    log: (String) -> Void
  ) throws -> Int {
    guard settings.generatorPath != nil, !report.uncertain.isEmpty,
      try store.explainPolicy(run: run, default: settings.defaultPolicy) == .auto
    else { return 0 }
    var created = 0
    var classes: [Int] = []
    for flag in report.uncertain.sorted(by: { $0.score > $1.score }) {
      for c in flag.pair where !classes.contains(c) { classes.append(c) }
    }
    for c in classes where try !store.hasExplanation(run: run, classIndex: c) {
      let request = try store.requestExplanation(run: run, classIndex: c, step: step, source: "auto")
      if request.created {
        created += 1
        log("run '\(run)' step \(step): explanation of class \(c) queued (flagged pair)")
      }
    }
    return created
  }
}

import Checkpoints
import Engine
import Foundation
import Models
import Prototypes

/// The per-checkpoint analysis job (DESIGN §6): GradCAM of the probe set for the new
/// checkpoint (cached), a vocabulary refit on the latest checkpoint's target-layer cells, and
/// the whole run's report recomputed from every cached observation (retrospective).
struct CheckpointAnalyzer {
  let store: DaemonStore
  let log: @Sendable (String) -> Void
  /// Probe images per checkpoint used for deletion/insertion AUC.
  var faithfulnessSample = 50
  /// Faithfulness is measured at every this many checkpoints (and at the latest by `refresh`).
  var faithfulnessEvery = 5
  /// Checkpoints a pair waits after a directive before a new flag makes another one.
  var finetuneCooldown = FineTuneTrigger.defaultCooldown
  /// The explainer's settings (flagged pairs trigger explanations under `auto`).
  var explainer = ExplainerSettings()

  /// Runs the job; returns the checkpoint's parameter count.
  func run(_ job: DaemonStore.Job) throws -> Int {
    guard let inputs = try store.jobInputs(job) else {
      throw DaemonError(.unknownRun, "checkpoint row for run '\(job.run)' step \(job.step) is missing")
    }
    // Everything stored passed the daemon's caps when it was acked; the analysis process's
    // memory cap is the backstop, so no second set of caps here.
    let architecture = try Architecture(json: inputs.architecture, limits: Self.permissive)
    let checkpoint = try load(inputs.sha256, architecture)
    guard let probe = try store.probe(run: job.run), !probe.labels.isEmpty else {
      return checkpoint.network.parameterCount  // no probe set (e.g. `i2x-train publish` without --probe): verify only
    }
    var timings: [String: Double] = [:]
    let started = Date()
    let cpuStarted = ProcessClock.cpuSeconds()
    let images = Tensor(shape: probe.shape, scalars: probe.images)
    // Faithfulness (deletion/insertion curves: more forward passes than GradCAM of the whole
    // probe set) at every `faithfulnessEvery`-th checkpoint; the refresh of a quiet run adds
    // its latest checkpoint.
    let earlier = try store.observedSteps(run: job.run).filter { $0 < job.step }.count
    let measured = faithfulnessEvery <= 1 || earlier % faithfulnessEvery == 0
    let (observation, ownFeatures) = CheckpointObservation.observe(
      network: checkpoint.network, step: job.step, images: images, labels: probe.labels,
      faithfulnessSample: measured ? faithfulnessSample : 0, timings: { timings[$0] = $1 })
    guard observation.isFinite else {
      throw DaemonError(
        .badData,
        "the model's outputs at step \(job.step) are not finite (inf or NaN logits or GradCAM maps: the run "
          + "diverged); this checkpoint is left out of the analysis")
    }
    try store.saveObservation(run: job.run, observation)

    // The vocabulary always comes from the latest checkpoint (I2X's "final model").
    let vocabularyStart = Date()
    var features = ownFeatures
    var latestStep = job.step
    if let latest = try store.latestObservedCheckpoint(run: job.run), latest.step != job.step {
      latestStep = latest.step
      features = Self.targetFeatures(try load(latest.sha256, architecture).network, images)
    }
    let small = architecture.input[1] <= 28
    let vocabulary = Vocabulary.fit(
      features: features, step: latestStep, clusters: small ? 32 : 128, maximumComponents: small ? 32 : 64,
      previous: try store.latestVocabulary(run: job.run), seed: 17)
    timings["vocabulary"] = Date().timeIntervalSince(vocabularyStart)

    let report = try analysis(job, probe: probe, vocabulary: vocabulary, timings: &timings)
    let seconds = Date().timeIntervalSince(started)
    // CPU seconds of the process: the job's own cost when it runs in its child process (as
    // i2xd runs it), whatever else the cores were doing.
    timings["cpu"] = ProcessClock.cpuSeconds() - cpuStarted
    let analysedStep = report.steps.last ?? job.step
    // Cue candidates are tested at the run's latest checkpoint before anything is recorded,
    // so that their outcomes commit with the report.
    let interventionStart = Date()
    let candidates =
      latestStep == job.step
      ? try InterventionRunner.testCandidates(
        store: store, run: job.run, network: checkpoint.network, vocabulary: vocabulary, observation: observation,
        report: report, probe: probe) : []
    let interventionSeconds = Date().timeIntervalSince(interventionStart)
    // The report, what it triggers (fine-tuning directives, explanation requests), the
    // candidates' outcomes and the job's completion commit together, under the job's claim: a
    // worker whose lease ran out records none of them, and one killed after the commit leaves
    // nothing to redo.
    var triggered: [String] = []
    try store.fencedFinishing(parameterCount: checkpoint.network.parameterCount) {
      try store.saveAnalysis(
        run: job.run, step: analysedStep, vocabulary: vocabulary, report: report, seconds: seconds, timings: timings,
        faithfulnessPending: faithfulnessSample > 0 && report.faithfulness.last?.step != analysedStep)
      try FineTuneTrigger.apply(
        store: store, run: job.run, report: report, vocabulary: vocabulary, step: analysedStep,
        cooldown: finetuneCooldown, log: { triggered.append($0) })
      try ExplainTrigger.apply(
        store: store, run: job.run, report: report, step: analysedStep, settings: explainer,
        log: { triggered.append($0) })
      for candidate in candidates {
        try store.saveIntervention(
          id: nil, run: job.run, step: vocabulary.step, prototype: candidate.prototype, label: candidate.label,
          outcome: candidate.outcome, error: nil, origin: "candidate")
      }
    }
    triggered.forEach(log)
    if !candidates.isEmpty {
      log(
        String(
          format: "tested %d cue candidate(s) of run '%@' at step %d by intervention in %.2f s", candidates.count,
          job.run, job.step, interventionSeconds))
    }
    log(
      String(
        format: "analysed run '%@' step %d in %.2f s (%d checkpoints%@, %d prototypes, %d uncertain)", job.run,
        job.step, seconds, report.steps.count, report.incremental == true ? ", incremental" : "",
        vocabulary.ids.count, report.uncertain.count))
    return checkpoint.network.parameterCount
  }

  /// The run's report after a new checkpoint: incremental (the last
  /// `RunAnalysis.incrementalWindow` intervals recomputed and merged onto the previous report,
  /// a cost independent of the run's length) when the new checkpoint is the run's latest and
  /// the previous report covers every earlier one; otherwise the full retrospective analysis.
  func analysis(
    _ job: DaemonStore.Job, probe: (images: [Float], shape: [Int], labels: [Int], classes: [String]),
    vocabulary: Vocabulary, timings: inout [String: Double]
  ) throws -> AnalysisReport {
    var stages: [String: Double] = [:]
    defer { timings.merge(stages) { _, new in new } }
    let steps = try store.observedSteps(run: job.run)
    let window = RunAnalysis.incrementalWindow
    if steps.count > window + 1, steps.last == job.step,
      let stored = try store.analysis(run: job.run, step: nil),
      let previous = try? JSONDecoder().decode(AnalysisReport.self, from: Data(stored.report.utf8)),
      previous.steps == Array(steps.dropLast())
    {
      let recent = try store.observations(run: job.run, last: window + 1, droppingRawMaps: true)
      let windowReport = RunAnalysis.analyze(
        observations: recent, labels: probe.labels, classNames: probe.classes, vocabulary: vocabulary,
        firstInterval: steps.count - window - 1, images: ProbeImages(pixels: probe.images, shape: probe.shape),
        timings: { stages[$0] = $1 })
      if let merged = RunAnalysis.merge(previous: previous, window: windowReport) { return merged }
    }
    return try fullAnalysis(job.run, probe: probe, vocabulary: vocabulary, timings: { stages[$0] = $1 })
  }

  /// I2X's retrospective analysis: every observation under `vocabulary`.
  func fullAnalysis(
    _ run: String, probe: (images: [Float], shape: [Int], labels: [Int], classes: [String]), vocabulary: Vocabulary,
    timings: @escaping (String, Double) -> Void
  ) throws -> AnalysisReport {
    RunAnalysis.analyze(
      observations: try store.observations(run: run, droppingRawMaps: true).filter(\.isFinite), labels: probe.labels,
      classNames: probe.classes, vocabulary: vocabulary, images: ProbeImages(pixels: probe.images, shape: probe.shape),
      timings: timings)
  }

  /// A `refresh` job: replaces the run's latest report, if it is still the latest, by the
  /// full retrospective analysis under the same vocabulary, so a run that stops publishing
  /// ends with exactly I2X's result; first measures the latest checkpoint's faithfulness if
  /// its analysis skipped it.
  func refresh(_ job: DaemonStore.Job) throws {
    guard let stored = try store.analysis(run: job.run, step: nil), stored.step == job.step,
      let vocabulary = try store.latestVocabulary(run: job.run), let probe = try store.probe(run: job.run)
    else { return }  // a newer checkpoint came in; its own analysis will be refreshed later
    let started = Date()
    var timings: [String: Double] = [:]
    if faithfulnessSample > 0, let latest = try store.observations(run: job.run, last: 1).first,
      latest.step == job.step, latest.faithfulness.isEmpty
    {
      let faithfulnessStart = Date()
      do {
        guard let inputs = try store.jobInputs(job) else {
          throw DaemonError(.unknownRun, "checkpoint row for run '\(job.run)' step \(job.step) is missing")
        }
        let architecture = try Architecture(json: inputs.architecture, limits: Self.permissive)
        var measured = latest
        measured.faithfulness = CheckpointObservation.faithfulness(
          network: try load(inputs.sha256, architecture).network,
          images: Tensor(shape: probe.shape, scalars: probe.images), labels: probe.labels,
          normalized: latest.normalized, mapShape: [latest.height, latest.width], sample: faithfulnessSample, seed: 1)
        try store.saveObservation(run: job.run, measured)
      } catch {
        // Not retried (the refresh would be queued again and again): the report says which
        // checkpoints were measured.
        log("cannot measure the faithfulness of run '\(job.run)' step \(job.step): \(error)")
      }
      timings["faithfulness"] = Date().timeIntervalSince(faithfulnessStart)
    }
    let report = try fullAnalysis(job.run, probe: probe, vocabulary: vocabulary, timings: { timings[$0] = $1 })
    let seconds = Date().timeIntervalSince(started)
    try store.fencedFinishing {
      try store.saveAnalysis(
        run: job.run, step: job.step, vocabulary: vocabulary, report: report, seconds: seconds, timings: timings,
        newVocabulary: false)
    }
    log(String(format: "refreshed run '%@' at step %d: full analysis in %.2f s", job.run, job.step, seconds))
  }

  func load(_ sha256: String, _ architecture: Architecture) throws -> ModelCheckpoint {
    let bytes: [UInt8]
    do { bytes = try store.blobs.get(sha256) } catch {
      throw RetryableJobError(description: "cannot read blob \(sha256): \(error)")
    }
    return try ModelCheckpoint(
      file: try SafetensorsFile(
        bytes: bytes, limits: SafetensorsFile.Limits(maximumHeaderBytes: .max, maximumTensors: .max)),
      architecture: architecture, limits: Self.permissive)
  }

  /// No caps beyond overflow checks (see `run`).
  static let permissive = Architecture.Limits(
    maximumParameters: .max, maximumActivationElements: .max, maximumClasses: .max, maximumLayers: .max,
    maximumDimension: .max)

  /// Target-layer activations (n,d,h,w) of `network` on `images`, in batches.
  static func targetFeatures(_ network: Network, _ images: Tensor) -> Tensor {
    let n = images.shape[0]
    let size = images.count / max(1, n)
    var scalars: [Float] = []
    var shape: [Int] = []
    var start = 0
    let batchSize = AnalysisBatching.batchSize(network)
    while start < n {
      let end = min(n, start + batchSize)
      let batch = Tensor(
        shape: [end - start] + Array(images.shape.dropFirst()),
        scalars: Array(images.scalars[(start * size)..<(end * size)]))
      let captured = network.forward(batch, training: false, capture: network.targetLayerIndex).captured
      scalars += captured.scalars
      shape = Array(captured.shape.dropFirst())
      start = end
    }
    return Tensor(shape: [n] + shape, scalars: scalars)
  }
}

import Checkpoints
import Engine
import Explainer
import Foundation
import Models
import Prototypes

/// An `explain` job (DESIGN §8): the data-free explanation of one class of one checkpoint.
/// It reads the run's architecture and class names, the checkpoint's weights, the generator
/// and the oracle — never the run's probe set or any dataset file (a test watches its file
/// accesses from outside the process). Two kinds read the probe set, and say so:
/// counterfactuals (they start from a probe image) and data-free prototypes (only to score
/// the vocabularies' nearest-prototype accuracy; the prototypes themselves come from guided
/// samples).
struct ExplainJob {
  let store: DaemonStore
  let settings: ExplainerSettings
  let log: @Sendable (String) -> Void

  /// What every kind of explanation job loads: the prior, the classifier's weights, the
  /// oracle, the class names and the generator warnings.
  struct Inputs {
    var prior: GenerativePrior
    var architecture: Architecture
    var classifier: Network
    var oracle: Network?
    var names: [String]
    var warnings: [String]
  }

  /// Runs the job and records the explanation (done or failed with the reason).
  func run(_ job: DaemonStore.Job) throws {
    guard let record = try store.explanation(job: job.id) else { return }
    // Every state this job records is fenced: a worker that lost the job records nothing.
    try store.fenced { try store.setExplanationState(id: record.id, "running") }
    do {
      let inputs = try load(job)
      let (document, images, summary) =
        switch record.kind {
        case "concepts": try concepts(record, inputs)
        case "counterfactual": try counterfactual(record, inputs, run: job.run)
        case "prototypes": try prototypes(record, inputs, run: job.run)
        default: try explain(record, inputs)
        }
      try store.finishExplanation(id: record.id, document: document, images: images, warnings: inputs.warnings)
      log("run '\(job.run)' step \(job.step): \(record.kind) of \(record.subject) done: \(summary)")
    } catch let error as DaemonError {
      try store.fencedFinishing { try store.setExplanationState(id: record.id, "failed", error: error.message) }
      log("run '\(job.run)': \(record.kind) of \(record.subject) failed: \(error.message)")
    } catch let error as GeneratorError {
      try store.fencedFinishing { try store.setExplanationState(id: record.id, "failed", error: error.description) }
      log("run '\(job.run)': \(record.kind) of \(record.subject) failed: \(error.description)")
    }
  }

  private func load(_ job: DaemonStore.Job) throws -> Inputs {
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
    return Inputs(
      prior: prior, architecture: architecture, classifier: checkpoint.network, oracle: oracle,
      names: try store.classNames(run: job.run), warnings: warnings)
  }

  private func explain(_ record: DaemonStore.ExplanationRecord, _ inputs: Inputs) throws
    -> (String, [String: [UInt8]], String)
  {
    var explainerSettings = ClassExplainer.Settings()
    explainerSettings.count = settings.samples
    explainerSettings.scale = settings.scale
    explainerSettings.guidedFraction = settings.guidedFraction
    let explainer = try ClassExplainer(
      prior: inputs.prior, architecture: inputs.architecture, classifier: inputs.classifier, oracle: inputs.oracle,
      settings: explainerSettings)
    let names = inputs.names
    let (explanation, samples) = try explainer.explain(
      record.classIndex, className: names.indices.contains(record.classIndex) ? names[record.classIndex] : nil)
    var images: [String: [UInt8]] = [:]
    for (name, tensor) in [("guided", samples.guided), ("prior", samples.prior), ("randomized", samples.randomized)] {
      images[name] = try ExplanationImages.grid(tensor).encoded()
    }
    let summary = String(
      format: "activation %.0f%%, prior %.0f%%%@, sanity %@ (%.1f s)", explanation.activation.rate * 100,
      explanation.priorActivation.rate * 100,
      explanation.oracle.map { String(format: ", oracle %.0f%%", $0.rate * 100) } ?? "",
      explanation.sanity.passed ? "passed" : "FAILED", explanation.seconds)
    return (try explanation.json(), images, summary)
  }

  /// A concept search with DEXTER's pseudo-label loss and without it (the ablation).
  private func concepts(_ record: DaemonStore.ExplanationRecord, _ inputs: Inputs) throws
    -> (String, [String: [UInt8]], String)
  {
    let started = Date()
    var document: [String: Any] = ["schema": "i2x.concepts/1", "class_index": record.classIndex]
    if inputs.names.indices.contains(record.classIndex) { document["class_name"] = inputs.names[record.classIndex] }
    var images: [String: [UInt8]] = [:]
    var summary = ""
    for (key, weight) in [("with_pseudo_labels", Float(1)), ("without_pseudo_labels", Float(0))] {
      var settings = ConceptDiscovery.Settings()
      settings.pseudoLabelWeight = weight
      let discovery = try ConceptDiscovery(
        prior: inputs.prior, classifier: inputs.classifier, oracle: inputs.oracle, settings: settings)
      let runs = discovery.discover(record.classIndex)
      document[key] = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(runs))
      for (index, run) in runs.enumerated() {
        let prefix = weight > 0 ? "concepts" : "ablation"
        images["\(prefix)-\(index + 1)"] = try ExplanationImages.grid(discovery.conceptImages(run.concepts)).encoded()
      }
      if weight > 0, let first = runs.first {
        summary = "concepts \(first.concepts), activation \(Int((first.activation.rate * 100).rounded()))%"
      }
    }
    document["seconds"] = Date().timeIntervalSince(started)
    let data = try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])
    return (String(decoding: data, as: UTF8.self), images, summary)
  }

  /// The counterfactual of one probe image towards the target, with its PGD baseline.
  /// Counterfactuals start from a probe image by definition: they read the probe set.
  private func counterfactual(_ record: DaemonStore.ExplanationRecord, _ inputs: Inputs, run: String) throws
    -> (String, [String: [UInt8]], String)
  {
    guard let target = record.target, let probeIndex = record.probe else {
      throw DaemonError(.badData, "a counterfactual needs a probe image and a target class")
    }
    guard let probe = try store.probe(run: run), probe.labels.indices.contains(probeIndex) else {
      throw DaemonError(.badData, "run '\(run)' has no probe image \(probeIndex)")
    }
    let size = probe.shape.dropFirst().reduce(1, *)
    let image = Tensor(
      shape: [1] + Array(probe.shape.dropFirst()),
      scalars: Array(probe.images[(probeIndex * size)..<((probeIndex + 1) * size)]))
    let started = Date()
    let maker = Counterfactual(prior: inputs.prior, classifier: inputs.classifier, oracle: inputs.oracle)
    let (outcomes, edited, adversarial) = maker.run(image, targets: [target])
    var document: [String: Any] = [
      "schema": "i2x.counterfactual/1", "probe": probeIndex, "label": probe.labels[probeIndex],
      "outcome": try JSONSerialization.jsonObject(with: try JSONEncoder().encode(outcomes[0])),
      "seconds": Date().timeIntervalSince(started),
    ]
    if inputs.names.indices.contains(target) { document["target_name"] = inputs.names[target] }
    if let locality = try locality(record, run: run, image: image, edited: edited) { document["locality"] = locality }
    var images: [String: [UInt8]] = [:]
    let triple = Tensor(
      shape: [3] + Array(image.shape.dropFirst()), scalars: image.scalars + edited.scalars + adversarial.scalars)
    images["counterfactual"] = try ExplanationImages.grid(triple).encoded()
    let data = try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])
    let o = outcomes[0]
    let summary =
      "probe \(probeIndex) → \(target): valid \(o.valid), oracle \(o.oracleValid.map(String.init) ?? "-"), PGD oracle \(o.pgdOracleValid.map(String.init) ?? "-")"
    return (String(decoding: data, as: UTF8.self), images, summary)
  }

  /// For a counterfactual made for an uncertain prototype: the IoU of the edit with the
  /// prototype's cells in the probe image, against another prototype's cells in the same image
  /// (from the run's latest vocabulary; the one with the most cells there).
  private func locality(_ record: DaemonStore.ExplanationRecord, run: String, image: Tensor, edited: Tensor) throws
    -> [String: Any]?
  {
    guard let cells = record.cells, !cells.isEmpty, let probeIndex = record.probe,
      let vocabulary = try store.latestVocabulary(run: run), let labels = try store.probe(run: run)?.labels,
      !labels.isEmpty
    else { return nil }
    let perImage = vocabulary.cellPrototypes.count / labels.count
    let side = Int(Double(perImage).squareRoot().rounded())
    guard side * side == perImage, perImage > 0 else { return nil }
    let (c, h, w) = (image.shape[1], image.shape[2], image.shape[3])
    let delta = EditLocality.delta(image.scalars, edited.scalars, channels: c, height: h, width: w)
    let own = EditLocality.region(cells: cells, mapHeight: side, mapWidth: side, height: h, width: w)
    let assigned = Array(vocabulary.cellPrototypes[(probeIndex * perImage)..<((probeIndex + 1) * perImage)])
    let ownCells = Set(cells)
    var counts: [Int: Int] = [:]
    for (cell, prototype) in assigned.enumerated() where !ownCells.contains(cell) && prototype != record.prototype {
      counts[prototype, default: 0] += 1
    }
    guard let control = counts.max(by: { ($0.value, -$0.key) < ($1.value, -$1.key) })?.key else { return nil }
    let controlCells = assigned.indices.filter { assigned[$0] == control }
    let other = EditLocality.region(cells: controlCells, mapHeight: side, mapWidth: side, height: h, width: w)
    return [
      "prototype": record.prototype ?? -1, "iou": EditLocality.iou(delta: delta, region: own),
      "control_prototype": control, "control_iou": EditLocality.iou(delta: delta, region: other),
    ]
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
/// are explained and searched for concepts once per run, the run's data-free prototypes are
/// compared once (at the first analysis with a flag), and the flags' example probes get
/// counterfactuals towards the other class of their pair.
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
    for kind in ["explain", "concepts"] {
      for c in classes where try !store.hasExplanation(run: run, classIndex: c, kind: kind) {
        let request = try store.requestExplanation(run: run, classIndex: c, step: step, source: "auto", kind: kind)
        if request.created {
          created += 1
          log("run '\(run)' step \(step): \(kind) of class \(c) queued (flagged pair)")
        }
      }
    }
    // Data-free prototypes: once per run, at the checkpoint of the first analysis that flags a
    // pair (its vocabulary and cached maps exist: the analysis was just stored).
    if try !store.hasExplanation(run: run, classIndex: DaemonStore.everyClass, kind: "prototypes") {
      let request = try store.requestExplanation(
        run: run, classIndex: DaemonStore.everyClass, step: step, source: "auto", kind: "prototypes")
      if request.created {
        created += 1
        log("run '\(run)' step \(step): data-free prototypes queued (first flagged pair)")
      }
    }
    // Counterfactuals of the flags' example probes towards the other class: one per direction of
    // each flagged pair per run (a pair stays flagged over many checkpoints).
    for flag in report.uncertain where flag.pair.count == 2 {
      for example in flag.examples where flag.pair.contains(example.label) {
        let target = flag.pair[0] == example.label ? flag.pair[1] : flag.pair[0]
        guard try !store.hasCounterfactual(run: run, from: example.label, to: target) else { continue }
        let request = try store.requestExplanation(
          run: run, classIndex: example.label, step: step, source: "auto", kind: "counterfactual", target: target,
          probe: example.probe, prototype: flag.prototype, cells: example.cells)
        if request.created { created += 1 }
      }
    }
    return created
  }
}

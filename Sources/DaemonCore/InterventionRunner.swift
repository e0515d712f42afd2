import Foundation
import Models
import Prototypes

/// An `intervene` job (DESIGN §6b): at the checkpoint the run's latest vocabulary was fitted
/// on, runs the interventions users asked for (`i2x intervene`), then — once per checkpoint —
/// the daemon's own sweep: for every class, its 3 prototypes with the most accumulated
/// evidence, plus every prototype that looks like a fixed-position cue of it
/// (`Findings.isCueCandidate`), each present in at least 10% of the class's probes.
struct InterventionRunner {
  let analyzer: CheckpointAnalyzer
  /// Prototypes per class the sweep tests, by accumulated evidence.
  static let topPerClass = 3

  func run(_ job: DaemonStore.Job) throws {
    let store = analyzer.store
    let requests = try store.interventions(run: job.run, state: "queued").reversed()
    guard let vocabulary = try store.latestVocabulary(run: job.run), let probe = try store.probe(run: job.run),
      let stored = try store.analysis(run: job.run, step: nil),
      let report = try? JSONDecoder().decode(AnalysisReport.self, from: Data(stored.report.utf8)),
      let observation = try store.observation(run: job.run, step: vocabulary.step),
      let inputs = try store.jobInputs(
        DaemonStore.Job(id: job.id, kind: job.kind, run: job.run, step: vocabulary.step, attempts: job.attempts))
    else {
      for request in requests {
        try store.saveIntervention(
          id: request.id, run: job.run, step: request.step, prototype: request.prototype, label: request.label,
          outcome: nil, error: "run '\(job.run)' has no analysed checkpoint to intervene on yet")
      }
      return
    }
    let started = Date()
    let architecture = try Architecture(json: inputs.architecture, limits: CheckpointAnalyzer.permissive)
    let network = try analyzer.load(inputs.sha256, architecture).network
    let images = ProbeImages(pixels: probe.images, shape: probe.shape)
    let setup = Intervention.Inputs(
      network: network, images: images, labels: probe.labels, cellPrototypes: vocabulary.cellPrototypes,
      mapHeight: observation.height, mapWidth: observation.width, step: vocabulary.step)
    let intensity = vocabulary.intensities(observation).intensity
    let k = vocabulary.ids.count
    let column = Dictionary(uniqueKeysWithValues: vocabulary.ids.enumerated().map { ($1, $0) })
    let baseline = Intervention.baseline(setup)
    func measure(_ id: Int, _ c: Int) -> Intervention? {
      guard let p = column[id] else { return nil }
      return Intervention.measure(
        prototype: id, label: c, intensity: (0..<probe.labels.count).map { intensity[$0 * k + p] },
        baseline: baseline, inputs: setup, seed: UInt64(vocabulary.step))
    }
    let byID = Dictionary(report.prototypes.map { ($0.id, $0) }) { a, _ in a }

    for request in requests {
      var error: String?
      var outcome: Intervention?
      let label =
        request.label
        ?? byID[request.prototype].flatMap { p in p.presence.indices.max { p.presence[$0] < p.presence[$1] } }
      if column[request.prototype] == nil {
        error =
          "prototype \(request.prototype) is not in the vocabulary at step \(vocabulary.step); "
          + "'i2x prototypes \(job.run)' lists the current ids ('--id \(request.prototype) --history' follows it)"
      } else if let label {
        outcome = measure(request.prototype, label)
        if outcome == nil {
          error = "prototype \(request.prototype) is present in no probe of class \(label) at step \(vocabulary.step)"
        }
      } else {
        error = "no class given and prototype \(request.prototype) is in no analysis yet"
      }
      try store.saveIntervention(
        id: request.id, run: job.run, step: vocabulary.step, prototype: request.prototype, label: label,
        outcome: outcome, error: error)
    }

    guard try !store.hasAutoInterventions(run: job.run, step: vocabulary.step) else { return }
    var tested = 0
    for c in report.classNames.indices {
      var candidates = report.topPrototypes(Self.topPerClass, for: c)
      for p in report.prototypes where Findings.isCueCandidate(p, c) && !candidates.contains(p.id) {
        candidates.append(p.id)
      }
      for id in candidates where (byID[id]?.presence[safe: c] ?? 0) >= 0.1 {
        guard let outcome = measure(id, c) else { continue }
        try store.saveIntervention(
          id: nil, run: job.run, step: vocabulary.step, prototype: id, label: c, outcome: outcome, error: nil)
        tested += 1
      }
    }
    analyzer.log(
      String(
        format: "intervened on run '%@' at step %d: %d prototype/class pairs (sweep) and %d requested in %.2f s",
        job.run, vocabulary.step, tested, requests.count, Date().timeIntervalSince(started)))
  }
}

extension Array {
  fileprivate subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}

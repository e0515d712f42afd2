import Engine
import Foundation
import Models
import Prototypes
import Synchronization

/// An `intervene` job (DESIGN §6b): at the checkpoint the run's latest vocabulary was fitted
/// on, runs the interventions users asked for (`i2x intervene`), then — once per checkpoint —
/// the daemon's own sweep: for every class, its 3 prototypes with the most accumulated
/// evidence, plus every prototype that looks like a fixed-position cue of it
/// (`Findings.isCueCandidate`), each present in at least 10% of the class's probes. (Cue
/// candidates are also tested within the analysis itself: `testCandidates`.)
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
      try store.fencedFinishing {
        for request in requests {
          try store.saveIntervention(
            id: request.id, run: job.run, step: request.step, prototype: request.prototype, label: request.label,
            outcome: nil, error: "run '\(job.run)' has no analysed checkpoint to intervene on yet")
        }
      }
      return
    }
    let started = Date()
    let architecture = try Architecture(json: inputs.architecture, limits: CheckpointAnalyzer.permissive)
    let session = Session(
      network: try analyzer.load(inputs.sha256, architecture).network, vocabulary: vocabulary,
      observation: observation, probe: probe)
    let measure = { session.measure($0, $1) }
    let byID = Dictionary(report.prototypes.map { ($0.id, $0) }) { a, _ in a }

    var answers: [(id: Int, prototype: Int, label: Int?, outcome: Intervention?, error: String?)] = []
    for request in requests {
      var error: String?
      var outcome: Intervention?
      let label =
        request.label
        ?? byID[request.prototype].flatMap { p in p.presence.indices.max { p.presence[$0] < p.presence[$1] } }
      if session.column[request.prototype] == nil {
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
      answers.append((request.id, request.prototype, label, outcome, error))
    }
    // The requests are answered before the sweep runs (a user waits for them).
    if !answers.isEmpty {
      try store.fenced {
        for a in answers {
          try store.saveIntervention(
            id: a.id, run: job.run, step: vocabulary.step, prototype: a.prototype, label: a.label, outcome: a.outcome,
            error: a.error)
        }
      }
    }

    guard try !store.hasAutoInterventions(run: job.run, step: vocabulary.step) else { return }
    var pairs: [(id: Int, label: Int)] = []
    for c in report.classNames.indices {
      var candidates = report.topPrototypes(Self.topPerClass, for: c)
      for p in report.prototypes where Findings.isCueCandidate(p, c) && !candidates.contains(p.id) {
        candidates.append(p.id)
      }
      pairs += candidates.filter { (byID[$0]?.presence[safe: c] ?? 0) >= 0.1 }.map { ($0, c) }
    }
    // The pairs are independent: measured on every core at once, one network replica per core,
    // and stored in the same order as one by one.
    let measured = try session.measureAll(
      pairs.map { ($0.id, $0.label, Self.companions(of: $0.id, $0.label, in: report)) }
    ) { try analyzer.load(inputs.sha256, architecture).network }
    // The sweep's outcomes commit together with the job's completion: a worker killed
    // mid-sweep leaves no half sweep, which a redo would take for done.
    var tested = 0
    try store.fencedFinishing {
      for (pair, result) in zip(pairs, measured) {
        guard var outcome = result else { continue }
        if report.vocabulary.fittedOnStep == vocabulary.step {
          outcome.cueShape = byID[pair.id].flatMap { Findings.cueShape($0, pair.label)?.rawValue }
        }
        try store.saveIntervention(
          id: nil, run: job.run, step: vocabulary.step, prototype: pair.id, label: pair.label, outcome: outcome,
          error: nil, origin: "auto")
        tested += 1
      }
    }
    analyzer.log(
      String(
        format: "intervened on run '%@' at step %d: %d prototype/class pairs (sweep) and %d requested in %.2f s",
        job.run, vocabulary.step, tested, requests.count, Date().timeIntervalSince(started)))
  }
}

extension InterventionRunner {
  /// What every intervention at one checkpoint shares: the network, the probe set, the cell
  /// assignment and intensities of the vocabulary fitted on that checkpoint, and the
  /// unmodified predictions.
  struct Session {
    let setup: Intervention.Inputs
    let intensity: [Double]
    let k: Int
    let column: [Int: Int]
    let baseline: (predictions: [Int], probabilities: [Float])
    let seed: UInt64

    init(
      network: Network, vocabulary: Vocabulary, observation: CheckpointObservation,
      probe: (images: [Float], shape: [Int], labels: [Int], classes: [String])
    ) {
      setup = Intervention.Inputs(
        network: network, images: ProbeImages(pixels: probe.images, shape: probe.shape), labels: probe.labels,
        cellPrototypes: vocabulary.cellPrototypes, mapHeight: observation.height, mapWidth: observation.width,
        step: vocabulary.step)
      intensity = vocabulary.intensities(observation).intensity
      k = vocabulary.ids.count
      column = Dictionary(uniqueKeysWithValues: vocabulary.ids.enumerated().map { ($1, $0) })
      baseline = Intervention.baseline(setup)
      seed = UInt64(vocabulary.step)
    }

    /// The intervention on prototype `id` for class `c` (nil: not in the vocabulary, or
    /// present in no probe of the class), its region joined by `companions`' cells; on
    /// `network` when given (a replica of the session's), else on the session's.
    func measure(_ id: Int, _ c: Int, companions: [Int] = [], network: Network? = nil) -> Intervention? {
      guard let p = column[id] else { return nil }
      var inputs = setup
      if let network { inputs.network = network }
      return Intervention.measure(
        prototype: id, label: c, intensity: (0..<setup.labels.count).map { intensity[$0 * k + p] },
        baseline: baseline, inputs: inputs, seed: seed, companions: companions.filter { column[$0] != nil })
    }

    /// `measure` of every pair, in order: spread over `Parallel.workers` threads, each taking
    /// the next pair as it finishes one and running it on its own network (the session's, and
    /// `replica()`'s for the others: a network's layers keep per-call buffers, so two threads
    /// never share one). Each pair's result is what `measure` gives alone: it is seeded by the
    /// pair, and every engine loop within it runs serially on its thread.
    func measureAll(
      _ pairs: [(id: Int, label: Int, companions: [Int])], replica: () throws -> Network
    ) rethrows -> [Intervention?] {
      let workers = min(Parallel.workers, pairs.count)
      guard workers > 1 else { return pairs.map { measure($0.id, $0.label, companions: $0.companions) } }
      let networks = [setup.network] + (try (1..<workers).map { _ in try replica() })
      var results = [Intervention?](repeating: nil, count: pairs.count)
      let next = Atomic<Int>(0)
      results.withUnsafeMutableBufferPointer { buffer in
        let slots = UncheckedPointer(buffer.baseAddress)
        Parallel.replicas(workers) { worker in
          while case let i = next.wrappingAdd(1, ordering: .relaxed).oldValue, i < pairs.count {
            slots.pointer?[i] = measure(
              pairs[i].id, pairs[i].label, companions: pairs[i].companions, network: networks[worker])
          }
        }
      }
      return results
    }
  }

  /// The other prototypes shaped like a border or background cue of class `c` like `id`
  /// (`Findings.cueShape`): the other parts of the same cue, tested together.
  static func companions(of id: Int, _ c: Int, in report: AnalysisReport) -> [Int] {
    guard let p = report.prototypes.first(where: { $0.id == id }), let shape = Findings.cueShape(p, c),
      shape != .mark
    else { return [] }
    return report.prototypes.filter { $0.id != id && Findings.cueShape($0, c) == shape }.map(\.id)
  }

  /// A cue candidate's intervention, measured and not yet recorded.
  struct TestedCandidate {
    var prototype: Int
    var label: Int
    var outcome: Intervention
  }

  /// Checkpoints within which a tested cue candidate is not tested again.
  static let retestAfter = 5

  /// Within a checkpoint's analysis, when it is the run's latest: tests at once every prototype
  /// shaped like a cue (`Findings.isCueCandidate`; usually none, so this costs nothing on most
  /// checkpoints) and every prototype whose line holds an established cue (`Findings.Standing`:
  /// the re-test that alone can withdraw it), so a cue is named with its intervention evidence
  /// at the checkpoint where it first looks like one, however busy the daemon is. The wider
  /// sweep waits for an idle worker. Stored with origin `candidate`, with the prototype's cue
  /// shape at this checkpoint. A prototype confirmed (`Findings.confirms`) within the run's
  /// last `retestAfter` checkpoints is not tested again (findings read every earlier
  /// intervention; re-testing a persistent candidate at each checkpoint made it a cost per
  /// checkpoint). An established cue's re-test covers the region it was established on: its
  /// companions then, followed along their lines (measured: one part of a split frame pasted
  /// alone flipped 0 of 300 probes where the parts together had flipped 99%).
  /// - Returns: the outcomes, for the caller to record with the checkpoint's report.
  static func testCandidates(
    store: DaemonStore, run: String, network: Network, vocabulary: Vocabulary, observation: CheckpointObservation,
    report: AnalysisReport, probe: (images: [Float], shape: [Int], labels: [Int], classes: [String])
  ) throws -> [TestedCandidate] {
    guard observation.step == vocabulary.step else { return [] }
    let shapedPairs = report.classNames.indices.flatMap { c in
      report.prototypes.filter { Findings.isCueCandidate($0, c) }.map { (id: $0.id, label: c) }
    }
    var candidates: [(id: Int, label: Int, companions: [Int])] = shapedPairs.map {
      ($0.id, $0.label, companions(of: $0.id, $0.label, in: report))
    }
    var records: [DaemonStore.InterventionRecord]?
    if try store.hasCueInterventions(run: run) {
      let all = try store.interventions(run: run, state: "done")
      records = all
      // The stored fits, then this analysis's own (it commits with the outcomes).
      let fits = try store.vocabularyLineage(run: run) + [(vocabulary.step, vocabulary.ids, vocabulary.lineage)]
      let ancestry = Findings.ancestry(fits: fits, at: vocabulary.step, floor: RequestHandler.lineageFloor)
      let lines = Findings.established(
        report, all.reversed().filter { $0.step < observation.step }.compactMap(\.outcome), ancestry: ancestry)
      for line in lines where !candidates.contains(where: { $0.id == line.prototype && $0.label == line.label }) {
        candidates.append((line.prototype, line.label, []))
      }
      // An established cue is re-tested with every other prototype of its class that is
      // tested now and the companions it was established with: the parts of a frame move
      // between prototypes from one refit to the next (measured: a frame part tested alone
      // flipped 2% of 300 probes where it had flipped 14–43% before).
      for line in lines {
        guard let index = candidates.firstIndex(where: { $0.id == line.prototype && $0.label == line.label })
        else { continue }
        let others = candidates.filter { $0.label == line.label && $0.id != line.prototype }.map(\.id)
        candidates[index].companions = Array(Set(candidates[index].companions + line.companions + others)).sorted()
      }
    }
    guard !candidates.isEmpty else { return [] }
    let since = try store.observedSteps(run: run).suffix(retestAfter).first ?? observation.step
    // Only a test that confirmed the cue spares a re-test: one that did not is repeated at the
    // next checkpoint (measured: a texture's prototype failed the paste at step 100, 16/300,
    // and passed at 600, 191/300; not re-tested in between, the cue went unnamed for 4
    // checkpoints).
    let recent = Set(
      try (records ?? store.interventions(run: run)).filter {
        $0.origin == "candidate" && $0.step >= since && $0.step < observation.step
          && ($0.outcome.map { Findings.confirms($0) } ?? false)
      }
      .map { [$0.prototype, $0.label ?? -1] })
    // A line kept while it no longer looks like a cue is re-tested at every checkpoint.
    let shaped = Set(shapedPairs.map { [$0.id, $0.label] })
    let untested = candidates.filter { !recent.contains([$0.id, $0.label]) || !shaped.contains([$0.id, $0.label]) }
    guard !untested.isEmpty else { return [] }
    let session = Session(network: network, vocabulary: vocabulary, observation: observation, probe: probe)
    let byID = Dictionary(report.prototypes.map { ($0.id, $0) }) { a, _ in a }
    return untested.compactMap { id, c, companions in
      guard var outcome = session.measure(id, c, companions: companions) else { return nil }
      outcome.cueShape = byID[id].flatMap { Findings.cueShape($0, c)?.rawValue }
      return TestedCandidate(prototype: id, label: c, outcome: outcome)
    }
  }
}

extension Array {
  fileprivate subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}

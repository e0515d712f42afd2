import Checkpoints
import Foundation
import Prototypes
import Testing
import Wire

@testable import DaemonCore

/// When explanations are made (DESIGN §8): both classes of a flagged pair under `auto`, once per
/// class; nothing under `manual` or `off` or without a generator; and an `explain` job is
/// claimed only when no checkpoint analysis is waiting.
@Suite(.serialized) final class ExplainTriggerTests {
  let directory: URL
  let store: DaemonStore
  let handler: RequestHandler

  init() throws {
    directory = try DaemonFixtures.temporaryDirectory()
    store = try TestStore.open(directory)
    handler = RequestHandler(store: store, log: { _ in })
    #expect(try send(try DaemonFixtures.register()).outcome == "registered")
    #expect(
      try send(try DaemonFixtures.checkpoint(step: 1, bytes: try DaemonFixtures.checkpointBytes(seed: 1))).outcome
        == "stored")
  }

  /// Each test's store lives in its own temporary directory, removed after the test.
  deinit { try? FileManager.default.removeItem(at: directory) }

  func send(_ message: WireMessage) throws -> WireMessage {
    try WireMessage(frames: handler.handle(message.frames).frames)
  }

  func report(flags: [[Int]]) throws -> AnalysisReport {
    let json = """
      {"schema_version":2,"steps":[1],"class_names":[],"vocabulary":{"fitted_on_step":1,"size":0,"pca_components":0,
       "explained_variance":0},"prototypes":[],"classes":[],"pairs":[],"learning_order":[],"intervals":[],"uncertain":[],
       "faithfulness":[],"zero_maps":[]}
      """
    var report = try JSONDecoder().decode(AnalysisReport.self, from: Data(json.utf8))
    report.uncertain = flags.enumerated().map { index, pair in
      .init(prototype: index, pair: pair, flips: 2, score: Double(10 - index), signs: [], steps: [], examples: [])
    }
    return report
  }

  var settings: ExplainerSettings {
    var settings = ExplainerSettings()
    settings.generatorPath = "/nonexistent/generator.safetensors"
    settings.defaultPolicy = .auto
    return settings
  }

  @Test func flaggedPairsAreExplainedOncePerClassUnderAuto() throws {
    let created = try ExplainTrigger.apply(
      store: store, run: "r1", report: try report(flags: [[3, 5], [5, 7]]), step: 1, settings: settings, log: { _ in })
    // An explanation and a concept search for each of the three classes, and the run's data-free
    // prototypes once; the flags have no example probes here, so no counterfactuals.
    #expect(created == 7)
    let all = try store.explanations(run: "r1")
    #expect(all.filter { $0.kind == "prototypes" }.map(\.classIndex) == [DaemonStore.everyClass])
    let rows = all.filter { $0.kind != "prototypes" }
    #expect(rows.map(\.classIndex) == [3, 5, 7, 3, 5, 7])
    #expect(rows.map(\.kind) == ["explain", "explain", "explain", "concepts", "concepts", "concepts"])
    #expect(rows.allSatisfy { $0.state == "queued" && $0.source == "auto" })
    #expect(
      try ExplainTrigger.apply(
        store: store, run: "r1", report: try report(flags: [[3, 5]]), step: 1, settings: settings, log: { _ in }) == 0,
      "each class once")
  }

  /// A flag's example probes get counterfactuals towards the other class of the pair: one per
  /// direction of the pair per run, however many analyses flag it again.
  @Test func flagExamplesGetCounterfactuals() throws {
    var flagged = try report(flags: [[3, 5]])
    flagged.uncertain[0].examples = try JSONDecoder().decode(
      [AnalysisReport.Example].self,
      from: Data(
        """
        [{"probe":0,"label":3,"intensity":0.9,"cells":[1]},{"probe":1,"label":5,"intensity":0.8,"cells":[2]},
         {"probe":2,"label":3,"intensity":0.7,"cells":[3]}]
        """.utf8))
    _ = try ExplainTrigger.apply(store: store, run: "r1", report: flagged, step: 2, settings: settings, log: { _ in })
    _ = try ExplainTrigger.apply(store: store, run: "r1", report: flagged, step: 1, settings: settings, log: { _ in })
    let counterfactuals = try store.explanations(run: "r1").filter { $0.kind == "counterfactual" }
    #expect(counterfactuals.map(\.probe) == [0, 1], "one per direction of the pair, not again for the second analysis")
    #expect(counterfactuals.map(\.target) == [5, 3])
    #expect(counterfactuals.map(\.classIndex) == [3, 5])
    #expect(counterfactuals.map(\.prototype) == [0, 0] && counterfactuals.map(\.cells) == [[1], [2]])
  }

  @Test func manualOffOrNoGeneratorMakeNone() throws {
    let flagged = try report(flags: [[1, 2]])
    var noGenerator = settings
    noGenerator.generatorPath = nil
    #expect(
      try ExplainTrigger.apply(store: store, run: "r1", report: flagged, step: 1, settings: noGenerator, log: { _ in })
        == 0)
    for policy in [DaemonStore.ExplainPolicy.manual, .off] {
      try store.setExplainPolicy(run: "r1", policy)
      #expect(
        try ExplainTrigger.apply(store: store, run: "r1", report: flagged, step: 1, settings: settings, log: { _ in })
          == 0, "\(policy)")
    }
    #expect(try store.explanations(run: "r1").isEmpty)
  }

  @Test func explanationsWaitForEveryCheckpointAnalysis() throws {
    // The registration's checkpoint queued an analysis; an explanation queued after it, and a
    // second checkpoint after that: both analyses are claimed before the explanation.
    _ = try store.requestExplanation(run: "r1", classIndex: 2, step: 1, source: "client")
    #expect(
      try send(try DaemonFixtures.checkpoint(step: 2, bytes: try DaemonFixtures.checkpointBytes(seed: 2))).outcome
        == "stored")
    var kinds: [String] = []
    while let job = try store.claimJob() {
      kinds.append(job.kind)
      try store.finishJob(job, parameterCount: nil)
    }
    #expect(kinds == ["analyze", "analyze", "explain"])
    let again = try store.requestExplanation(run: "r1", classIndex: 2, step: 1, source: "client")
    #expect(!again.created, "a request for the same class and checkpoint returns the existing one")
  }
}

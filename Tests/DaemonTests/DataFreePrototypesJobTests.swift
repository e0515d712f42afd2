import Checkpoints
import Engine
import Explainer
import Foundation
import Prototypes
import Testing
import Wire

@testable import DaemonCore

/// The `prototypes` explanation kind (DESIGN §8, ProDG's question) end to end in the daemon's
/// code: an analysed checkpoint, an untrained tiny generator, `i2x prototypes RUN --data-free`'s
/// command, and the explain job that runs it and stores the comparison with its controls; the
/// auto trigger makes one per run.
@Suite(.serialized) final class DataFreePrototypesJobTests {
  let directory: URL
  let store: DaemonStore
  let handler: RequestHandler
  let settings: ExplainerSettings

  init() throws {
    directory = try DaemonFixtures.temporaryDirectory()
    store = try TestStore.open(directory)
    handler = RequestHandler(store: store, log: { _ in })
    // 20 probe images of random pixels, two per class.
    var generator = SplitMix64(seed: 3)
    let count = 20
    let payload = try SafetensorsFile(tensors: [
      "images": TensorRecord(
        bytes: (0..<(count * 784)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }, shape: [count, 1, 28, 28]),
      "labels": TensorRecord(int64s: (0..<count).map { Int64($0 % 10) }, shape: [count]),
    ]).serialized()
    let header = RegisterRunHeader(
      run: "r1", architecture: DaemonFixtures.architecture.json(), classes: (0..<10).map { "c\($0)" },
      sha256: SHA256.hex(payload))
    _ = handler.handle(try WireMessage(type: .registerRun, header: header, payload: payload).frames)
    _ = handler.handle(
      try DaemonFixtures.checkpoint(step: 1, bytes: try DaemonFixtures.checkpointBytes(seed: 1)).frames)
    // An untrained tiny prior: the job's plumbing, not its numbers, is under test.
    let description = GeneratorDescription.standard(
      dataset: "fashion-mnist", image: [1, 28, 28], seed: 1,
      split: .init(name: "generator", count: 3, sha256: GenerativePrior.splitHash([0, 1, 2]), seed: 1), width: 4,
      hidden: 8)
    let url = directory.appendingPathComponent("generator.safetensors")
    try GenerativePrior(description: description, splitIndices: [0, 1, 2]).write(to: url)
    var settings = ExplainerSettings()
    settings.generatorPath = url.path
    settings.generator = description
    settings.defaultPolicy = .manual
    settings.samples = 3
    self.settings = settings
    handler.explainer = settings
  }

  /// Each test's store lives in its own temporary directory, removed after the test.
  deinit { try? FileManager.default.removeItem(at: directory) }

  func send(_ message: WireMessage) throws -> WireMessage {
    try WireMessage(frames: handler.handle(message.frames).frames)
  }

  /// Claims and runs every queued job in process: analyses, then explain jobs.
  func runJobs() throws {
    while let job = try store.claimJob() {
      switch job.kind {
      case "analyze":
        _ = try CheckpointAnalyzer(store: store, log: { _ in }, faithfulnessSample: 0).run(job)
      case "explain":
        try ExplainJob(store: store, settings: settings, log: { _ in }).run(job)
      default:
        break
      }
      try store.finishJob(job, parameterCount: nil)
    }
  }

  @Test func theCommandWaitsForAnAnalysisThenTheJobStoresTheComparison() throws {
    let early = try send(try WireMessage(type: .command, header: CommandHeader(command: "prototypes", run: "r1")))
    #expect(early.outcome == "error:not-ready", "no analysed checkpoint yet")
    try runJobs()
    let reply = try send(try WireMessage(type: .command, header: CommandHeader(command: "prototypes", run: "r1")))
    let answer = try #require(try JSONSerialization.jsonObject(with: Data(reply.header)) as? [String: Any])
    let queued = try #require(answer["explanation"] as? [String: Any])
    #expect(queued["kind"] as? String == "prototypes" && queued["class"] as? Int == DaemonStore.everyClass)
    #expect(queued["step"] as? Int == 1 && queued["state"] as? String == "queued")
    try runJobs()

    let record = try #require(try store.explanations(run: "r1").first { $0.kind == "prototypes" })
    #expect(record.state == "done", "\(record.error ?? "")")
    #expect(record.images.keys.sorted() == ["samples"])
    let document = try #require(
      try JSONSerialization.jsonObject(with: Data((record.document ?? "").utf8)) as? [String: Any])
    #expect(document["schema"] as? String == "i2x.data-free-prototypes/1")
    #expect(document["step"] as? Int == 1 && document["samples_per_class"] as? Int == 3)
    #expect((document["profile_cosine"] as? [Double])?.count == 10)
    #expect((document["profile_cosine_other_classes"] as? [Double])?.count == 10)
    let ids = try #require(document["prototype_ids"] as? [Int])
    #expect(ids == (try store.latestVocabulary(run: "r1"))?.basis?.centreIDs)
    #expect((document["synthetic_profiles"] as? [[Double]])?.allSatisfy { $0.count == ids.count } == true)
    for key in ["accuracy_data_vocabulary", "accuracy_synthetic_vocabulary"] {
      let p = try #require(document[key] as? [String: Any])
      #expect(p["trials"] as? Int == 20, "judged on the 20 probe images")
      let (rate, low, high) = (p["rate"] as? Double ?? -1, p["low"] as? Double ?? -1, p["high"] as? Double ?? -1)
      #expect(0 <= low && low <= rate && rate <= high && high <= 1)
    }
    #expect(document["chance"] as? Double == 0.1)
    #expect(record.warnings.count == 2, "the run recorded neither its dataset nor its split: two warnings")
    let again = try send(try WireMessage(type: .command, header: CommandHeader(command: "prototypes", run: "r1")))
    let answerAgain = try #require(try JSONSerialization.jsonObject(with: Data(again.header)) as? [String: Any])
    #expect(answerAgain["created"] as? Bool == false, "the done result is returned, not made again")
  }

  @Test func autoMakesOnePerRunAtTheFirstFlag() throws {
    try runJobs()
    var auto = settings
    auto.defaultPolicy = .auto
    var report = try #require(
      try JSONDecoder().decode(
        AnalysisReport.self, from: Data(try #require(try store.analysis(run: "r1", step: nil)).report.utf8)))
    report.uncertain = [.init(prototype: 0, pair: [1, 2], flips: 2, score: 1, signs: [], steps: [], examples: [])]
    _ = try ExplainTrigger.apply(store: store, run: "r1", report: report, step: 1, settings: auto, log: { _ in })
    _ = try ExplainTrigger.apply(store: store, run: "r1", report: report, step: 1, settings: auto, log: { _ in })
    let rows = try store.explanations(run: "r1").filter { $0.kind == "prototypes" }
    #expect(rows.count == 1 && rows[0].source == "auto" && rows[0].classIndex == DaemonStore.everyClass)
  }
}

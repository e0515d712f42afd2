import Checkpoints
import DaemonCore
import Foundation
import Prototypes
import Testing
import Wire

/// The fine-tune directive lifecycle through the daemon's handler and store (DESIGN §7).
@Suite(.serialized) final class DirectiveTests {
  let directory: URL
  let handler: RequestHandler
  let store: DaemonStore

  init() throws {
    directory = try DaemonFixtures.temporaryDirectory()
    store = try TestStore.open(directory)
    handler = RequestHandler(store: store, log: { _ in })
  }

  /// Each test's store lives in its own temporary directory, removed after the test.
  deinit { try? FileManager.default.removeItem(at: directory) }

  func send(_ message: WireMessage) throws -> WireMessage {
    try WireMessage(frames: handler.handle(message.frames).frames)
  }

  func answer(_ message: WireMessage) throws -> [String: Any] {
    let reply = try send(message)
    #expect(reply.type == .reply, "\(reply.outcome): \(String(decoding: reply.header, as: UTF8.self))")
    return try JSONSerialization.jsonObject(with: Data(reply.header)) as? [String: Any] ?? [:]
  }

  /// Registers r1 with the policy, stores one checkpoint and analyses it in process.
  func analysedRun(policy: String?) throws {
    let payload = try DaemonFixtures.probe(count: 20)
    let header = RegisterRunHeader(
      run: "r1", architecture: DaemonFixtures.architecture.json(), classes: (0..<10).map { "c\($0)" },
      sha256: SHA256.hex(payload), finetunePolicy: policy)
    #expect(try send(try WireMessage(type: .registerRun, header: header, payload: payload)).outcome == "registered")
    #expect(
      try send(try DaemonFixtures.checkpoint(step: 1, bytes: try DaemonFixtures.checkpointBytes(seed: 1))).outcome
        == "stored")
    let worker = JobWorker(location: try TestStore.location(directory), log: { _ in })
    try worker.start()
    let deadline = Date().addingTimeInterval(30)
    while Date() < deadline, try store.analysis(run: "r1", step: nil) == nil { Thread.sleep(forTimeInterval: 0.05) }
    worker.stop()
  }

  func command(_ header: CommandHeader) throws -> WireMessage {
    try send(try WireMessage(type: .command, header: header))
  }

  func status(_ id: Int, _ key: String, _ state: String, reason: String? = nil, metrics: [String: Double] = [:])
    throws -> WireMessage
  {
    try send(
      try WireMessage(
        type: .directiveStatus,
        header: DirectiveStatusHeader(
          run: "r1", directive: id, key: key, state: state, reason: reason, metrics: metrics)))
  }

  @Test func policyIsSetAtRegistrationAndByCommand() throws {
    try analysedRun(policy: "auto")
    #expect(try store.policy(run: "r1") == .auto)
    let changed = try answer(
      try WireMessage(type: .command, header: CommandHeader(command: "set-policy", run: "r1", policy: "off")))
    #expect(changed["previous_policy"] as? String == "auto" && changed["policy"] as? String == "off")
    #expect(try store.policy(run: "r1") == .off)
    // Under `off`, a manual fine-tune is refused with the fix in the message.
    let refused = try command(CommandHeader(command: "finetune", run: "r1", pair: ["c0", "c1"], prototypes: [0]))
    #expect(refused.outcome == "error:conflict")
    #expect(
      try command(CommandHeader(command: "set-policy", run: "r1", policy: "sometimes")).outcome == "error:bad-data")
    #expect(
      try command(CommandHeader(command: "set-policy", run: "nope", policy: "off")).outcome == "error:unknown-run")
  }

  @Test func aManualDirectiveIsResentUntilReportedAndExecutedStatesAreFinal() throws {
    try analysedRun(policy: nil)
    #expect(try store.policy(run: "r1") == .manual, "runs registered without a policy are manual")
    let prototype = try #require(try store.latestVocabulary(run: "r1")?.ids.first)
    // Pair by name and by index; unknown classes and prototypes are refused.
    #expect(
      try command(CommandHeader(command: "finetune", run: "r1", pair: ["c0", "zz"], prototypes: [prototype])).outcome
        == "error:bad-data")
    #expect(
      try command(CommandHeader(command: "finetune", run: "r1", pair: ["c0", "1"], prototypes: [9999])).outcome
        == "error:bad-data")
    let created = try answer(
      try WireMessage(
        type: .command,
        header: CommandHeader(command: "finetune", run: "r1", pair: ["c1", "0"], prototypes: [prototype])))
    let directive = try #require(created["directive"] as? [String: Any])
    let id = try #require(directive["id"] as? Int)
    let key = try #require(directive["key"] as? String)
    #expect(directive["pair"] as? [Int] == [0, 1] && directive["state"] as? String == "pending")

    // At least once: in every ack until the trainer reports.
    for step in 2...3 {
      let ack = try send(
        try DaemonFixtures.checkpoint(step: step, bytes: try DaemonFixtures.checkpointBytes(seed: UInt64(step)))
      )
      .decode(AckHeader.self)
      #expect(ack.directives.map(\.id) == [id] && ack.directives[0].key == key)
      let payload = try FineTuneDirective(json: ack.directives[0].payload)
      #expect(payload.pair == [0, 1] && payload.prototypes == [prototype] && payload.vocabulary.isConsistent)
    }
    // A daemon restart (a new handler over the same files) still delivers it.
    let restarted = RequestHandler(store: try TestStore.open(directory), log: { _ in })
    let afterRestart = try WireMessage(
      frames: restarted.handle(
        try DaemonFixtures.checkpoint(step: 9, bytes: try DaemonFixtures.checkpointBytes(seed: 9)).frames
      ).frames
    ).decode(AckHeader.self)
    #expect(afterRestart.directives.map(\.key) == [key])
    #expect(try status(id, "wrong-key", "received").outcome == "error:conflict")
    #expect(try status(id, key, "received").outcome == "stored")
    #expect(
      try status(id, key, "received").outcome == "duplicate", "a resent status is acknowledged, not applied twice")
    let ack = try send(try DaemonFixtures.checkpoint(step: 4, bytes: try DaemonFixtures.checkpointBytes(seed: 4)))
      .decode(AckHeader.self)
    #expect(ack.directives.isEmpty, "a reported directive is not resent")
    #expect(try status(id, key, "running").outcome == "stored")
    #expect(try status(id, key, "done", metrics: ["removed": 12, "first_step": 5, "last_step": 9]).outcome == "stored")
    #expect(try status(id, key, "failed", reason: "late").outcome == "duplicate", "done is final")
    let listing = try answer(try WireMessage(type: .query, header: QueryHeader(query: "directives", run: "r1")))
    let row = try #require((listing["directives"] as? [[String: Any]])?.first)
    #expect(row["state"] as? String == "done")
    #expect((row["metrics"] as? [String: Any])?["removed"] as? Double == 12)
    let exported = try answer(
      try WireMessage(type: .query, header: QueryHeader(query: "directive-payload", run: "r1", directive: id)))
    #expect((exported["directive"] as? [String: Any])?["format"] as? String == FineTuneDirective.format)
  }

  @Test func aSilentRunningDirectiveBecomesInterruptedAndCheckpointsKeepItAlive() throws {
    try analysedRun(policy: nil)
    let prototype = try #require(try store.latestVocabulary(run: "r1")?.ids.first)
    let basis = try #require(try store.latestVocabulary(run: "r1")?.basis)
    let record = try store.createDirective(
      run: "r1", pair: [0, 1], classNames: ["c0", "c1"], prototypes: [prototype], vocabulary: basis, step: 1,
      source: "manual")
    #expect(try status(record.id, record.key, "running").outcome == "stored")
    #expect(try store.expireDirectives(lease: 3600) == 0)
    Thread.sleep(forTimeInterval: 0.3)
    _ = try send(try DaemonFixtures.checkpoint(step: 2, bytes: try DaemonFixtures.checkpointBytes(seed: 2)))
    #expect(try store.expireDirectives(lease: 0.25) == 0, "the checkpoint refreshed the lease")
    Thread.sleep(forTimeInterval: 0.3)
    #expect(try store.expireDirectives(lease: 0.25) == 1)
    let failed = try #require(try store.directive(id: record.id))
    #expect(failed.state == "failed" && failed.reason?.hasPrefix("interrupted") == true)
    #expect(try status(record.id, record.key, "done").outcome == "duplicate", "an interrupted directive stays failed")
  }

  /// Auto: one directive per flagged pair, none while one is in flight or within the
  /// cooldown (counted in checkpoints after the directive's step).
  @Test func autoDirectivesRespectInFlightAndCooldown() throws {
    try analysedRun(policy: "auto")
    let vocabulary = try #require(try store.latestVocabulary(run: "r1"))
    let analysis = try #require(try store.analysis(run: "r1", step: nil))
    var report = try JSONDecoder().decode(AnalysisReport.self, from: Data(analysis.report.utf8))
    let flag = AnalysisReport.UncertainPrototype(
      prototype: vocabulary.ids[0], pair: [3, 5], flips: 2, score: 0.4, signs: [1, -1, 1], steps: [1, 2, 3],
      examples: [])
    report.uncertain = [
      flag,
      .init(prototype: vocabulary.ids[1], pair: [5, 3], flips: 2, score: 0.2, signs: [], steps: [], examples: []),
    ]
    let first = try FineTuneTrigger.apply(
      store: store, run: "r1", report: report, vocabulary: vocabulary, step: 1, cooldown: 2, log: { _ in })
    #expect(first.count == 1 && first[0].pair == [3, 5] && Set(first[0].prototypes) == Set(vocabulary.ids[0...1]))
    #expect(
      try FineTuneTrigger.apply(
        store: store, run: "r1", report: report, vocabulary: vocabulary, step: 1, cooldown: 2, log: { _ in }
      ).isEmpty, "in flight")
    #expect(try status(first[0].id, first[0].key, "failed", reason: "test").outcome == "stored")
    #expect(
      try FineTuneTrigger.apply(
        store: store, run: "r1", report: report, vocabulary: vocabulary, step: 1, cooldown: 2, log: { _ in }
      ).isEmpty, "cooldown")
    for step in 2...4 {
      _ = try send(
        try DaemonFixtures.checkpoint(step: step, bytes: try DaemonFixtures.checkpointBytes(seed: UInt64(step))))
    }
    #expect(
      try FineTuneTrigger.apply(
        store: store, run: "r1", report: report, vocabulary: vocabulary, step: 4, cooldown: 2, log: { _ in }
      ).count == 1, "3 checkpoints later")
    try store.setPolicy(run: "r1", .manual)
    #expect(
      try FineTuneTrigger.apply(
        store: store, run: "r1", report: report, vocabulary: vocabulary, step: 4, cooldown: 0, log: { _ in }
      ).isEmpty, "manual: no auto")
  }

  /// Before = the last analysed step before the segment's first step, after = the latest step
  /// at or past its last step; hand-built series: confusions 9 → 4, accuracies (0.5+0.7)/2 →
  /// (0.8+0.9)/2.
  @Test func theOutcomeComparesTheCheckpointsAroundTheSegment() throws {
    try analysedRun(policy: nil)
    let analysis = try #require(try store.analysis(run: "r1", step: nil))
    var report = try JSONDecoder().decode(AnalysisReport.self, from: Data(analysis.report.utf8))
    report.steps = [100, 200, 300, 400, 500]
    for index in report.classes.indices {
      report.classes[index].accuracy =
        switch report.classes[index].label {
        case 0: [0.1, 0.5, 0.6, 0.7, 0.8]
        case 1: [0.1, 0.7, 0.8, 0.85, 0.9]
        default: [0, 0, 0, 0, 0]
        }
    }
    let pairIndex = try #require(
      report.pairs.firstIndex { [$0.a, $0.b].sorted() == [0, 1] } ?? report.pairs.indices.first)
    report.pairs[pairIndex].a = 0
    report.pairs[pairIndex].b = 1
    report.pairs[pairIndex].confusions = [20, 9, 7, 5, 4]
    report.uncertain = []
    let basis = try #require(try store.latestVocabulary(run: "r1")?.basis)
    let record = try store.createDirective(
      run: "r1", pair: [0, 1], classNames: ["c0", "c1"], prototypes: [7], vocabulary: basis, step: 200,
      source: "manual")
    #expect(FineTuneTrigger.outcome(of: record, report: report) == nil, "no segment steps reported yet")
    _ = try status(record.id, record.key, "running")
    _ = try status(record.id, record.key, "done", metrics: ["first_step": 201, "last_step": 400])
    let done = try #require(try store.directive(id: record.id))
    let outcome = try #require(FineTuneTrigger.outcome(of: done, report: report))
    #expect(outcome["before_step"] as? Int == 200 && outcome["after_step"] as? Int == 500)
    #expect(outcome["pair_confusions_before"] as? Int == 9 && outcome["pair_confusions_after"] as? Int == 4)
    #expect(abs((outcome["pair_accuracy_before"] as? Double ?? 0) - 0.6) < 1e-12)
    #expect(abs((outcome["pair_accuracy_after"] as? Double ?? 0) - 0.85) < 1e-12)
    #expect(outcome["checkpoints_after"] as? Int == 2)
    #expect(outcome["evidence_stopped_flipping"] as? Bool == true)
    report.uncertain = [.init(prototype: 7, pair: [1, 0], flips: 2, score: 1, signs: [], steps: [], examples: [])]
    #expect(FineTuneTrigger.outcome(of: done, report: report)?["still_flagged"] as? [Int] == [7])
    report.steps = [100, 200, 300]
    #expect(FineTuneTrigger.outcome(of: done, report: report)?["analysed"] as? Bool == false)
  }
}

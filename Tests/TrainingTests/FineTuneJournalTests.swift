import Datasets
import Engine
import Foundation
import Models
import Prototypes
import Testing
import Wire

@testable import Training

/// Exactly-once directive handling: the journal, restarts, refusals and the outbox entry.
@Suite struct FineTuneJournalTests {
  /// Counts executions; its metrics are fixed.
  final class CountingExecutor: DirectiveExecutor {
    var executed: [Int] = []
    func check(_ directive: FineTuneDirective) throws {}
    func execute(_ directive: FineTuneDirective) throws -> [String: Double] {
      executed.append(directive.id)
      return ["first_step": 11, "last_step": 20]
    }
  }

  /// Collects what a runner reports.
  final class Statuses: @unchecked Sendable {
    var sent: [DirectiveStatusHeader] = []
    var states: [String] { sent.map(\.state) }
  }

  static func directive(id: Int = 3, key: String = "r1/0f1e", run: String = "r1", dimension: Int = 2)
    -> FineTuneDirective
  {
    let basis = VocabularyBasis(
      dimension: dimension, mean: [Double](repeating: 0, count: dimension),
      components: (0..<dimension * dimension).map { $0 % (dimension + 1) == 0 ? 1 : 0 },
      centres: [Double](repeating: 0, count: dimension), centreIDs: [7])
    return FineTuneDirective(
      id: id, key: key, run: run, pair: [0, 1], classNames: ["class-0", "class-1"], prototypes: [7],
      vocabulary: basis, step: 10, source: "manual")
  }

  static func delivered(_ directive: FineTuneDirective) -> Directive {
    Directive(id: directive.id, kind: "finetune", payload: directive.json(), key: directive.key)
  }

  func runner(_ directory: URL, _ statuses: Statuses) throws -> DirectiveRunner {
    DirectiveRunner(
      journal: try DirectiveJournal(directory: directory), run: "r1", send: { statuses.sent.append($0) }, log: { _ in })
  }

  @Test func aDirectiveDeliveredTwiceAndAfterARestartRunsOnce() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let statuses = Statuses()
    let executor = CountingExecutor()
    let first = Self.delivered(Self.directive())
    // Delivered twice in one batch of acks, then again in a later ack.
    #expect(try runner(directory, statuses).handle([first, first], executor: executor) == [3])
    #expect(try runner(directory, statuses).handle([first], executor: executor).isEmpty)
    #expect(statuses.states == ["received", "running", "done", "done"])
    #expect(statuses.sent[2].metrics == ["first_step": 11, "last_step": 20] && statuses.sent[2].key == "r1/0f1e")
    // A restarted trainer (new runner, same journal) finds nothing interrupted and only re-sends.
    let restarted = try runner(directory, statuses)
    #expect(try restarted.recoverInterrupted().isEmpty)
    #expect(try restarted.handle([first], executor: executor).isEmpty)
    #expect(executor.executed == [3])
    #expect(statuses.states.last == "done")
    let record = try #require(try restarted.journal.record(key: "r1/0f1e"))
    #expect(record.state == "done" && record.id == 3)
    // The key's '/' never reaches the file system as a directory separator.
    let file = restarted.journal.url(for: "r1/0f1e")
    #expect(file.path == directory.path + "/" + file.lastPathComponent && file.lastPathComponent.hasPrefix("_r1_0f1e-"))
    #expect(restarted.journal.url(for: "r1/0f1e") != restarted.journal.url(for: "r1_0f1e"))
  }

  /// `--max-finetunes 1`: the first directive runs, the second is answered `failed` with the
  /// limit as the reason, and a restarted trainer still counts the first.
  @Test func theFineTuneLimitRefusesFurtherDirectives() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let statuses = Statuses()
    let executor = CountingExecutor()
    func limited() throws -> DirectiveRunner {
      DirectiveRunner(
        journal: try DirectiveJournal(directory: directory), run: "r1", send: { statuses.sent.append($0) },
        log: { _ in }, maximumExecutions: 1)
    }
    let first = Self.delivered(Self.directive(id: 3, key: "r1/a"))
    let second = Self.delivered(Self.directive(id: 4, key: "r1/b"))
    #expect(try limited().handle([first, second], executor: executor) == [3])
    #expect(statuses.states == ["received", "running", "done", "received", "failed"])
    #expect(statuses.sent[4].reason?.contains("--max-finetunes") == true)
    let third = Self.delivered(Self.directive(id: 5, key: "r1/c"))
    #expect(try limited().handle([third], executor: executor).isEmpty)
    #expect(executor.executed == [3])
  }

  @Test func aRunningEntryAtStartBecomesFailedInterrupted() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let statuses = Statuses()
    let journal = try DirectiveJournal(directory: directory)
    try journal.write(.init(id: 5, key: "r1/dead", run: "r1", state: "running"))
    try journal.write(.init(id: 4, key: "r1/old", run: "r1", state: "done", metrics: ["steps": 3]))
    let restarted = try runner(directory, statuses)
    #expect(try restarted.recoverInterrupted() == [5])
    #expect(statuses.sent.map(\.state) == ["failed"])
    #expect(statuses.sent[0].reason == "interrupted: the trainer restarted" && statuses.sent[0].directive == 5)
    #expect(try journal.record(key: "r1/dead")?.state == "failed")
    // Redelivered afterwards: not executed, the failure re-sent.
    let executor = CountingExecutor()
    let again = Directive(
      id: 5, kind: "finetune", payload: Self.directive(id: 5, key: "r1/dead").json(), key: "r1/dead")
    #expect(try restarted.handle([again], executor: executor).isEmpty)
    #expect(executor.executed.isEmpty && statuses.sent.last?.state == "failed")
    #expect(try restarted.recoverInterrupted().isEmpty)
  }

  @Test func malformedDirectivesFailWithAClearReason() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let statuses = Statuses()
    let executor = CountingExecutor()
    var wrongVersion = Self.directive(id: 8, key: "k8")
    wrongVersion.format = "i2x.directive/9"
    let cases: [(Directive, String)] = [
      (Directive(id: 6, kind: "finetune", payload: "{not json", key: "k6"), "not valid i2x.directive/2 JSON"),
      (Directive(id: 7, kind: "reboot", payload: "{}", key: "k7"), "kind 'reboot' is not known"),
      (
        Directive(id: 8, kind: "finetune", payload: wrongVersion.json(), key: "k8"),
        "'i2x.directive/9' is not supported"
      ),
      (Self.delivered(Self.directive(id: 9, key: "k9", run: "other")), "of run 'other'"),
    ]
    let runner = try runner(directory, statuses)
    #expect(try runner.handle(cases.map(\.0), executor: executor).isEmpty)
    #expect(executor.executed.isEmpty)
    let failures = statuses.sent.filter { $0.state == "failed" }
    #expect(failures.map(\.directive) == [6, 7, 8, 9])
    for (failure, expected) in zip(failures, cases.map(\.1)) {
      #expect(failure.reason?.contains(expected) == true, "\(failure.reason ?? "")")
    }
  }

  /// The trainer's own checks: a pair outside the dataset's classes and a vocabulary whose
  /// dimension is not the target layer's channel count (smallcnn's relu3 has 64).
  @Test func theSegmentRefusesWhatItCannotActOn() throws {
    let architecture = try #require(Architecture.reference("smallcnn"))
    let network = try architecture.build(seed: 1)
    let loop = TrainingLoop(network: network, rule: SGD(learningRate: 0.01), batchSize: 8)
    let data = SyntheticImages.make(count: 40, seed: 1)
    let segment = FineTuneSegment(
      configuration: TrainingConfiguration(), architecture: architecture, loop: loop, data: data,
      splits: DatasetSplits(train: Array(0..<30), validation: Array(30..<40), probe: [], generator: []),
      writeCheckpoint: { _, _, _, _ in URL(fileURLWithPath: "/dev/null") }, log: { _ in })
    #expect(segment.targetChannels == 64)
    var outOfRange = Self.directive(dimension: 64)
    outOfRange.pair = [3, 12]
    #expect(throws: DirectiveRefusal.self) { try segment.check(outOfRange) }
    do { try segment.check(Self.directive(dimension: 2)) } catch {
      #expect("\(error)".contains("dimension 2 but the target layer 'relu3' has 64 channels"))
    }
    try segment.check(Self.directive(dimension: 64))
  }

  @Test func directiveStatusesTravelThroughTheOutboxAndOldEntriesStillRead() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let outbox = try Outbox(directory: directory)
    // An entry written before the fine-tune issue (no new keys).
    try Data(#"{"epoch":1,"kind":"checkpoint","metrics":{"loss":0.5},"run":"r1","step":3}"#.utf8)
      .write(to: directory.appendingPathComponent("00000001.json"))
    try Data([1, 2]).write(to: directory.appendingPathComponent("00000001.payload"))
    let status = DirectiveStatusHeader(
      run: "r1", directive: 3, key: "r1/0f1e", state: "done", reason: nil, metrics: ["last_step": 20])
    #expect(try outbox.enqueue(.directiveStatus(status), payload: []) == 2)
    let old = try outbox.read(1).entry
    #expect(old.kind == "checkpoint" && old.step == 3 && old.finetunePolicy == nil && old.directive == nil)
    let (entry, payload) = try outbox.read(2)
    #expect(payload.isEmpty)
    let message = try Publisher.message(for: entry, payload: payload)
    #expect(message.type == .directiveStatus && message.payload == nil)
    #expect(try message.decode(DirectiveStatusHeader.self) == status)
    let json = String(decoding: try Data(contentsOf: directory.appendingPathComponent("00000002.json")), as: UTF8.self)
    #expect(
      json
        == #"{"directive":3,"key":"r1\/0f1e","kind":"directive-status","metrics":{"last_step":20},"run":"r1","state":"done"}"#
    )
    // Registrations carry the policy.
    let registration = Outbox.Entry(
      kind: "register-run", run: "r1", architecture: "{}", classes: ["a"], finetunePolicy: "auto")
    #expect(
      try Publisher.message(for: registration, payload: []).decode(RegisterRunHeader.self).finetunePolicy == "auto")
  }
}

/// Every `--finetune-variant` runs its schedule on a real network: `remove` takes
/// ⌈(|D| − |R|)/b⌉ + ⌈|D|/b⌉ steps, the others ⌈|D|/b⌉ twice; the region variants change the
/// pixels of R's images only (under their flagged prototype's cells), never another image.
@Suite struct FineTuneVariantTests {
  @Test(arguments: ["remove", "downweight", "region-blur", "region-noise"])
  func theVariantRunsItsSchedule(_ variant: String) throws {
    let architecture = try #require(Architecture.reference("smallcnn"))
    let data = SyntheticImages.make(count: 72, seed: 2)
    let splits = DatasetSplits(train: Array(0..<60), validation: Array(60..<72), probe: [], generator: [])
    let network = try architecture.build(seed: 1)
    let loop = TrainingLoop(network: network, rule: SGD(learningRate: 0.01), batchSize: 8)
    var configuration = TrainingConfiguration()
    configuration.batchSize = 8
    configuration.finetuneVariant = variant
    let segment = FineTuneSegment(
      configuration: configuration, architecture: architecture, loop: loop, data: data, splits: splits,
      writeCheckpoint: { _, _, _, _ in URL(fileURLWithPath: "/dev/null") }, log: { _ in })
    // A vocabulary of the network's own target features; every prototype flagged and no
    // thresholds, so R is the cap: half of the pair's training images.
    let batch = Tensor(shape: [60] + network.inputShape, scalars: data.batchFloats(Array(0..<60)))
    let features = network.forward(batch, training: false, capture: network.targetLayerIndex).captured
    let vocabulary = Vocabulary.fit(
      features: features, step: 1, clusters: 4, maximumComponents: 4, previous: nil, seed: 1)
    let pair = [data.labels[0], (data.labels.first { $0 != data.labels[0] } ?? 1)].sorted()
    let directive = FineTuneDirective(
      id: 9, key: "r/v", run: "r", pair: pair, classNames: pair.map { data.classNames[$0] },
      prototypes: vocabulary.ids, vocabulary: try #require(vocabulary.basis),
      thresholds: .init(occupancy: 0, intensity: 0, maximumFraction: 0.5), step: 1, source: "manual")
    let candidates = splits.train.filter { pair.contains(data.labels[$0]) }
    let selection = RemovalSet.select(
      network: network, candidates: candidates, labels: candidates.map { data.labels[$0] }, directive: directive
    ) { Tensor(shape: [$0.count] + network.inputShape, scalars: data.batchFloats($0)) }
    let removed = Set(selection.removed)
    #expect(removed.count == candidates.count / 2 && !removed.isEmpty)
    let curated = try segment.curatedImages(variant, removed: removed, scores: selection.scores, directive, seed: 3)
    let changed = (0..<data.count).filter { i in
      curated.pixels[(i * data.imageSize)..<((i + 1) * data.imageSize)]
        != data.pixels[(i * data.imageSize)..<((i + 1) * data.imageSize)]
    }
    if variant.hasPrefix("region") {
      #expect(!changed.isEmpty && Set(changed).isSubset(of: removed), "changed \(changed), R \(removed.sorted())")
    } else {
      #expect(changed.isEmpty)
    }
    let metrics = try segment.execute(directive)
    #expect(metrics["removed"] == Double(removed.count))
    let full = (60 + 7) / 8
    let curatedSteps = variant == "remove" ? (60 - removed.count + 7) / 8 : full
    #expect(metrics["steps"] == Double(curatedSteps + full))
    #expect(metrics["last_step"] == Double(curatedSteps + full) && loop.step == curatedSteps + full)
  }
}

/// The outbox never reuses a sequence number in a process: a new entry enqueued while the
/// sender is half-way through removing the newest acknowledged one (description gone, payload
/// not yet) keeps its payload. (It used to take the freed number and lose the payload.)
@Test func anEntryEnqueuedDuringARemovalKeepsItsPayload() throws {
  let directory = try makeTemporaryDirectory()
  defer { try? FileManager.default.removeItem(at: directory) }
  let outbox = try Outbox(directory: directory)
  let first = try outbox.enqueue(Outbox.Entry(kind: "checkpoint", run: "r", step: 1, epoch: 1), payload: [1])
  // The sender's removal, interrupted between its two deletions.
  try FileManager.default.removeItem(at: directory.appendingPathComponent(String(format: "%08d.json", first)))
  let second = try outbox.enqueue(Outbox.Entry(kind: "checkpoint", run: "r", step: 2, epoch: 1), payload: [2])
  #expect(second != first)
  try? FileManager.default.removeItem(at: directory.appendingPathComponent(String(format: "%08d.payload", first)))
  #expect(try outbox.read(second).payload == [2])
  // A reopened outbox continues after every file present.
  let reopened = try Outbox(directory: directory)
  #expect(try reopened.enqueue(Outbox.Entry(kind: "checkpoint", run: "r", step: 3, epoch: 1), payload: [3]) > second)
}

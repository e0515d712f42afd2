import Checkpoints
import Foundation
import Testing
import Wire

@testable import DaemonCore

/// A job's results and its completion commit in one transaction (`fencedFinishing`): a worker
/// killed right after a job recorded its results leaves no job to redo. A redo was not
/// harmless: an analysis redone warm-started its vocabulary from the fit the first attempt had
/// just stored (and added a second fit at that step to the lineage), and a sweep killed
/// half-way was taken for done.
@Suite final class JobCompletionTests {
  let directory: URL
  let store: DaemonStore
  let analyzer: CheckpointAnalyzer

  init() throws {
    directory = try DaemonFixtures.temporaryDirectory()
    store = try TestStore.open(directory)
    analyzer = CheckpointAnalyzer(store: store, log: { _ in }, faithfulnessSample: 0)
    let handler = RequestHandler(store: store, log: { _ in })
    let registered = handler.handle(try DaemonFixtures.register(probes: 40).frames)
    #expect(try WireMessage(frames: registered.frames).outcome == "registered")
    let stored = handler.handle(
      try DaemonFixtures.checkpoint(step: 1, bytes: try DaemonFixtures.checkpointBytes(seed: 1)).frames)
    #expect(try WireMessage(frames: stored.frames).outcome == "stored")
  }

  deinit { try? FileManager.default.removeItem(at: directory) }

  /// Runs `body` on `job` as a worker does: holding its claim, and nothing after (as if the
  /// worker were killed once `body` returned).
  func holding<T>(_ job: DaemonStore.Job, _ body: () throws -> T) rethrows -> T {
    store.heldJob = job
    defer { store.heldJob = nil }
    return try body()
  }

  func count(_ table: String, where condition: String = "1 = 1") throws -> Int {
    try store.database.query("SELECT COUNT(*) FROM \(table) WHERE run = 'r1' AND \(condition)").first?.first?.int ?? -1
  }

  @Test func anAnalysisIsDoneTheMomentItsReportCommits() throws {
    let job = try #require(try store.claimJob(worker: "w1", lease: 30))
    let parameters = try holding(job) { try analyzer.run(job) }
    #expect(try store.analysis(run: "r1", step: 1) != nil)
    #expect(try store.job(id: job.id)?.state == "done", "no finishJob was called")
    #expect(try count("vocabularies") == 1)
    let recorded = try store.database.query("SELECT parameter_count FROM checkpoints WHERE run = 'r1' AND step = 1")
    #expect(recorded.first?.first?.int == parameters)
    // The runner's own finish under the same claim changes nothing; a stale claim is refused.
    try store.finishJob(job, parameterCount: parameters)
    #expect(try store.job(id: job.id)?.state == "done")
    var stale = job
    stale.fence -= 1
    #expect(throws: DaemonStore.LostLease.self) { try store.finishJob(stale, parameterCount: nil) }
    // Nothing is left to claim, so nothing is redone.
    #expect(try store.claimJob(worker: "w2", lease: 30) == nil)
  }

  /// Analyses the checkpoint, then claims the sweep the idle worker queues.
  func analysedThenSweep() throws -> DaemonStore.Job {
    let analysis = try #require(try store.claimJob(worker: "w1", lease: 30))
    _ = try holding(analysis) { try analyzer.run(analysis) }
    #expect(try store.enqueueInterventions() == 1)
    let sweep = try #require(try store.claimJob(worker: "w1", lease: 30))
    #expect(sweep.kind == "intervene")
    return sweep
  }

  @Test func aSweepIsDoneTheMomentItsOutcomesCommit() throws {
    let sweep = try analysedThenSweep()
    try holding(sweep) { try InterventionRunner(analyzer: analyzer).run(sweep) }
    #expect(try store.job(id: sweep.id)?.state == "done", "no finishJob was called")
    #expect(try count("interventions", where: "origin = 'auto'") > 0, "the sweep tested pairs")
  }

  @Test func aLostClaimCommitsNoneOfTheSweep() throws {
    let sweep = try analysedThenSweep()
    // Another worker took the job over (a new fencing token) while this one measured.
    try store.database.execute("UPDATE jobs SET fence = fence + 1000 WHERE id = ?", [.integer(Int64(sweep.id))])
    #expect(throws: DaemonStore.LostLease.self) {
      try holding(sweep) { try InterventionRunner(analyzer: analyzer).run(sweep) }
    }
    #expect(try count("interventions", where: "origin = 'auto'") == 0)
    #expect(try store.job(id: sweep.id)?.state == "running", "the job is the other worker's")
  }
}

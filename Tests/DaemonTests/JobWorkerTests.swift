import Checkpoints
import DaemonCore
import Foundation
import Testing
import Wire

@Suite struct JobWorkerTests {
  @Test func verifiesCheckpointsAndRecordsFailures() throws {
    let directory = try DaemonFixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let handler = RequestHandler(store: try TestStore.open(directory), log: { _ in })
    _ = handler.handle(try DaemonFixtures.register().frames)
    _ = handler.handle(
      try DaemonFixtures.checkpoint(step: 1, bytes: try DaemonFixtures.checkpointBytes(seed: 1)).frames)
    let worker = JobWorker(location: try TestStore.location(directory), log: { _ in })
    try worker.start()
    let store = try TestStore.open(directory)
    let deadline = Date().addingTimeInterval(20)
    while Date() < deadline, (try store.jobCounts()["queued"] ?? 0) + (try store.jobCounts()["running"] ?? 0) > 0 {
      Thread.sleep(forTimeInterval: 0.02)
    }
    worker.stop()
    let rows = try store.checkpoints(run: "r1")
    #expect(rows[0].jobState == "done", "\(rows[0].jobError ?? "")")
    #expect(rows[0].parameterCount == 23946)
  }

  /// A crash is counted per job: retried while fewer than `maximumAttempts`, then failed
  /// for good with the reason; a daemon interruption gives the attempt back.
  @Test func crashesAreCountedThenFailTheJob() throws {
    let directory = try DaemonFixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let store = try TestStore.open(directory)
    let handler = RequestHandler(store: store, log: { _ in })
    _ = handler.handle(try DaemonFixtures.register().frames)
    _ = handler.handle(
      try DaemonFixtures.checkpoint(step: 1, bytes: try DaemonFixtures.checkpointBytes(seed: 1)).frames)
    for crash in 1...DaemonStore.maximumAttempts {
      let job = try #require(try store.claimJob())
      #expect(job.attempts == crash)
      let failed = try store.recordCrash(job, reason: "signal 4 (Illegal instruction)")
      #expect(failed == (crash == DaemonStore.maximumAttempts))
    }
    #expect(try store.claimJob() == nil)
    let row = try #require(try store.checkpoints(run: "r1").first)
    #expect(row.jobState == "failed")
    #expect(row.jobError?.contains("crashed on this checkpoint 3 times (last: signal 4") == true)
  }

  /// Two runs with three checkpoints each, queued one run after the other: the worker
  /// alternates between them, and each run's checkpoints go in step order.
  @Test func runsTakeTurnsAndStepsStayInOrder() throws {
    let directory = try DaemonFixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let store = try TestStore.open(directory)
    let handler = RequestHandler(store: store, log: { _ in })
    for run in ["r1", "r2"] {
      _ = handler.handle(try DaemonFixtures.register(run: run).frames)
      for step in 1...3 {
        _ = handler.handle(
          try DaemonFixtures.checkpoint(run: run, step: step, bytes: try DaemonFixtures.checkpointBytes(seed: 1)).frames
        )
      }
    }
    var order: [String] = []
    while let job = try store.claimJob() {
      order.append("\(job.run)@\(job.step)")
      try store.finishJob(job, parameterCount: 0)
    }
    #expect(order == ["r1@1", "r2@1", "r1@2", "r2@2", "r1@3", "r2@3"])
    #expect(try store.lag().isEmpty)
  }

  @Test func transientFaultsPostponeWithoutUsingAttempts() throws {
    let directory = try DaemonFixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let store = try TestStore.open(directory)
    let handler = RequestHandler(store: store, log: { _ in })
    _ = handler.handle(try DaemonFixtures.register().frames)
    _ = handler.handle(
      try DaemonFixtures.checkpoint(step: 1, bytes: try DaemonFixtures.checkpointBytes(seed: 1)).frames)
    for _ in 0..<5 {
      let job = try #require(try store.claimJob())
      #expect(job.attempts == 1)
      try store.postponeJob(job, error: "No space left on device", delay: 0)
    }
    let job = try #require(try store.claimJob())
    try store.postponeJob(job, error: "No space left on device", delay: 3600)
    #expect(try store.claimJob() == nil, "a postponed job waits for its not_before time")
    #expect(try store.jobCounts()["queued"] == 1)
  }

  @Test func interruptedJobsAreQueuedAgain() throws {
    let directory = try DaemonFixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let store = try TestStore.open(directory)
    let handler = RequestHandler(store: store, log: { _ in })
    _ = handler.handle(try DaemonFixtures.register().frames)
    _ = handler.handle(
      try DaemonFixtures.checkpoint(step: 1, bytes: try DaemonFixtures.checkpointBytes(seed: 1)).frames)
    // A worker took it, then its process died.
    let claimed = try #require(try store.claimJob(worker: "w1", lease: 0.3))
    #expect(claimed.attempts == 1)
    #expect(try store.jobCounts()["running"] == 1)
    try store.requeueInterruptedJobs()
    if TestStore.postgreSQL {
      // Shared store: a starting daemon leaves running jobs to their workers; the dead
      // worker's job comes back once its lease runs out, that claim counted as an attempt.
      #expect(try store.jobCounts()["running"] == 1)
      #expect(try store.claimJob(worker: "w2", lease: 30) == nil)
      Thread.sleep(forTimeInterval: 0.5)
      let again = try #require(try store.claimJob(worker: "w2", lease: 30))
      #expect(again.id == claimed.id && again.attempts == 2 && again.fence != claimed.fence)
      #expect(throws: DaemonStore.LostLease.self) { try store.finishJob(claimed, parameterCount: nil) }
      try store.finishJob(again, parameterCount: nil)
    } else {
      #expect(try store.jobCounts()["queued"] == 1)
      #expect(try store.claimJob()?.attempts == 1, "the daemon's interruption does not use up an attempt")
    }
  }
}

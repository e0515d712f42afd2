import Checkpoints
import DaemonCore
import Foundation
import Testing
import Wire

@Suite struct JobWorkerTests {
  @Test func verifiesCheckpointsAndRecordsFailures() throws {
    let directory = try DaemonFixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let handler = RequestHandler(store: try DaemonStore(directory: directory), log: { _ in })
    _ = handler.handle(try DaemonFixtures.register().frames)
    _ = handler.handle(
      try DaemonFixtures.checkpoint(step: 1, bytes: try DaemonFixtures.checkpointBytes(seed: 1)).frames)
    // A valid safetensors file whose tensors do not fit the run's architecture.
    let wrong = try SafetensorsFile(tensors: ["conv1.weight": TensorRecord(floats: [1], shape: [1])]).serialized()
    _ = handler.handle(try DaemonFixtures.checkpoint(step: 2, bytes: wrong).frames)
    let worker = JobWorker(directory: directory, log: { _ in })
    try worker.start()
    let store = try DaemonStore(directory: directory)
    let deadline = Date().addingTimeInterval(20)
    while Date() < deadline, (try store.jobCounts()["queued"] ?? 0) + (try store.jobCounts()["running"] ?? 0) > 0 {
      Thread.sleep(forTimeInterval: 0.02)
    }
    worker.stop()
    let rows = try store.checkpoints(run: "r1")
    #expect(rows[0].jobState == "done", "\(rows[0].jobError ?? "")")
    #expect(rows[0].parameterCount == 23946)
    #expect(rows[1].jobState == "failed")
    #expect(rows[1].jobError?.contains("conv1.weight") == true)
  }

  @Test func interruptedJobsAreQueuedAgain() throws {
    let directory = try DaemonFixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let store = try DaemonStore(directory: directory)
    let handler = RequestHandler(store: store, log: { _ in })
    _ = handler.handle(try DaemonFixtures.register().frames)
    _ = handler.handle(
      try DaemonFixtures.checkpoint(step: 1, bytes: try DaemonFixtures.checkpointBytes(seed: 1)).frames)
    let claimed = try #require(try store.claimJob())  // a worker took it, then the process died
    #expect(claimed.attempts == 1)
    #expect(try store.jobCounts()["running"] == 1)
    try store.requeueInterruptedJobs()
    #expect(try store.jobCounts()["queued"] == 1)
  }
}

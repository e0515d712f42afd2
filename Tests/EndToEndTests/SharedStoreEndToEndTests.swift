import Foundation
import Glibc
import PostgreSQLTestSupport
import Store
import Testing

/// Real processes on one PostgreSQL store (issue 15): a frontend accepting two trainers'
/// checkpoints and two analysing workers, one of which is frozen (SIGSTOP, its job process
/// too) while it holds a job. The other takes the job over once the lease runs out; the frozen
/// one, resumed, records nothing; every checkpoint is analysed, once.
@Suite(.serialized) struct SharedStoreEndToEndTests {
  @Test func aFrozenWorkerLosesItsJobToAnotherAndRecordsNothing() throws {
    let url = try PostgreSQLServer.freshDatabase()
    let blobs = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: blobs) }
    let store = ["--store", url, "--blob-dir", blobs.path]
    let frontend = try DaemonUnderTest(extraArguments: ["--role", "frontend"], storeArguments: store)
    try frontend.start()
    let lease = ["--job-lease", "3", "--faithfulness-sample", "4"]
    let first = try DaemonUnderTest(extraArguments: ["--role", "worker"] + lease, storeArguments: store)
    try first.startWithoutProbe()
    let second = try DaemonUnderTest(extraArguments: ["--role", "worker"] + lease, storeArguments: store)
    defer {
      for daemon in [frontend, first, second] { daemon.kill(SIGKILL) }
    }

    let out = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: out) }
    // Two runs at once: 2050 synthetic training images, batch 50: checkpoints 0, 10, 20, 30, 40, 41.
    let trainers = try ["a", "b"].map { run in
      try RunningProcess(
        "i2x-train",
        [
          "train", "--dataset", "synthetic", "--arch", "smallcnn", "--epochs", "1", "--batch", "50",
          "--validation-size", "200", "--probe-per-class", "5", "--generator-size", "100", "--run", run,
          "--publish", frontend.endpoint, "--publish-every", "10", "--out", out.appendingPathComponent(run).path,
        ], log: out.appendingPathComponent("\(run).log"))
    }
    // Freeze the first worker, and the job process under it, while it holds a job.
    let firstPID = try #require(first.process?.process.processIdentifier)
    var frozen: [String: Any]?
    let deadline = Date().addingTimeInterval(120)
    while frozen == nil && Date() < deadline {
      let held = (try? frontend.query("status"))?["workers"] as? [[String: Any]] ?? []
      if let job = held.first(where: { ($0["worker"] as? String)?.hasSuffix(":\(firstPID)") == true }) {
        signalTree(firstPID, SIGSTOP)
        // Still its job once frozen (it may have finished in between): else let it go on.
        let still = (try? frontend.query("status"))?["workers"] as? [[String: Any]] ?? []
        if still.contains(where: {
          $0["job"] as? Int == job["job"] as? Int && $0["worker"] as? String == job["worker"] as? String
        }) {
          frozen = job
        } else {
          signalTree(firstPID, SIGCONT)
        }
      }
      Thread.sleep(forTimeInterval: 0.02)
    }
    let job = try #require(frozen, "the first worker never held a job")
    try second.startWithoutProbe()
    for trainer in trainers { #expect(trainer.wait() == 0, "\(trainer.output)") }
    // The second worker does the rest, the frozen worker's job once its lease ran out.
    let drained = Date().addingTimeInterval(240)
    while Date() < drained {
      let status = try frontend.query("status")
      if status["queue_depth"] as? Int == 0 { break }
      Thread.sleep(forTimeInterval: 0.2)
    }
    let database = try PostgreSQLDatabase(url: url)
    let recorded = try database.query(
      "SELECT run, step, created_at FROM analyses ORDER BY run, step")
    #expect(recorded.count == 12, "every checkpoint of both runs analysed")
    // Resumed, the first worker finds its claim gone: it records nothing.
    signalTree(firstPID, SIGCONT)
    let resumed = Date().addingTimeInterval(30)
    while Date() < resumed && !(first.process?.output.contains("given up") ?? false) {
      Thread.sleep(forTimeInterval: 0.2)
    }
    #expect(
      first.process?.output.contains("job \(job["job"] as? Int ?? -1) ") == true, "\(first.process?.output ?? "")")
    #expect(first.process?.output.contains("given up") == true, "\(first.process?.output ?? "")")
    #expect(try database.query("SELECT run, step, created_at FROM analyses ORDER BY run, step") == recorded)
    let jobs = try database.query("SELECT kind, run, step, state FROM jobs WHERE kind = 'analyze' ORDER BY run, step")
    #expect(jobs.count == 12 && jobs.allSatisfy { $0[3] == .text("done") }, "\(jobs)")
    // One finished analysis per checkpoint (the event log records each job ending once).
    let endings = try database.query(
      "SELECT run, step, COUNT(*) FROM events WHERE kind = 'analysis' GROUP BY run, step HAVING COUNT(*) <> 1")
    #expect(endings.isEmpty, "\(endings)")
    // The second worker took over the frozen one's job; queries answer from the frontend.
    #expect(second.process?.output.contains("step \(job["step"] as? Int ?? -1) ") == true)
    let progress = try runProduct("i2x", ["progress", "a", "--endpoint", frontend.endpoint, "--json"])
    #expect(progress.status == 0, "\(progress.output)")
    #expect(
      (try JSONSerialization.jsonObject(with: Data(progress.output.utf8)) as? [String: Any])?["steps"] as? [Int]
        == [0, 10, 20, 30, 40, 41])
  }

  /// Sends `signal` to `pid` and every process under it.
  func signalTree(_ pid: Int32, _ signal: Int32) {
    var pending = [pid]
    while let next = pending.popLast() {
      kill(next, signal)
      let children = (try? String(contentsOfFile: "/proc/\(next)/task/\(next)/children", encoding: .utf8)) ?? ""
      pending += children.split(separator: " ").compactMap { Int32($0) }
    }
  }
}

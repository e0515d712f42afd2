import Foundation
import Glibc
import PostgreSQLTestSupport
import Store
import Testing

/// Real processes on one PostgreSQL store (issue 15): two frontends, three analysing workers
/// and four trainers publishing to both frontends at once, sharing nothing but the server
/// (blobs in the database). One worker is frozen (SIGSTOP, its job process too) while it holds
/// a job, another is SIGKILLed three times (and restarted), and so is a frontend, each at a
/// random moment drawn from a printed seed. The trainers fail over to the other frontend; the
/// surviving workers take the frozen and the killed worker's jobs over once their leases run
/// out; the frozen worker, resumed, records nothing. Every checkpoint is stored once and
/// analysed once, and the queries answer.
@Suite(.serialized) struct SharedStoreEndToEndTests {
  @Test func frontendsAndWorkersDieOrFreezeAndNothingIsLostOrDoneTwice() throws {
    let url = try PostgreSQLServer.freshDatabase()
    // Blobs in the database: the daemons share nothing but the PostgreSQL server.
    let store = ["--store", url]
    let frontends = try (0..<2).map { _ in
      try DaemonUnderTest(extraArguments: ["--role", "frontend"], storeArguments: store)
    }
    for frontend in frontends { try frontend.start() }
    let both = frontends.map(\.endpoint).joined(separator: ",")
    let lease = ["--role", "worker", "--job-lease", "3", "--faithfulness-sample", "4"]
    // The second worker, killed and restarted, has a stable name: each restart takes back at
    // once a job it held (the others wait for their leases).
    let workers = try (0..<3).map { index in
      try DaemonUnderTest(
        extraArguments: lease + (index == 1 ? ["--worker-name", "storm"] : []), storeArguments: store)
    }
    for worker in workers { try worker.startWithoutProbe() }
    defer {
      for daemon in frontends + workers { daemon.kill(SIGKILL) }
    }
    let (frozenWorker, killedWorker, survivor) = (workers[0], workers[1], workers[2])

    let out = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: out) }
    // Four runs at once: 2050 synthetic training images, batch 50: checkpoints 0, 10, 20, 30, 40, 41.
    let runs = ["a", "b", "c", "d"]
    let trainers = try runs.map { run in
      try RunningProcess(
        "i2x-train",
        [
          "train", "--dataset", "synthetic", "--arch", "smallcnn", "--epochs", "1", "--batch", "50",
          "--validation-size", "200", "--probe-per-class", "5", "--generator-size", "100", "--run", run,
          "--publish", both, "--publish-every", "10", "--out", out.appendingPathComponent(run).path,
        ], log: out.appendingPathComponent("\(run).log"))
    }
    // The kills come at random moments, drawn from a seed (I2X_SHARED_SEED to replay one): the
    // second worker is SIGKILLed 3 times, each 0–1.5 s after it first holds a job (mid-analysis,
    // in its job process or between jobs) and restarted 0.2–1 s later; the first frontend dies
    // once 1–18 of the 24 checkpoints are stored (so later ones fail over). The first worker is
    // frozen, with its job process, while it holds a job.
    let seed =
      ProcessInfo.processInfo.environment["I2X_SHARED_SEED"].flatMap { UInt64($0) }
      ?? UInt64(Date().timeIntervalSince1970 * 1000)
    var generator = SeededGenerator(seed: seed)
    let frontendAfter = Int.random(in: 1...18, using: &generator)
    let freezeDelay = Double.random(in: 0...0.5, using: &generator)
    print(
      String(
        format: "[shared] seed %llu: frontend SIGKILL after %d checkpoints, freeze %.2f s after a job", seed,
        frontendAfter, freezeDelay))
    let database = try PostgreSQLDatabase(url: url)
    let frozenPID = try #require(frozenWorker.process?.process.processIdentifier)
    var frozen: [String: Any]?
    var (killAt, restartAt, freezeAt): (Date?, Date?, Date?) = (nil, nil, nil)
    var (kills, frontendKilled) = (0, false)
    let deadline = Date().addingTimeInterval(150)
    while (frozen == nil || kills < 3 || restartAt != nil || !frontendKilled) && Date() < deadline {
      let held = (try? frontends[1].query("status"))?["workers"] as? [[String: Any]] ?? []
      if kills < 3, killAt == nil, restartAt == nil, held.contains(where: { Self.heldBy($0, killedWorker) }) {
        let delay = Double.random(in: 0...1.5, using: &generator)
        print(String(format: "[shared] worker SIGKILL %d: %.2f s after it holds a job", kills + 1, delay))
        killAt = Date().addingTimeInterval(delay)
      }
      if let at = killAt, Date() >= at {
        // The daemon alone, as a user would: its job process dies with it (PR_SET_PDEATHSIG).
        kill(try #require(killedWorker.process?.process.processIdentifier), SIGKILL)
        kills += 1
        (killAt, restartAt) = (nil, Date().addingTimeInterval(Double.random(in: 0.2...1, using: &generator)))
      }
      if let at = restartAt, Date() >= at {
        try killedWorker.startWithoutProbe()
        restartAt = nil
      }
      if !frontendKilled,
        (try database.query("SELECT COUNT(*) FROM checkpoints").first?.first?.int ?? 0) >= frontendAfter
      {
        frontends[0].kill(SIGKILL)
        frontendKilled = true
      }
      if freezeAt == nil, held.contains(where: { Self.heldBy($0, frozenWorker) }) {
        freezeAt = Date().addingTimeInterval(freezeDelay)
      }
      if frozen == nil, let freezeAt, Date() >= freezeAt,
        let job = held.first(where: { Self.heldBy($0, frozenWorker) })
      {
        signalTree(frozenPID, SIGSTOP)
        // Still its job once frozen (it may have finished in between): else let it go on.
        let still = (try? frontends[1].query("status"))?["workers"] as? [[String: Any]] ?? []
        if still.contains(where: { $0["job"] as? Int == job["job"] as? Int && Self.heldBy($0, frozenWorker) }) {
          frozen = job
        } else {
          signalTree(frozenPID, SIGCONT)
        }
      }
      Thread.sleep(forTimeInterval: 0.02)
    }
    let job = try #require(frozen, "the first worker never held a job")
    for trainer in trainers { #expect(trainer.wait() == 0, "\(trainer.output)") }
    #expect(kills == 3, "the second worker held a job \(kills) times, seed \(seed)")
    #expect(frontendKilled, "seed \(seed)")
    // The survivor does the rest, the frozen and the killed worker's jobs once their leases ran out.
    let drained = Date().addingTimeInterval(300)
    while Date() < drained {
      if try frontends[1].query("status")["queue_depth"] as? Int == 0 { break }
      Thread.sleep(forTimeInterval: 0.2)
    }
    // Every checkpoint each trainer wrote is stored, once, with its bytes.
    for run in runs {
      let written = try writtenCheckpoints(in: out.appendingPathComponent(run))
      #expect(written.count == 6)
      let stored = try database.query("SELECT step, sha256 FROM checkpoints WHERE run = ? ORDER BY step", [.text(run)])
      #expect(stored.count == written.count && stored.allSatisfy { written[$0[0].int ?? -1] == $0[1].string }, "\(run)")
    }
    #expect(
      try database.query("SELECT COUNT(*) FROM checkpoints c JOIN blobs b ON b.sha256 = c.sha256 AND b.bytes = c.size")
        == [[.integer(24)]], "every checkpoint's bytes are in the database")
    let recorded = try database.query("SELECT run, step, created_at FROM analyses ORDER BY run, step")
    #expect(recorded.count == 24, "every checkpoint of the four runs analysed")
    // Resumed, the frozen worker finds its claim gone: it records nothing.
    signalTree(frozenPID, SIGCONT)
    let resumed = Date().addingTimeInterval(30)
    while Date() < resumed && !(frozenWorker.process?.output.contains("given up") ?? false) {
      Thread.sleep(forTimeInterval: 0.2)
    }
    let frozenLog = frozenWorker.process?.output ?? ""
    #expect(frozenLog.contains("job \(job["job"] as? Int ?? -1) ") && frozenLog.contains("given up"), "\(frozenLog)")
    #expect(try database.query("SELECT run, step, created_at FROM analyses ORDER BY run, step") == recorded)
    let jobs = try database.query("SELECT state FROM jobs WHERE kind = 'analyze'")
    #expect(jobs.count == 24 && jobs.allSatisfy { $0[0] == .text("done") }, "\(jobs)")
    // One ending per checkpoint's analysis (the event log records each job's end once).
    let endings = try database.query(
      "SELECT run, step, COUNT(*) FROM events WHERE kind = 'analysis' GROUP BY run, step HAVING COUNT(*) <> 1")
    #expect(endings.isEmpty, "\(endings)")
    // Queries answer through the endpoint list, whose first frontend is dead.
    let progress = try runProduct("i2x", ["progress", "a", "--endpoint", both, "--json"])
    #expect(progress.status == 0, "\(progress.output)")
    #expect(
      (try JSONSerialization.jsonObject(with: Data(progress.output.utf8)) as? [String: Any])?["steps"] as? [Int]
        == [0, 10, 20, 30, 40, 41])
    #expect(survivor.process?.output.contains("analysed run") == true)
    let restarts = (1...4).compactMap {
      try? String(
        contentsOf: killedWorker.dataDirectory.appendingPathComponent("i2xd-\($0).log"), encoding: .utf8)
    }
    print(
      "[shared] the restarted worker took back its jobs at once \(restarts.filter { $0.contains("took back") }.count) time(s)"
    )
  }

  /// Whether a `workers` row of the status query is held by `daemon`'s process.
  static func heldBy(_ row: [String: Any], _ daemon: DaemonUnderTest) -> Bool {
    guard let pid = daemon.process?.process.processIdentifier, let worker = row["worker"] as? String else {
      return false
    }
    if let index = daemon.extraArguments.firstIndex(of: "--worker-name") {
      return worker == daemon.extraArguments[index + 1]
    }
    return worker.hasSuffix(":\(pid)")
  }

  /// Sends `signal` to `pid` and every process under it.
  func signalTree(_ pid: Int32, _ signal: Int32) {
    var pending = [pid]
    while let next = pending.popLast() {
      let children = (try? String(contentsOfFile: "/proc/\(next)/task/\(next)/children", encoding: .utf8)) ?? ""
      kill(next, signal)
      pending += children.split(separator: " ").compactMap { Int32($0) }
    }
  }
}

import Checkpoints
import Foundation
import Glibc
import PostgreSQLTestSupport
import Store
import Testing

/// Kill storm: the daemon is SIGKILLed 50 times (200 with `I2X_RELIABILITY_LONG=1`) at random
/// moments — while serving, analysing, and during its own start-up — while real trainers
/// publish checkpoints. Afterwards every checkpoint a trainer wrote is stored exactly once with
/// its sha256, the database passes `PRAGMA integrity_check`, no job is left `running`, and
/// start-up leaves no `.tmp` blob files. The same storm runs against a PostgreSQL store with
/// its blobs in the database (a daemon with a stable `--worker-name`, so each restart takes
/// back the job it held).
@Suite(.serialized) struct ReliabilityKillStormTests {
  /// One trainer process publishing one run.
  struct Round {
    var run: String
    var out: URL
    var trainer: RunningProcess
  }

  @Test func everyCheckpointIsStoredExactlyOnceThroughAKillStorm() throws {
    try storm(target: ReliabilityScale.pick(ci: 50, long: 200), postgreSQL: nil)
  }

  @Test func everyCheckpointIsStoredExactlyOnceThroughAKillStormOnPostgreSQL() throws {
    try storm(target: ReliabilityScale.pick(ci: 30, long: 200), postgreSQL: try PostgreSQLServer.freshDatabase())
  }

  /// The storm against the embedded store, or the PostgreSQL database at `postgreSQL`.
  func storm(target: Int, postgreSQL url: String?) throws {
    let label = url == nil ? "kill storm" : "kill storm on PostgreSQL"
    let seed =
      ProcessInfo.processInfo.environment["I2X_RELIABILITY_SEED"].flatMap { UInt64($0) }
      ?? UInt64(Date().timeIntervalSince1970 * 1000)
    print("[reliability] \(label): \(target) SIGKILLs, seed \(seed)")
    var generator = SeededGenerator(seed: seed)
    let daemon = try DaemonUnderTest(
      extraArguments: ["--faithfulness-sample", "0"] + (url == nil ? [] : ["--worker-name", "storm"]),
      storeArguments: url.map { ["--store", $0] })
    try daemon.start()
    let work = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: work) }
    var rounds: [Round] = []
    func startRound() throws {
      let run = "storm-\(rounds.count)"
      let out = work.appendingPathComponent(run)
      // 2000 synthetic training images, batch 25: 80 steps an epoch; 4 epochs, a checkpoint
      // every 8 steps: 40 checkpoints, about 8 s of training on a quiet machine.
      var arguments = trainingArguments(out: out, endpoint: daemon.endpoint, run: run, drainTimeout: 180)
      arguments[arguments.firstIndex(of: "--epochs")! + 1] = "4"
      arguments[arguments.firstIndex(of: "--probe-per-class")! + 1] = "2"
      try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
      rounds.append(
        Round(
          run: run, out: out,
          trainer: try RunningProcess("i2x-train", arguments, log: work.appendingPathComponent("\(run).log"))))
    }
    try startRound()
    var kills = 0
    var killsDuringStartUp = 0
    var peak = 0
    let started = Date()
    while kills < target {
      if rounds.last?.trainer.isRunning == false { try startRound() }
      Thread.sleep(forTimeInterval: Double.random(in: 0.05...0.4, using: &generator))
      peak = max(peak, peakResidentBytes(of: daemon.pid) ?? 0)
      daemon.kill(SIGKILL)
      kills += 1
      Thread.sleep(forTimeInterval: Double.random(in: 0...0.2, using: &generator))
      if Int.random(in: 0..<4, using: &generator) == 0 {
        // Killed again during its own start-up.
        try daemon.startWithoutProbe()
        Thread.sleep(forTimeInterval: Double.random(in: 0...0.05, using: &generator))
        daemon.kill(SIGKILL)
        kills += 1
        killsDuringStartUp += 1
      }
      try daemon.start()
    }
    let stormSeconds = Date().timeIntervalSince(started)
    let leftovers = url == nil ? daemon.temporaryBlobFiles().count : 0
    daemon.kill(SIGKILL)
    try daemon.start()  // the final clean start
    for round in rounds {
      #expect(round.trainer.wait() == 0, "\(round.run): \(round.trainer.output.suffix(1500))")
    }
    print(
      "[reliability] \(label): \(kills) SIGKILLs (\(killsDuringStartUp) during start-up) in "
        + "\(String(format: "%.1f", stormSeconds)) s, \(rounds.count) trainer runs, "
        + "\(leftovers) .tmp blob files left by the last kill, daemon peak RSS \(peak >> 20) MB across generations")
    #expect(kills >= target)
    #expect(peak < defaultPeakResidentBound)

    var total = 0
    for round in rounds {
      let written = try writtenCheckpoints(in: round.out)
      total += written.count
      #expect(!written.isEmpty)
      #expect(
        try daemon.storedCheckpoints(run: round.run) == written, "\(round.run): stored once with the file's sha256")
    }
    print("[reliability] \(label): \(total) checkpoints written and stored exactly once")
    daemon.expectHealthy("\(label), final generation")
    daemon.stopCleanly(label)

    let database: any SQLDatabase
    if let url {
      database = try PostgreSQLDatabase(url: url)
      // Every checkpoint's bytes are whole in the database.
      let blobs = BlobStore(database: database)
      for row in try database.query("SELECT sha256 FROM checkpoints") {
        let sha = try #require(row.first?.string)
        #expect(SHA256.hex(try blobs.get(sha)) == sha)
      }
    } else {
      database = try daemon.openDatabase()
      #expect(try database.query("PRAGMA integrity_check").first?.first?.string == "ok")
    }
    for round in rounds {
      let rows = try database.query(
        "SELECT COUNT(*), COUNT(DISTINCT step) FROM checkpoints WHERE run = ?", [.text(round.run)])
      let written = try writtenCheckpoints(in: round.out).count
      #expect(rows.first?[0].int == written && rows.first?[1].int == written, "\(round.run): one row per checkpoint")
    }
    let duplicatedJobs = try database.query(
      "SELECT run, step, kind, COUNT(*) FROM jobs GROUP BY run, step, kind HAVING COUNT(*) > 1")
    #expect(duplicatedJobs.isEmpty, "one job per checkpoint: \(duplicatedJobs.prefix(3))")
    let jobStates = try database.query("SELECT state, COUNT(*) FROM jobs GROUP BY state")
    print(
      "[reliability] \(label): jobs by state after SIGTERM: \(jobStates.map { "\($0[0].string ?? "?")=\($0[1].int ?? 0)" })"
    )
    #expect(!jobStates.contains { $0[0].string == "running" }, "no job left running after a clean stop")
    if url != nil {
      #expect(
        !jobStates.contains { $0[0].string == "failed" }, "a restart under its --worker-name gives the attempt back")
    }

    // Start-up removes what interrupted blob writes left.
    guard url == nil else { return }
    try daemon.start()
    #expect(daemon.temporaryBlobFiles().isEmpty)
    daemon.stopCleanly("kill storm, restart")
  }
}

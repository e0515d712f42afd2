import Foundation
import Glibc
import Store
import Testing

/// The real binaries on loopback: checkpoints survive daemon crashes and outages.
@Suite(.serialized) struct DurabilityTests {
  @Test func twentyOneCheckpointsSurviveTwoDaemonKills() throws {
    let daemon = try DaemonUnderTest()
    try daemon.start()
    let out = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: out) }
    let trainer = try RunningProcess(
      "i2x-train", trainingArguments(out: out, endpoint: daemon.endpoint, run: "crashy"),
      log: out.appendingPathComponent("train.log"))
    // Kill the daemon mid-run, twice: once 5 and once 12 checkpoint files have been written
    // (progress-based, so the test does not depend on how fast training is).
    var kills = 0
    for threshold in [5, 12] {
      while trainer.isRunning, (try? writtenCheckpoints(in: out).count) ?? 0 < threshold {
        Thread.sleep(forTimeInterval: 0.01)
      }
      guard trainer.isRunning else { break }
      daemon.kill(SIGKILL)
      kills += 1
      Thread.sleep(forTimeInterval: 0.3)
      try daemon.start()
    }
    #expect(trainer.wait() == 0, "\(trainer.output)")
    #expect(kills == 2, "training ended before both kills; make the run longer")
    let written = try writtenCheckpoints(in: out)
    #expect(written.count == 21)
    let stored = try daemon.storedCheckpoints(run: "crashy")
    #expect(stored == written, "every checkpoint stored exactly once with the file's sha256")
    daemon.kill(SIGTERM)
    let database = try SQLiteDatabase(path: daemon.dataDirectory.appendingPathComponent("i2x.sqlite").path)
    #expect(try database.query("PRAGMA integrity_check").first?.first?.string == "ok")
    #expect(try database.query("SELECT COUNT(*) FROM checkpoints WHERE run = 'crashy'").first?.first?.int == 21)
  }

  @Test func trainerFinishesWhileTheDaemonIsDownAndDrainsLater() throws {
    let daemon = try DaemonUnderTest()
    let out = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: out) }
    let trained = try runProduct(
      "i2x-train", trainingArguments(out: out, endpoint: daemon.endpoint, run: "offline", drainTimeout: 1))
    #expect(trained.status == 0, "\(trained.output)")
    #expect(trained.output.contains("not yet acknowledged"))
    let pending = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("outbox").path)
      .filter { $0.hasSuffix(".json") }
    #expect(pending.count == 22)  // the registration + 21 checkpoints (step 0 included)
    try daemon.start()
    let drained = try runProduct(
      "i2x-train", ["drain", "--out", out.path, "--endpoint", daemon.endpoint, "--timeout", "60"])
    #expect(drained.status == 0, "\(drained.output)")
    #expect(drained.output.contains("sent 22 of 22"))
    #expect(try daemon.storedCheckpoints(run: "offline") == (try writtenCheckpoints(in: out)))
  }
}

import Foundation
import Glibc
import Testing

/// SIGTERM ends the real binaries even when their parent started them with the signal
/// blocked — as this test runner does: a blocked mask is inherited, and before the binaries
/// unblocked it at start, `kill -TERM` did nothing (a test daemon outlived its test).
@Suite(.serialized) struct SignalTests {
  /// Polls until `process` exits or `seconds` pass; returns whether it exited.
  func exits(_ process: RunningProcess, within seconds: Double) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
    return !process.isRunning
  }

  @Test func sigtermStopsTheDaemonCleanly() throws {
    let daemon = try DaemonUnderTest()
    try daemon.start()
    let process = try #require(daemon.process)
    Glibc.kill(process.process.processIdentifier, SIGTERM)
    let exited = exits(process, within: 10)
    if !exited { process.kill(SIGKILL) }
    #expect(exited, "i2xd ignored SIGTERM: \(process.output)")
    #expect(process.process.terminationStatus == 0)
    #expect(process.output.contains("received signal \(SIGTERM)"))
  }

  @Test func sigtermStopsATrainer() throws {
    let out = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: out) }
    let trainer = try RunningProcess(
      "i2x-train",
      [
        "train", "--dataset", "synthetic", "--arch", "smallcnn", "--epochs", "50", "--validation-size", "100",
        "--probe-per-class", "10", "--generator-size", "100", "--out", out.path,
      ], log: out.appendingPathComponent("train.log"))
    Thread.sleep(forTimeInterval: 1)
    Glibc.kill(trainer.process.processIdentifier, SIGTERM)
    let exited = exits(trainer, within: 10)
    if !exited { trainer.kill(SIGKILL) }
    #expect(exited, "i2x-train ignored SIGTERM")
  }
}

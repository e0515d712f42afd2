import Foundation
import Glibc
import Testing

/// A failed write to stdout or stderr (here ENOSPC from /dev/full) never kills a product:
/// each exits with the code it would have used anyway.
@Suite struct FullOutputTests {
  @Test(arguments: [
    ("i2x", ["--help"], Int32(0)), ("i2x", ["status", "--endpoint", "tcp://127.0.0.1:99999"], 64),
    ("i2x", ["status", "--endpoint", "tcp://127.0.0.1:9", "--timeout", "50", "--retries", "1"], 69),
    ("i2x-train", ["--help"], 0), ("i2x-train", ["train", "--epochs", "x", "--out", "/nonexistent"], 64),
    ("i2xd", ["--help"], 0), ("i2xd", ["--endpoint", "garbage"], 64),
  ])
  func clientsAndTrainerExitNormallyWithFullOutput(_ product: String, _ arguments: [String], _ expected: Int32)
    throws
  {
    let result = try runProduct(product, arguments, environment: [:], device: "/dev/full")
    #expect(result.reason == .exit, "\(product) \(arguments) was killed by signal \(result.status)")
    #expect(result.status == expected)
  }

  @Test func daemonServesAndShutsDownWithFullStderr() throws {
    let dataDirectory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dataDirectory) }
    let endpoint = "tcp://127.0.0.1:\(freePort())"
    let full = try FileHandle(forWritingTo: URL(fileURLWithPath: "/dev/full"))
    defer { try? full.close() }
    let daemon = Process()
    daemon.executableURL = productsDirectory.appendingPathComponent("i2xd")
    daemon.arguments = ["--data-dir", dataDirectory.path, "--endpoint", endpoint]
    daemon.standardOutput = full
    daemon.standardError = full  // its start-up line and every request log fail with ENOSPC
    try daemon.run()
    defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
    var status: Termination?
    let deadline = Date().addingTimeInterval(20)
    while Date() < deadline {
      status = try runProduct(
        "i2x", ["status", "--endpoint", endpoint, "--timeout", "500", "--retries", "1"], environment: [:])
      if status?.status == 0 { break }
    }
    #expect(status?.status == 0, "\(status?.output ?? "")")
    #expect(status?.output.contains("daemon      i2xd") == true)
    kill(daemon.processIdentifier, SIGTERM)
    daemon.waitUntilExit()
    #expect(daemon.terminationReason == .exit)
    #expect(daemon.terminationStatus == 0)
  }
}

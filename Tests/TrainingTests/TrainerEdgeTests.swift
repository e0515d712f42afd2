import Foundation
import Testing

/// What `i2x-train` leaves behind and how it treats endpoints it cannot use.
@Suite struct TrainerEdgeTests {
  static let tinyRun = [
    "train", "--dataset", "synthetic", "--arch", "smallcnn", "--epochs", "1", "--batch", "100",
    "--validation-size", "100", "--probe-per-class", "2", "--generator-size", "100",
  ]

  @Test func trainingLeavesNothingInTheTemporaryDirectory() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let temporary = directory.appendingPathComponent("tmp")
    try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
    let out = directory.appendingPathComponent("run")
    let result = try ToolProcess.run(
      Self.tinyRun + ["--checkpoint-every", "5", "--out", out.path], environment: ["TMPDIR": temporary.path])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: temporary.path) == [])
    // Nor in the output directory: no stray temporary files next to the checkpoints.
    let names = try FileManager.default.contentsOfDirectory(atPath: out.path)
    #expect(names.allSatisfy { !$0.hasPrefix(".") && !$0.hasSuffix(".tmp") }, "\(names)")
  }

  @Test(arguments: [
    (["--publish", "garbage"], "--publish: invalid endpoint 'garbage'"),
    (["--publish", "tcp://127.0.0.1:99999"], "--publish: invalid endpoint 'tcp://127.0.0.1:99999': port '99999'"),
  ])
  func anUnusableTrainEndpointIsAUsageError(_ extra: [String], _ message: String) throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let result = try ToolProcess.run(Self.tinyRun + extra + ["--out", directory.appendingPathComponent("run").path])
    #expect(result.status == 64)
    #expect(result.stderr.contains("error: \(message)"), "\(result.stderr)")
    #expect(result.stderr.contains("hint: write tcp://HOST:PORT"))
    #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("run").path))
  }

  @Test(arguments: [
    ["drain", "--out", "/nonexistent", "--endpoint", "tcp://host:0"],
    ["publish", "--checkpoint", "/nonexistent", "--run", "r", "--endpoint", "ipc://"],
  ])
  func drainAndPublishCheckTheirEndpointFirst(_ arguments: [String]) throws {
    let result = try ToolProcess.run(arguments)
    #expect(result.status == 64)
    #expect(result.stderr.contains("error: --endpoint: invalid endpoint"), "\(result.stderr)")
  }

  @Test func aPartialCurveEnvironmentIsAUsageErrorOnlyWhenPublishing() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let partial = ["I2X_CURVE_SERVER_KEY": "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"]
    let publishing = try ToolProcess.run(
      Self.tinyRun + ["--publish", "tcp://127.0.0.1:7070", "--out", directory.appendingPathComponent("a").path],
      environment: partial)
    #expect(publishing.status == 64)
    #expect(publishing.stderr.contains("I2X_CURVE_PUBLIC_KEY and I2X_CURVE_SECRET_KEY are not set"))
    let local = try ToolProcess.run(
      Self.tinyRun + ["--out", directory.appendingPathComponent("b").path], environment: partial)
    #expect(local.status == 0, "\(local.stderr)")
  }
}

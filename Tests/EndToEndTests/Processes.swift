import Checkpoints
import Foundation
import Glibc
import Wire

/// The built products (next to the test bundle), or `I2X_PRODUCTS_DIR` when set (e.g. the
/// release binaries, for suites whose analyses would take minutes in a debug build).
let productsDirectory: URL = {
  if let override = ProcessInfo.processInfo.environment["I2X_PRODUCTS_DIR"], !override.isEmpty {
    return URL(fileURLWithPath: override)
  }
  let bundle = Bundle.main.bundleURL
  for candidate in [bundle, bundle.deletingLastPathComponent()]
  where FileManager.default.fileExists(atPath: candidate.appendingPathComponent("i2xd").path) {
    return candidate
  }
  return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent(".build/debug")
}()

func temporaryDirectory() throws -> URL {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent("i2x-e2e-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}

/// A free loopback TCP port (bound to port 0 by the kernel, then released).
func freePort() -> Int {
  let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
  defer { close(fd) }
  var address = sockaddr_in()
  address.sin_family = sa_family_t(AF_INET)
  address.sin_addr.s_addr = inet_addr("127.0.0.1")
  address.sin_port = 0
  var length = socklen_t(MemoryLayout<sockaddr_in>.size)
  _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
  _ = withUnsafeMutablePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
  }
  return Int(UInt16(bigEndian: address.sin_port))
}

/// A running product with its output captured to files.
final class RunningProcess: @unchecked Sendable {
  let process = Process()
  let log: URL

  init(_ product: String, _ arguments: [String], log: URL) throws {
    self.log = log
    _ = FileManager.default.createFile(atPath: log.path, contents: nil)
    process.executableURL = productsDirectory.appendingPathComponent(product)
    process.arguments = arguments
    let handle = try FileHandle(forWritingTo: log)
    process.standardOutput = handle
    process.standardError = handle
    try process.run()
  }

  var isRunning: Bool { process.isRunning }

  func kill(_ signal: Int32) {
    Glibc.kill(process.processIdentifier, signal)
    process.waitUntilExit()
  }

  @discardableResult
  func wait() -> Int32 {
    process.waitUntilExit()
    return process.terminationStatus
  }

  var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
}

/// Runs a product to completion; returns status and combined output.
func runProduct(_ product: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
  let directory = try temporaryDirectory()
  defer { try? FileManager.default.removeItem(at: directory) }
  let running = try RunningProcess(product, arguments, log: directory.appendingPathComponent("log"))
  let status = running.wait()
  return (status, running.output)
}

/// An `i2xd` on a loopback port with a data directory that outlives restarts.
final class DaemonUnderTest: @unchecked Sendable {
  let dataDirectory: URL
  let endpoint: String
  var extraArguments: [String]
  /// Where its store is: `--data-dir` in `dataDirectory` unless told otherwise.
  var storeArguments: [String]
  var process: RunningProcess?
  private var generation = 0

  init(extraArguments: [String] = [], storeArguments: [String]? = nil) throws {
    dataDirectory = try temporaryDirectory()
    endpoint = "tcp://127.0.0.1:\(freePort())"
    self.extraArguments = extraArguments
    self.storeArguments = storeArguments ?? ["--data-dir", dataDirectory.path]
  }

  /// Starts the daemon without waiting for it to answer.
  func startWithoutProbe() throws {
    generation += 1
    process = try RunningProcess(
      // Niceness, not SCHED_IDLE: tests run in parallel and keep the cores busy, so idle-only
      // analysis processes would wait for the whole suite.
      "i2xd",
      storeArguments + ["--endpoint", endpoint, "--analysis-scheduling", "nice"] + extraArguments,
      log: dataDirectory.appendingPathComponent("i2xd-\(generation).log"))
  }

  /// Starts the daemon and waits until it answers a status query.
  func start() throws {
    try startWithoutProbe()
    let deadline = Date().addingTimeInterval(20)
    while Date() < deadline {
      if (try? query("status")) != nil { return }
      Thread.sleep(forTimeInterval: 0.05)
    }
    throw E2EError("i2xd did not answer within 20 s: \(process?.output ?? "")")
  }

  func kill(_ signal: Int32 = SIGKILL) { process?.kill(signal) }

  /// A JSON query answered by the daemon (throws on error replies or timeouts).
  func query(_ name: String, run: String? = nil, step: Int? = nil, timeout: Int = 1000) throws -> [String: Any] {
    let client = RequestClient(endpoint: endpoint, timeoutMilliseconds: timeout, attempts: 1)
    defer { client.close() }
    let reply = try client.request(
      try WireMessage(type: .query, header: QueryHeader(query: name, run: run, step: step)))
    guard reply.type == .reply,
      let object = try JSONSerialization.jsonObject(with: Data(reply.header)) as? [String: Any]
    else {
      throw E2EError("query \(name) answered \(reply.type): \(String(decoding: reply.header, as: UTF8.self))")
    }
    return object
  }

  /// step → sha256 of the run's stored checkpoints.
  func storedCheckpoints(run: String) throws -> [Int: String] {
    let rows = try query("checkpoints", run: run, timeout: 3000)["checkpoints"] as? [[String: Any]] ?? []
    var result: [Int: String] = [:]
    for row in rows { result[row["step"] as? Int ?? -1] = row["sha256"] as? String }
    return result
  }

  deinit {
    if process?.isRunning == true { process?.kill(SIGKILL) }
    try? FileManager.default.removeItem(at: dataDirectory)
  }
}

/// step → sha256 of the checkpoint files a run wrote.
func writtenCheckpoints(in directory: URL) throws -> [Int: String] {
  var result: [Int: String] = [:]
  for name in try FileManager.default.contentsOfDirectory(atPath: directory.path)
  where name.hasPrefix("step-") && name.hasSuffix(".safetensors") {
    let step = Int(name.dropFirst(5).dropLast(12)) ?? -1
    result[step] = SHA256.hex([UInt8](try Data(contentsOf: directory.appendingPathComponent(name))))
  }
  return result
}

struct E2EError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

/// Synthetic training that writes 21 checkpoints: 2000 training images, batch 25 → 80 steps
/// an epoch, 2 epochs = 160 steps; the initial weights (step 0), every 8 steps → 19 periodic,
/// and the final one.
func trainingArguments(out: URL, endpoint: String, run: String, drainTimeout: Int = 60) -> [String] {
  [
    "train", "--dataset", "synthetic", "--arch", "smallcnn", "--epochs", "2", "--batch", "25",
    "--validation-size", "200", "--probe-per-class", "10", "--generator-size", "100", "--run", run,
    "--publish", endpoint, "--publish-every", "8", "--drain-timeout", "\(drainTimeout)", "--out", out.path,
  ]
}

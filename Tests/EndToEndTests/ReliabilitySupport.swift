import Checkpoints
import Foundation
import Glibc
import Store
import Testing
import Wire

/// Scale of the reliability suite: the CI version by default, the long one with
/// `I2X_RELIABILITY_LONG=1` (`scripts/reliability.sh --long`).
enum ReliabilityScale {
  static let isLong = ProcessInfo.processInfo.environment["I2X_RELIABILITY_LONG"] == "1"

  /// `ci` normally, `long` in the long version.
  static func pick(ci: Int, long: Int) -> Int { isLong ? long : ci }
}

/// Default bound on the daemon's peak resident set (VmHWM), unless a case states its own.
let defaultPeakResidentBound = 300 << 20

/// Peak resident set (VmHWM, bytes) of a live process, from `/proc/PID/status`.
func peakResidentBytes(of pid: Int32) -> Int? {
  guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
  for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
    return line.split(whereSeparator: \.isWhitespace).dropFirst().first.flatMap { Int($0) }.map { $0 * 1024 }
  }
  return nil
}

/// SplitMix64: a small seeded generator, so every random case can be replayed from its seed.
struct SeededGenerator: RandomNumberGenerator {
  private var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

extension DaemonUnderTest {
  /// The daemon's process id (of the current generation).
  var pid: Int32 { process?.process.processIdentifier ?? -1 }

  /// Checks what every reliability case ends with: the daemon is running, answers `status`,
  /// and its peak RSS is under `bound`. Returns the peak RSS in bytes.
  @discardableResult
  func expectHealthy(
    bound: Int = defaultPeakResidentBound, _ label: String, sourceLocation: SourceLocation = #_sourceLocation
  ) -> Int {
    #expect(process?.isRunning == true, "\(label): i2xd is not running", sourceLocation: sourceLocation)
    let status = try? query("status", timeout: 5000)
    #expect(status != nil, "\(label): i2xd does not answer status", sourceLocation: sourceLocation)
    let peak = peakResidentBytes(of: pid) ?? 0
    #expect(peak > 0 && peak < bound, "\(label): peak RSS \(peak >> 20) MB", sourceLocation: sourceLocation)
    print("[reliability] \(label): i2xd peak RSS \(peak >> 20) MB (bound \(bound >> 20) MB)")
    return peak
  }

  /// SIGTERM, expecting exit status 0.
  func stopCleanly(_ label: String, sourceLocation: SourceLocation = #_sourceLocation) {
    kill(SIGTERM)
    #expect(
      process?.process.terminationReason == .exit && process?.process.terminationStatus == 0,
      "\(label): i2xd did not exit 0 on SIGTERM: \(process?.output.suffix(2000) ?? "")",
      sourceLocation: sourceLocation)
  }

  /// The job states of a run's checkpoints (`job`, `job_error`) by step.
  func jobs(run: String) throws -> [Int: (state: String, error: String?)] {
    let rows = try query("checkpoints", run: run, timeout: 5000)["checkpoints"] as? [[String: Any]] ?? []
    var result: [Int: (state: String, error: String?)] = [:]
    for row in rows {
      result[row["step"] as? Int ?? -1] = (row["job"] as? String ?? "?", row["job_error"] as? String)
    }
    return result
  }

  /// Waits until no job is queued or running (or `seconds` pass); returns whether it settled.
  func waitForJobsToSettle(seconds: Double) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
      if let status = try? query("status", timeout: 5000), status["queue_depth"] as? Int == 0 { return true }
      Thread.sleep(forTimeInterval: 0.25)
    }
    return false
  }

  /// The SQLite store, opened read-write (call while the daemon is stopped).
  func openDatabase() throws -> SQLiteDatabase {
    try SQLiteDatabase(path: dataDirectory.appendingPathComponent("i2x.sqlite").path)
  }

  /// Leftover `*.tmp` files under the blob directory.
  func temporaryBlobFiles() -> [String] {
    let root = dataDirectory.appendingPathComponent("blobs")
    let walker = FileManager.default.enumerator(atPath: root.path)
    var found: [String] = []
    while let name = walker?.nextObject() as? String {
      if name.hasSuffix(".tmp") { found.append(name) }
    }
    return found
  }
}

/// A raw request socket with the Lazy Pirate pattern: a DEALER that sends an empty delimiter
/// (so the daemon answers it like a REQ peer) and is replaced by a fresh one after a timeout,
/// so a lost or late reply never pairs with the next request.
final class RawWireClient {
  let endpoint: String
  private var socket: ZMQSocket?

  init(endpoint: String) { self.endpoint = endpoint }

  /// Sends `frames` and returns the reply's frames, or nil when none came within `timeout`.
  func exchange(_ frames: [[UInt8]], timeout: Int) throws -> [[UInt8]]? {
    let socket = try self.socket ?? connect()
    try socket.send([[]] + frames)
    guard let reply = try socket.receive(timeoutMilliseconds: timeout) else {
      reset()
      return nil
    }
    return reply.first?.isEmpty == true ? Array(reply.dropFirst()) : reply
  }

  /// Sends a message and decodes the reply (nil on timeout).
  func exchange(_ message: WireMessage, timeout: Int = 10_000) throws -> WireMessage? {
    try exchange(message.frames, timeout: timeout).map { try WireMessage(frames: $0) }
  }

  func reset() {
    socket?.close()
    socket = nil
  }

  private func connect() throws -> ZMQSocket {
    let fresh = try ZMQSocket(.dealer)
    try fresh.connect(endpoint)
    socket = fresh
    return fresh
  }
}

extension WireMessage {
  /// `ack:<status>`, `error:<code>`, `reply` — how a reply is tallied.
  var outcome: String {
    switch type {
    case .ack: return "ack:" + ((try? decode(AckHeader.self))?.status ?? "?")
    case .error: return "error:" + ((try? decode(ErrorHeader.self))?.code ?? "?")
    default: return "\(type)"
    }
  }

  /// The error message of an `error` reply.
  var errorMessage: String? { type == .error ? (try? decode(ErrorHeader.self))?.message : nil }
}

import Checkpoints
import Foundation
import Wire

/// Sends the outbox to the daemon on a dedicated thread (its own ZeroMQ socket), oldest entry
/// first, resending with exponential backoff until each is acknowledged. `enqueue` only writes
/// spool files and signals the thread: training never waits for the daemon.
public final class Publisher: @unchecked Sendable {
  /// The spool.
  public let outbox: Outbox
  private let endpoint: String
  private let options: SocketOptions
  private let log: @Sendable (String) -> Void
  private let condition = NSCondition()
  private var stopping = false
  private var idle = false
  private var thread: Thread?
  private let finished = DispatchSemaphore(value: 0)
  /// Per-attempt reply timeout.
  public var timeoutMilliseconds = 2000
  /// Directives received in acks (handed to the trainer; executed by the fine-tune issue).
  public private(set) var directives: [Directive] = []

  /// Creates a publisher for `outbox` (not started).
  /// - Parameters:
  ///   - outbox: The spool to send.
  ///   - endpoint: The daemon's endpoint (validated by the caller with `Endpoint.validate`).
  ///   - options: Socket options, CURVE keys included (`SocketOptions.client()` for the
  ///     environment's keys); there is no default so no caller can forget CURVE.
  ///   - log: Receives one line per acknowledgement, refusal or retry.
  public init(
    outbox: Outbox, endpoint: String, options: SocketOptions, log: @escaping @Sendable (String) -> Void
  ) {
    self.outbox = outbox
    self.endpoint = endpoint
    self.options = options
    self.log = log
  }

  /// Starts the sending thread.
  public func start() {
    let thread = Thread { [self] in
      run()
      finished.signal()
    }
    thread.name = "i2x-publisher"
    self.thread = thread
    thread.start()
  }

  /// Adds an entry (payload hard-linked from `file`) and wakes the sender.
  public func enqueue(_ entry: Outbox.Entry, payloadFile file: URL) throws {
    try outbox.enqueue(entry, payloadFile: file)
    wake()
  }

  /// Adds an entry with in-memory payload bytes and wakes the sender.
  public func enqueue(_ entry: Outbox.Entry, payload: [UInt8]) throws {
    try outbox.enqueue(entry, payload: payload)
    wake()
  }

  /// Waits until the outbox is empty or `timeout` seconds passed; returns what is pending.
  public func drain(timeout: Double) -> Int {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      if outbox.pending().isEmpty { return 0 }
      Thread.sleep(forTimeInterval: 0.05)
    }
    return outbox.pending().count
  }

  /// Stops the thread after the current attempt.
  public func stop() {
    condition.withLock {
      stopping = true
      condition.broadcast()
    }
    if thread != nil { finished.wait() }
    thread = nil
  }

  private func wake() {
    condition.withLock { condition.broadcast() }
  }

  private var shouldStop: Bool { condition.withLock { stopping } }

  private func run() {
    let client = RequestClient(
      endpoint: endpoint, timeoutMilliseconds: timeoutMilliseconds, attempts: 1, options: options)
    defer { client.close() }
    var backoff = 0.1
    while !shouldStop {
      guard let sequence = outbox.pending().first else {
        condition.withLock {
          if !stopping { _ = condition.wait(until: Date().addingTimeInterval(1)) }
        }
        continue
      }
      switch send(sequence, client) {
      case .acknowledged:
        backoff = 0.1
      case .retry(let reason):
        log("publish: \(reason); retrying in \(String(format: "%.1f", backoff)) s")
        condition.withLock {
          if !stopping { _ = condition.wait(until: Date().addingTimeInterval(backoff)) }
        }
        backoff = min(5, backoff * 2)
      }
    }
  }

  private enum Attempt {
    case acknowledged
    case retry(String)
  }

  private func send(_ sequence: Int, _ client: RequestClient) -> Attempt {
    let entry: Outbox.Entry
    let payload: [UInt8]
    do { (entry, payload) = try outbox.read(sequence) } catch {
      outbox.reject(sequence, reason: "unreadable outbox entry: \(error)")
      return .acknowledged
    }
    let message: WireMessage
    do { message = try Self.message(for: entry, payload: payload) } catch {
      outbox.reject(sequence, reason: "\(error)")
      return .acknowledged
    }
    let reply: WireMessage
    do { reply = try client.request(message) } catch {
      return .retry("daemon at \(endpoint) unreachable")
    }
    switch reply.type {
    case .ack:
      if let ack = try? reply.decode(AckHeader.self) {
        if !ack.directives.isEmpty { condition.withLock { directives += ack.directives } }
        log("publish: \(entry.kind) \(entry.run)\(entry.step.map { " step \($0)" } ?? ""): \(ack.status)")
      }
      outbox.remove(sequence)
      return .acknowledged
    case .error:
      let error = (try? reply.decode(ErrorHeader.self)) ?? ErrorHeader(code: "internal", message: "unreadable error")
      if error.code == "internal" { return .retry("daemon error: \(error.message)") }
      log(
        "publish: daemon refused \(entry.kind) \(entry.run)\(entry.step.map { " step \($0)" } ?? ""): \(error.message); kept in outbox/rejected"
      )
      outbox.reject(sequence, reason: "\(error.code): \(error.message)")
      return .acknowledged
    default:
      return .retry("unexpected \(reply.type) reply")
    }
  }

  /// The wire message of an outbox entry; digests are computed here, off the training thread.
  static func message(for entry: Outbox.Entry, payload: [UInt8]) throws -> WireMessage {
    let sha = SHA256.hex(payload)
    switch entry.kind {
    case "register-run":
      let header = RegisterRunHeader(
        run: entry.run, architecture: entry.architecture ?? "", classes: entry.classes ?? [], sha256: sha)
      return try WireMessage(type: .registerRun, header: header, payload: payload)
    case "checkpoint":
      let header = CheckpointHeader(
        run: entry.run, step: entry.step ?? 0, epoch: entry.epoch ?? 0, sha256: sha, metrics: entry.metrics ?? [:])
      return try WireMessage(type: .checkpoint, header: header, payload: payload)
    default:
      throw TrainingError("unknown outbox entry kind '\(entry.kind)'")
    }
  }
}

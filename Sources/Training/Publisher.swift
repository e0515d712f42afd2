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
  /// How often to ask the daemon for directives while the outbox is empty, in seconds (nil:
  /// never). The question is a re-sent registration, which the daemon acknowledges as
  /// `duplicate` with the run's pending directives.
  public var pollInterval: Double?
  private var received: [Directive] = []
  private var registration: WireMessage?
  private var lastContact = Date.distantPast

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

  /// Removes and returns the directives received in acks since the last call (thread-safe;
  /// the training thread calls it between steps). Redeliveries are included: the caller's
  /// journal makes execution exactly-once.
  public func takeDirectives() -> [Directive] {
    condition.withLock {
      defer { received = [] }
      return received
    }
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
        poll(client)
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

  /// Re-sends the registration when the outbox has been idle for `pollInterval`, to collect
  /// directives; failures are quiet (the next poll tries again).
  private func poll(_ client: RequestClient) {
    guard let interval = pollInterval, let registration = condition.withLock({ self.registration }),
      Date().timeIntervalSince(lastContact) >= interval
    else { return }
    lastContact = Date()
    guard let reply = try? client.request(registration), reply.type == .ack,
      let ack = try? reply.decode(AckHeader.self)
    else { return }
    collect(ack.directives)
  }

  private func collect(_ directives: [Directive]) {
    guard !directives.isEmpty else { return }
    condition.withLock { received += directives }
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
      lastContact = Date()
      if entry.kind == "register-run" { condition.withLock { registration = message } }
      if let ack = try? reply.decode(AckHeader.self) {
        collect(ack.directives)
        log("publish: \(Self.describe(entry)): \(ack.status)")
      }
      outbox.remove(sequence)
      return .acknowledged
    case .error:
      let error = (try? reply.decode(ErrorHeader.self)) ?? ErrorHeader(code: "internal", message: "unreadable error")
      if error.code == "internal" { return .retry("daemon error: \(error.message)") }
      log(
        "publish: daemon refused \(Self.describe(entry)): \(error.message); kept in outbox/rejected"
      )
      outbox.reject(sequence, reason: "\(error.code): \(error.message)")
      return .acknowledged
    default:
      return .retry("unexpected \(reply.type) reply")
    }
  }

  /// `checkpoint run step 40`, `directive-status run directive 3 done`, … for log lines.
  static func describe(_ entry: Outbox.Entry) -> String {
    var text = "\(entry.kind) \(entry.run)"
    if let step = entry.step { text += " step \(step)" }
    if let id = entry.directive { text += " directive \(id) \(entry.state ?? "")" }
    return text
  }

  /// The wire message of an outbox entry; digests are computed here, off the training thread.
  public static func message(for entry: Outbox.Entry, payload: [UInt8]) throws -> WireMessage {
    let sha = SHA256.hex(payload)
    switch entry.kind {
    case "register-run":
      let header = RegisterRunHeader(
        run: entry.run, architecture: entry.architecture ?? "", classes: entry.classes ?? [], sha256: sha,
        finetunePolicy: entry.finetunePolicy, dataset: entry.dataset, generatorSplit: entry.generatorSplit,
        explainPolicy: entry.explainPolicy)
      return try WireMessage(type: .registerRun, header: header, payload: payload)
    case "checkpoint":
      let header = CheckpointHeader(
        run: entry.run, step: entry.step ?? 0, epoch: entry.epoch ?? 0, sha256: sha, metrics: entry.metrics ?? [:])
      return try WireMessage(type: .checkpoint, header: header, payload: payload)
    case "directive-status":
      guard let id = entry.directive, let key = entry.key, let state = entry.state else {
        throw TrainingError("directive-status outbox entry without directive, key or state")
      }
      let header = DirectiveStatusHeader(
        run: entry.run, directive: id, key: key, state: state, reason: entry.reason, metrics: entry.metrics ?? [:])
      return try WireMessage(type: .directiveStatus, header: header)
    default:
      throw TrainingError("unknown outbox entry kind '\(entry.kind)'")
    }
  }
}

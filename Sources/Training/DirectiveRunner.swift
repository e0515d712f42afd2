import Foundation
import Prototypes
import Wire

/// What acts on a fine-tune directive: the trainer's `FineTuneSegment`, or a test double.
public protocol DirectiveExecutor {
  /// Checks that the directive can be acted on with this run's model and data.
  /// - Throws: `DirectiveRefusal` naming why not (reported as `failed`).
  func check(_ directive: FineTuneDirective) throws
  /// Acts on a checked directive.
  /// - Returns: the scalar metrics of the `done` status.
  /// - Throws: what went wrong (reported as `failed`, then rethrown).
  func execute(_ directive: FineTuneDirective) throws -> [String: Double]
}

/// Why the trainer cannot act on a directive (reported to the daemon as `failed`).
public struct DirectiveRefusal: Error, CustomStringConvertible, Equatable {
  /// What is wrong.
  public var description: String
  /// Creates a refusal.
  public init(_ description: String) { self.description = description }
}

/// Exactly-once handling of the directives delivered in acks (DESIGN §7): each state is
/// journaled before it is acted on and reported through `send` (the durable outbox). A key
/// already in the journal is never executed again; its last status is re-sent instead.
public struct DirectiveRunner {
  /// The durable record.
  public let journal: DirectiveJournal
  /// This trainer's run name.
  public let run: String
  /// Reports a status (the trainer enqueues it in the outbox).
  public let send: (DirectiveStatusHeader) throws -> Void
  /// Receives one line per state change.
  public let log: (String) -> Void
  /// Most directives executed to `done` over the run's life (the journal counts them);
  /// further ones are refused with the reason.
  public let maximumExecutions: Int

  /// Creates a runner.
  public init(
    journal: DirectiveJournal, run: String, send: @escaping (DirectiveStatusHeader) throws -> Void,
    log: @escaping (String) -> Void, maximumExecutions: Int = .max
  ) {
    self.maximumExecutions = maximumExecutions
    self.journal = journal
    self.run = run
    self.send = send
    self.log = log
  }

  /// The reason reported for a directive the trainer was executing when it stopped.
  public static let interruptedReason = "interrupted: the trainer restarted"

  /// At start: every directive journaled as `received` or `running` (the trainer died while
  /// acting on it) becomes `failed: interrupted` and is reported; none is re-executed.
  /// - Returns: the ids failed.
  /// - Throws: journal or outbox write errors.
  @discardableResult
  public func recoverInterrupted() throws -> [Int] {
    var failed: [Int] = []
    for var record in journal.records() where !record.isTerminal {
      record.state = "failed"
      record.reason = Self.interruptedReason
      try journal.write(record)
      try send(record.status)
      log("directive \(record.id): \(Self.interruptedReason); reported as failed, not re-executed")
      failed.append(record.id)
    }
    return failed
  }

  /// Handles delivered directives in order; a key seen twice in `directives` counts once.
  /// - Returns: the ids executed now (not the re-sent or refused ones).
  /// - Throws: what the executor throws while executing (after reporting `failed`), and
  ///   journal or outbox write errors.
  @discardableResult
  public func handle(_ directives: [Directive], executor: any DirectiveExecutor) throws -> [Int] {
    var seen = Set<String>()
    var executed: [Int] = []
    for delivered in directives {
      let key = delivered.key.isEmpty ? "\(run)/directive-\(delivered.id)" : delivered.key
      guard seen.insert(key).inserted else { continue }
      if let record = try journal.record(key: key) {
        // A redelivery (the daemon had no status yet, or the trainer restarted): re-send only.
        try send(record.status)
        continue
      }
      var record = DirectiveJournal.Record(id: delivered.id, key: key, run: run, state: "received")
      try advance(&record, to: "received")
      let directive: FineTuneDirective
      do {
        directive = try parse(delivered)
        try executor.check(directive)
        let done = journal.records().filter { $0.state == "done" }.count
        guard done < maximumExecutions else {
          throw DirectiveRefusal(
            "not executed: --max-finetunes \(maximumExecutions) reached (\(done) done)")
        }
      } catch {
        record.reason = "\(error)"
        try advance(&record, to: "failed")
        continue
      }
      try advance(&record, to: "running")
      do {
        record.metrics = try executor.execute(directive)
      } catch {
        record.reason = "\(error)"
        try advance(&record, to: "failed")
        throw error
      }
      try advance(&record, to: "done")
      executed.append(delivered.id)
    }
    return executed
  }

  private func parse(_ delivered: Directive) throws -> FineTuneDirective {
    guard delivered.kind == "finetune" else {
      throw DirectiveRefusal("directive kind '\(delivered.kind)' is not known to this trainer (it acts on finetune)")
    }
    let directive: FineTuneDirective
    do { directive = try FineTuneDirective(json: delivered.payload) } catch {
      throw DirectiveRefusal(error.description)
    }
    guard directive.id == delivered.id, directive.run == run else {
      throw DirectiveRefusal(
        "the payload is directive \(directive.id) of run '\(directive.run)', delivered as \(delivered.id) to run '\(run)'"
      )
    }
    return directive
  }

  private func advance(_ record: inout DirectiveJournal.Record, to state: String) throws {
    record.state = state
    try journal.write(record)
    try send(record.status)
    log("directive \(record.id): \(state)" + (state == "failed" ? " (\(record.reason ?? ""))" : ""))
  }
}

/// Answers directives that arrive after training ended: the trainer cannot act on them.
struct FinishedTrainer: DirectiveExecutor {
  func check(_ directive: FineTuneDirective) throws {
    throw DirectiveRefusal(
      "not executed: training had ended when it arrived (--await-directives SECONDS keeps a trainer waiting)")
  }

  func execute(_ directive: FineTuneDirective) throws -> [String: Double] {
    throw DirectiveRefusal("not executed: training had ended")
  }
}

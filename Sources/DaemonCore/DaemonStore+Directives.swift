import Foundation
import Prototypes
import Store

/// Fine-tune policies and the directive lifecycle (DESIGN §7).
///
/// States: `pending` (created) → `delivered` (sent in an ack; resent in every ack until the
/// trainer reports) → `received` → `running` → `done` or `failed` (with a reason). A directive
/// `running` with no status for `lease` seconds becomes `failed: interrupted`. Terminal states
/// never change.
extension DaemonStore {
  /// A run's fine-tune policy.
  public enum FineTunePolicy: String, Sendable, CaseIterable {
    /// A new uncertain-prototype flag creates a directive for its pair.
    case auto
    /// Directives only from `i2x finetune`.
    case manual
    /// No directives.
    case off
  }

  /// One directive with its state.
  public struct DirectiveRecord: Sendable, Equatable {
    /// Row id.
    public var id: Int
    /// Run.
    public var run: String
    /// Kind (`finetune`).
    public var kind: String
    /// Idempotency key.
    public var key: String
    /// The pair (class indices).
    public var pair: [Int]
    /// Uncertain prototype ids.
    public var prototypes: [Int]
    /// `auto` or `manual`.
    public var source: String
    /// Analysed step the directive was made at.
    public var step: Int
    /// Lifecycle state.
    public var state: String
    /// Why it failed, or a note.
    public var reason: String?
    /// The trainer's reported metrics (JSON object text).
    public var metrics: String
    /// The payload (a `FineTuneDirective`).
    public var payload: String
    /// Unix times (delivered: first put in an ack).
    public var createdAt: Double, updatedAt: Double
    public var deliveredAt: Double?
  }

  /// States a directive never leaves.
  static let terminalStates: Set<String> = ["done", "failed"]
  /// Every state, in lifecycle order.
  public static let directiveStates = ["pending", "delivered", "received", "running", "done", "failed"]

  /// The run's policy (`manual` for runs registered without one).
  public func policy(run: String) throws -> FineTunePolicy? {
    guard
      let text = try database.query("SELECT finetune_policy FROM runs WHERE name = ?", [.text(run)]).first?.first?
        .string
    else { return nil }
    return FineTunePolicy(rawValue: text) ?? .manual
  }

  /// Sets the run's policy.
  public func setPolicy(run: String, _ policy: FineTunePolicy) throws {
    try database.execute("UPDATE runs SET finetune_policy = ? WHERE name = ?", [.text(policy.rawValue), .text(run)])
  }

  /// Creates a fine-tune directive (state `pending`) and returns it.
  public func createDirective(
    run: String, pair: [Int], classNames: [String], prototypes: [Int], vocabulary: VocabularyBasis, step: Int,
    source: String, thresholds: FineTuneDirective.Thresholds = .init()
  ) throws -> DirectiveRecord {
    try database.transaction(durable: true) {
      let key = "\(run)/\(UUID().uuidString.lowercased())"
      let id =
        try database.query(
          """
          INSERT INTO directives (run, kind, payload, created_at, state, key, pair, prototypes, source, step, updated_at)
          VALUES (?, 'finetune', '{}', ?, 'pending', ?, ?, ?, ?, ?, ?) RETURNING id
          """,
          [
            .text(run), .real(now), .text(key), .text(pair.map(String.init).joined(separator: ",")),
            .text(prototypes.map(String.init).joined(separator: ",")), .text(source), .integer(Int64(step)), .real(now),
          ]
        ).first?.first?.int ?? 0
      let directive = FineTuneDirective(
        id: id, key: key, run: run, pair: pair, classNames: classNames, prototypes: prototypes,
        vocabulary: vocabulary, thresholds: thresholds, step: step, source: source)
      try database.execute(
        "UPDATE directives SET payload = ? WHERE id = ?", [.text(directive.json()), .integer(Int64(id))])
      guard let record = try self.directive(id: id) else {
        throw DaemonError(.internalError, "directive \(id) vanished")
      }
      return record
    }
  }

  /// Whether `pair` of `run` has a directive in flight, or one made within the last
  /// `cooldown` checkpoints (so a flag that persists does not trigger a fine-tune per
  /// checkpoint).
  public func hasRecentDirective(run: String, pair: [Int], cooldown: Int) throws -> Bool {
    let rows = try database.query(
      "SELECT state, step FROM directives WHERE run = ? AND pair = ? AND kind = 'finetune'",
      [.text(run), .text(pair.map(String.init).joined(separator: ","))])
    for row in rows {
      let state = row[0].string ?? ""
      if !Self.terminalStates.contains(state) { return true }
      let since =
        try database.query(
          "SELECT COUNT(*) FROM checkpoints WHERE run = ? AND step > ?", [.text(run), .integer(Int64(row[1].int ?? 0))]
        ).first?.first?.int ?? 0
      if since <= cooldown { return true }
    }
    return false
  }

  /// Directives to put in an ack for `run`: every one not yet reported by the trainer
  /// (`pending` or `delivered`), marked `delivered`. At-least-once: they are resent until the
  /// trainer reports a status; its idempotency key keeps execution at-most-once.
  public func deliverableDirectives(run: String) throws -> [DirectiveRecord] {
    let ids = try database.query(
      "SELECT id FROM directives WHERE run = ? AND state IN ('pending', 'delivered') ORDER BY id", [.text(run)]
    ).compactMap { $0[0].int }
    for id in ids {
      try database.execute(
        """
        UPDATE directives SET state = 'delivered', delivered_at = COALESCE(delivered_at, ?), updated_at = ?
        WHERE id = ?
        """, [.real(now), .real(now), .integer(Int64(id))])
    }
    return try ids.compactMap { try directive(id: $0) }
  }

  /// Records a state change reported by the trainer.
  /// - Returns: `stored`, or `duplicate` when the directive is already in that state or a
  ///   terminal one (a resent status).
  /// - Throws: `DaemonError` for an unknown directive, a wrong key or an unknown state.
  public func recordDirectiveStatus(
    run: String, id: Int, key: String, state: String, reason: String?, metrics: String
  ) throws -> Outcome {
    try database.transaction(durable: true) {
      guard let record = try directive(id: id), record.run == run else {
        throw DaemonError(.unknownRun, "run '\(run)' has no directive \(id); 'i2x directives \(run)' lists them")
      }
      guard record.key == key else {
        throw DaemonError(.conflict, "directive \(id) of run '\(run)' has another idempotency key; status refused")
      }
      guard ["received", "running", "done", "failed"].contains(state) else {
        throw DaemonError(.badData, "directive state '\(state)' is not one of received, running, done, failed")
      }
      if record.state == state || Self.terminalStates.contains(record.state) { return .duplicate }
      try database.execute(
        """
        UPDATE directives SET state = ?, reason = ?, metrics = ?, updated_at = ?,
          acknowledged_at = COALESCE(acknowledged_at, ?) WHERE id = ?
        """,
        [.text(state), reason.map { .text($0) } ?? .null, .text(metrics), .real(now), .real(now), .integer(Int64(id))])
      return .stored
    }
  }

  /// Marks `running` directives without a status for `lease` seconds as `failed:
  /// interrupted` (the trainer died mid-fine-tune; it never re-executes a recorded key).
  /// - Returns: how many were failed.
  @discardableResult
  public func expireDirectives(lease: Double) throws -> Int {
    let stale = try database.query(
      "SELECT id FROM directives WHERE state IN ('received', 'running') AND updated_at < ?", [.real(now - lease)])
    for row in stale {
      try database.execute(
        "UPDATE directives SET state = 'failed', reason = ?, updated_at = ? WHERE id = ?",
        [.text("interrupted: no status from the trainer for \(Int(lease)) s"), .real(now), row[0]])
    }
    return stale.count
  }

  /// A checkpoint from `run` shows its trainer is alive: its `received`/`running` directives'
  /// leases start again.
  public func refreshDirectiveLeases(run: String) throws {
    try database.execute(
      "UPDATE directives SET updated_at = ? WHERE run = ? AND state IN ('received', 'running')",
      [.real(now), .text(run)])
  }

  /// The directive with row id `id`.
  public func directive(id: Int) throws -> DirectiveRecord? {
    try directiveRows("WHERE id = ?", [.integer(Int64(id))]).first
  }

  /// Every directive of `run`, oldest first.
  public func directives(run: String) throws -> [DirectiveRecord] {
    try directiveRows("WHERE run = ? ORDER BY id", [.text(run)])
  }

  private func directiveRows(_ clause: String, _ parameters: [SQLValue]) throws -> [DirectiveRecord] {
    try database.query(
      """
      SELECT id, run, kind, COALESCE(key, ''), COALESCE(pair, ''), COALESCE(prototypes, ''), COALESCE(source, ''),
        COALESCE(step, 0), state, reason, COALESCE(metrics, '{}'), payload, created_at, COALESCE(updated_at, created_at),
        delivered_at
      FROM directives \(clause)
      """, parameters
    ).map { row in
      func integers(_ value: SQLValue) -> [Int] { (value.string ?? "").split(separator: ",").compactMap { Int($0) } }
      return DirectiveRecord(
        id: row[0].int ?? 0, run: row[1].string ?? "", kind: row[2].string ?? "", key: row[3].string ?? "",
        pair: integers(row[4]), prototypes: integers(row[5]), source: row[6].string ?? "", step: row[7].int ?? 0,
        state: row[8].string ?? "", reason: row[9].string, metrics: row[10].string ?? "{}",
        payload: row[11].string ?? "{}", createdAt: row[12].double ?? 0, updatedAt: row[13].double ?? 0,
        deliveredAt: row[14].double)
    }
  }
}

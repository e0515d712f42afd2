import Foundation
import Store

extension DaemonStore {
  /// A job claimed by a worker.
  public struct Job: Equatable, Sendable {
    /// Row id.
    public var id: Int
    /// Kind (`verify`).
    public var kind: String
    /// Run name.
    public var run: String
    /// Checkpoint step.
    public var step: Int
    /// Attempts including this one.
    public var attempts: Int
  }

  /// Attempts before a job is marked failed for good.
  public static let maximumAttempts = 3

  /// Puts jobs left `running` by a crash back in the queue (call at start-up).
  public func requeueInterruptedJobs() throws {
    try database.execute("UPDATE jobs SET state = 'queued', updated_at = ? WHERE state = 'running'", [.real(now)])
  }

  /// Claims the oldest queued job (checkpoint order within a run), marking it running.
  public func claimJob() throws -> Job? {
    try database.transaction {
      guard
        let row = try database.query(
          "SELECT id, kind, run, step, attempts FROM jobs WHERE state = 'queued' ORDER BY id LIMIT 1"
        ).first
      else { return nil }
      let id = row[0].int ?? 0
      try database.execute(
        "UPDATE jobs SET state = 'running', attempts = attempts + 1, updated_at = ? WHERE id = ?",
        [.real(now), .integer(Int64(id))])
      return Job(
        id: id, kind: row[1].string ?? "", run: row[2].string ?? "", step: row[3].int ?? 0,
        attempts: (row[4].int ?? 0) + 1)
    }
  }

  /// Marks a job done and records the checkpoint's parameter count.
  public func finishJob(_ job: Job, parameterCount: Int) throws {
    try database.transaction {
      try database.execute(
        "UPDATE jobs SET state = 'done', error = NULL, updated_at = ? WHERE id = ?",
        [.real(now), .integer(Int64(job.id))])
      try database.execute(
        "UPDATE checkpoints SET parameter_count = ? WHERE run = ? AND step = ?",
        [.integer(Int64(parameterCount)), .text(job.run), .integer(Int64(job.step))])
    }
  }

  /// Records a failure: back to the queue while attempts remain, else failed for good.
  public func failJob(_ job: Job, error: String, retryable: Bool) throws {
    let state = retryable && job.attempts < Self.maximumAttempts ? "queued" : "failed"
    try database.execute(
      "UPDATE jobs SET state = ?, error = ?, updated_at = ? WHERE id = ?",
      [.text(state), .text(error), .real(now), .integer(Int64(job.id))])
  }

  /// The architecture JSON and checkpoint digest a job needs.
  public func jobInputs(_ job: Job) throws -> (architecture: String, sha256: String)? {
    guard
      let row = try database.query(
        "SELECT r.architecture, c.sha256 FROM checkpoints c JOIN runs r ON r.name = c.run WHERE c.run = ? AND c.step = ?",
        [.text(job.run), .integer(Int64(job.step))]
      ).first
    else { return nil }
    return (row[0].string ?? "", row[1].string ?? "")
  }
}

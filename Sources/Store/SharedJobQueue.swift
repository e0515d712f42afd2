import Foundation

/// The job queue that several workers (on several machines) share through one PostgreSQL
/// database (issue 15): claims with `FOR UPDATE SKIP LOCKED`, each under a lease that the
/// worker renews with a heartbeat, and a fencing token that makes a job's result commit at
/// most once.
///
/// - Order: runs take turns (the run served least recently first); within a run, jobs go in
///   the order they were queued, one at a time — a run's job is claimable only when it is the
///   run's oldest unfinished one, so a run's analyses stay serial while several runs proceed
///   at once.
/// - Leases: a claim sets `lease_until` to the server's clock plus the lease; `heartbeat`
///   extends it. A job whose lease ran out (its worker died, hung or was paused) goes back to
///   the queue at the next claim, or fails for good after `maximumAttempts` claims.
/// - Fencing: every claim draws a new token from a sequence. `complete` commits the worker's
///   results and marks the job done in one transaction, and only while the token is still the
///   job's and its lease has not run out; a worker that lost its lease (even one that was
///   stopped and resumed and does not know it) commits nothing.
///
/// Times are the database server's (`clock_timestamp()`), so workers' clocks do not matter.
public struct SharedJobQueue {
  /// The connection (one per worker thread).
  public let database: PostgreSQLDatabase
  /// Claims before a job whose worker keeps losing it is failed for good.
  public var maximumAttempts = 3

  /// A job held by a worker.
  public struct Claim: Equatable, Sendable {
    /// Row id.
    public var id: Int
    /// Kind (`analyze`, `refresh`, …).
    public var kind: String
    /// Run name.
    public var run: String
    /// Checkpoint step.
    public var step: Int
    /// Claims so far, this one included.
    public var attempts: Int
    /// The fencing token of this claim.
    public var fence: Int
  }

  /// Thrown by `complete` and `heartbeat` when the claim is no longer the job's: its lease
  /// ran out (and perhaps another worker holds it now), or it was finished already.
  public struct LostLease: Error, CustomStringConvertible {
    /// The job.
    public var id: Int
    /// The stale token.
    public var fence: Int
    public var description: String {
      "job \(id): lease lost (fencing token \(fence) is no longer current); its result was not committed"
    }
  }

  /// Opens the queue on `database`, creating its table and sequence if missing.
  public init(database: PostgreSQLDatabase) throws {
    self.database = database
    try database.transaction(durable: true) {
      // Two workers starting at once must not both create: serialise on an advisory lock.
      try database.execute("SELECT pg_advisory_xact_lock(7231115)")
      try database.execute("CREATE SEQUENCE IF NOT EXISTS job_fences")
      try database.execute(
        """
        CREATE TABLE IF NOT EXISTS shared_jobs (
          id BIGSERIAL PRIMARY KEY, kind TEXT NOT NULL, run TEXT NOT NULL, step BIGINT NOT NULL,
          state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
          attempts INTEGER NOT NULL DEFAULT 0, error TEXT, worker TEXT, lease_until DOUBLE PRECISION,
          fence BIGINT NOT NULL DEFAULT 0, updated_at DOUBLE PRECISION NOT NULL)
        """)
      try database.execute(
        "CREATE INDEX IF NOT EXISTS shared_jobs_open ON shared_jobs (run, id) WHERE state IN ('queued', 'running')")
    }
  }

  private static let now = "extract(epoch FROM clock_timestamp())"

  /// Queues a job; returns its id.
  @discardableResult
  public func enqueue(kind: String, run: String, step: Int) throws -> Int {
    try database.query(
      "INSERT INTO shared_jobs (kind, run, step, state, updated_at) VALUES (?, ?, ?, 'queued', \(Self.now)) RETURNING id",
      [.text(kind), .text(run), .integer(Int64(step))]
    ).first?.first?.int ?? 0
  }

  /// Claims the next job for `worker` under a lease of `lease` seconds, or nil when no run has
  /// a claimable job. Jobs whose lease ran out are given back (or failed) first.
  public func claim(worker: String, lease: Double) throws -> Claim? {
    try database.transaction(durable: true) {
      try database.execute(
        """
        UPDATE shared_jobs SET state = CASE WHEN attempts >= ? THEN 'failed' ELSE 'queued' END,
          error = CASE WHEN attempts >= ? THEN 'its worker lost the lease ' || attempts || ' times' ELSE error END,
          worker = NULL, lease_until = NULL, updated_at = \(Self.now)
        WHERE state = 'running' AND lease_until < \(Self.now)
        """, [.integer(Int64(maximumAttempts)), .integer(Int64(maximumAttempts))])
      let row = try database.query(
        """
        WITH candidate AS (
          SELECT j.id FROM shared_jobs j
          WHERE j.state = 'queued'
            AND j.id = (SELECT MIN(o.id) FROM shared_jobs o WHERE o.run = j.run AND o.state IN ('queued', 'running'))
          ORDER BY (SELECT COALESCE(MAX(s.updated_at), 0) FROM shared_jobs s
                    WHERE s.run = j.run AND s.state <> 'queued'), j.id
          LIMIT 1 FOR UPDATE SKIP LOCKED)
        UPDATE shared_jobs SET state = 'running', attempts = attempts + 1, worker = ?,
          lease_until = \(Self.now) + ?, fence = nextval('job_fences'), updated_at = \(Self.now)
        FROM candidate WHERE shared_jobs.id = candidate.id
        RETURNING shared_jobs.id, shared_jobs.kind, shared_jobs.run, shared_jobs.step, shared_jobs.attempts,
          shared_jobs.fence
        """, [.text(worker), .real(lease)]
      ).first
      guard let row else { return nil }
      return Claim(
        id: row[0].int ?? 0, kind: row[1].string ?? "", run: row[2].string ?? "", step: row[3].int ?? 0,
        attempts: row[4].int ?? 0, fence: row[5].int ?? 0)
    }
  }

  /// Extends `claim`'s lease to `lease` seconds from now.
  /// - Throws: `LostLease` when the claim is no longer current (the worker should stop the job).
  public func heartbeat(_ claim: Claim, lease: Double) throws {
    let renewed = try database.query(
      """
      UPDATE shared_jobs SET lease_until = \(Self.now) + ?
      WHERE id = ? AND fence = ? AND state = 'running' AND lease_until >= \(Self.now) RETURNING id
      """, [.real(lease), .integer(Int64(claim.id)), .integer(Int64(claim.fence))])
    if renewed.isEmpty { throw LostLease(id: claim.id, fence: claim.fence) }
  }

  /// Commits the job's results (`body`, on the same connection and in the same transaction)
  /// and marks it done, if `claim` still holds it; otherwise rolls back and throws `LostLease`.
  public func complete<T>(_ claim: Claim, _ body: () throws -> T) throws -> T {
    try database.transaction(durable: true) {
      try hold(claim)
      let result = try body()
      try database.execute(
        "UPDATE shared_jobs SET state = 'done', worker = NULL, lease_until = NULL, updated_at = \(Self.now) WHERE id = ?",
        [.integer(Int64(claim.id))])
      return result
    }
  }

  /// Marks the job failed with `error` (a fault of the job itself, not of the worker), if
  /// `claim` still holds it.
  public func fail(_ claim: Claim, error: String) throws {
    try database.transaction(durable: true) {
      try hold(claim)
      try database.execute(
        """
        UPDATE shared_jobs SET state = 'failed', error = ?, worker = NULL, lease_until = NULL, updated_at = \(Self.now)
        WHERE id = ?
        """, [.text(error), .integer(Int64(claim.id))])
    }
  }

  /// Locks the job's row (so an expiry cannot pass it concurrently) and checks that `claim`
  /// is still current.
  private func hold(_ claim: Claim) throws {
    let current = try database.query(
      """
      SELECT id FROM shared_jobs
      WHERE id = ? AND fence = ? AND state = 'running' AND lease_until >= \(Self.now) FOR UPDATE
      """, [.integer(Int64(claim.id)), .integer(Int64(claim.fence))])
    if current.isEmpty { throw LostLease(id: claim.id, fence: claim.fence) }
  }

  /// A job's state, attempts and error (nil for an unknown id).
  public func state(of id: Int) throws -> (state: String, attempts: Int, error: String?)? {
    try database.query("SELECT state, attempts, error FROM shared_jobs WHERE id = ?", [.integer(Int64(id))]).first
      .map { ($0[0].string ?? "", $0[1].int ?? 0, $0[2].string) }
  }
}

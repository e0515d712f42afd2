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
    /// The claim's fencing token.
    public var fence: Int = 0
  }

  /// Attempts before a job is marked failed for good.
  public static let maximumAttempts = 3

  /// A claim that no longer holds its job: its lease ran out (another worker may have it now)
  /// or the job was finished already. Nothing it would record is recorded.
  public struct LostLease: Error, CustomStringConvertible {
    /// The job.
    public var job: Job
    public var description: String {
      "job \(job.id) (run '\(job.run)' step \(job.step)): this worker's lease ran out (fencing token \(job.fence) "
        + "is no longer current); its result is not recorded"
    }
  }

  /// The database's clock in seconds since 1970 (leases use it, so workers' clocks do not matter).
  var clockSQL: String {
    database.dialect == .postgresql ? "i2x_now()" : "((julianday('now') - 2440587.5) * 86400.0)"
  }

  /// Checks, within the caller's transaction, that `job`'s claim is still current (its token
  /// is the job's, it is running, and its lease, if any, has not run out), locking the row on
  /// PostgreSQL so that no expiry passes it before the caller commits.
  /// - Throws: `LostLease` otherwise.
  public func hold(_ job: Job) throws {
    let lock = database.dialect == .postgresql ? " FOR UPDATE" : ""
    let current = try database.query(
      """
      SELECT 1 FROM jobs WHERE id = ? AND fence = ? AND state = 'running'
        AND (lease_until IS NULL OR lease_until >= \(clockSQL))\(lock)
      """, [.integer(Int64(job.id)), .integer(Int64(job.fence))])
    if current.isEmpty { throw LostLease(job: job) }
  }

  /// Runs `body` in one durable transaction that first checks the held job's claim (`hold`),
  /// so that what `body` records commits together, and only while this worker holds the job.
  /// Without a held job (the daemon's own threads), a plain durable transaction.
  public func fenced<T>(_ body: () throws -> T) throws -> T {
    try database.transaction(durable: true) {
      if let heldJob { try hold(heldJob) }
      return try body()
    }
  }

  /// `fenced`, and the held job marked done in the same transaction (with the checkpoint's
  /// parameter count, when given): a job's results and its completion commit together, so a
  /// worker killed after committing them leaves no job to redo (a redo would warm-start its
  /// vocabulary from the one it had just stored, or find a sweep half stored and skip it).
  public func fencedFinishing<T>(parameterCount: Int? = nil, _ body: () throws -> T) throws -> T {
    try fenced {
      let result = try body()
      if let heldJob { try markDone(heldJob, parameterCount: parameterCount) }
      return result
    }
  }

  /// Extends `job`'s lease to `lease` seconds from now.
  /// - Throws: `LostLease` when the claim no longer holds the job.
  public func renewLease(_ job: Job, lease: Double) throws {
    let renewed = try database.query(
      """
      UPDATE jobs SET lease_until = \(clockSQL) + ?
      WHERE id = ? AND fence = ? AND state = 'running' AND (lease_until IS NULL OR lease_until >= \(clockSQL))
      RETURNING id
      """, [.real(lease), .integer(Int64(job.id)), .integer(Int64(job.fence))])
    if renewed.isEmpty { throw LostLease(job: job) }
  }

  /// Puts jobs left `running` by a daemon that died or stopped mid-job back in the queue
  /// (call at start-up). The interruption was the daemon's, not the job's: the analysis runs
  /// in its own process, whose crashes the worker records with `recordCrash`, so the attempt
  /// is given back. A PostgreSQL store is shared: another worker's running jobs are not this
  /// daemon's to requeue, and its own come back when their leases run out (`claimJob`).
  public func requeueInterruptedJobs() throws {
    guard database.dialect == .sqlite else { return }
    try database.execute(
      "UPDATE jobs SET state = 'queued', attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, updated_at = ? WHERE state = 'running'",
      [.real(now)])
  }

  /// Puts back in the queue the jobs a shared store's workers hold under `worker`: a worker
  /// restarted under a stable name takes back what it held before instead of waiting for the
  /// leases to run out. As `requeueInterruptedJobs` does on SQLite, the attempt is given back
  /// (the interruption was the daemon's, not the job's). The next claim draws a new fencing
  /// token, so a process of an old claim records nothing. Returns how many; nothing on SQLite.
  @discardableResult
  public func releaseClaims(worker: String) throws -> Int {
    guard database.dialect == .postgresql else { return 0 }
    return try database.query(
      """
      UPDATE jobs SET state = 'queued', attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END,
        worker = NULL, lease_until = NULL, updated_at = ?
      WHERE worker = ? AND state = 'running' AND lease_until IS NOT NULL RETURNING id
      """, [.real(now), .text(worker)]
    ).count
  }

  /// Claims the next job, marking it running: checkpoint analyses first, then refreshes, then
  /// interventions, then explanations. Runs take turns (the run served least recently goes
  /// first), and within a run jobs go in checkpoint order — a run's oldest queued job is the
  /// only one it offers, so a job postponed by a transient fault (not before its `not_before`
  /// time) holds back its run's later ones, never another run's — and one at a time: no
  /// analysis, refresh or intervention of a run starts while another of the run runs.
  ///
  /// On a PostgreSQL store shared by several workers, rows are claimed with
  /// `FOR UPDATE SKIP LOCKED` under a lease of `lease` seconds (`renewLease` extends it); jobs
  /// whose lease ran out go back to the queue first (failed for good after `maximumAttempts`
  /// claims). Every claim draws a new fencing token (`Job.fence`): results are recorded only
  /// while it is current (`hold`).
  public func claimJob(worker: String = "", lease: Double? = nil) throws -> Job? {
    let shared = database.dialect == .postgresql
    return try database.transaction(durable: shared) {
      try lockQueue()
      if shared { try expireLeases() }
      let lock = shared ? " FOR UPDATE SKIP LOCKED" : ""
      let ready = "j.state = 'queued' AND (j.not_before IS NULL OR j.not_before <= ?)"
      let serial =
        "NOT EXISTS (SELECT 1 FROM jobs r WHERE r.run = j.run AND r.state = 'running' AND r.kind != 'explain')"
      let columns = "j.id, j.kind, j.run, j.step, j.attempts"
      guard
        let row = try database.query(
          """
          SELECT \(columns) FROM jobs j
          WHERE \(ready) AND j.kind = 'analyze' AND \(serial)
            AND j.id = (SELECT MIN(id) FROM jobs q WHERE q.run = j.run AND q.state = 'queued' AND q.kind = 'analyze')
          ORDER BY (SELECT COALESCE(MAX(s.updated_at), 0) FROM jobs s
                    WHERE s.run = j.run AND s.state IN ('running', 'done', 'failed')), j.id
          LIMIT 1\(lock)
          """, [.real(now)]
        ).first
          // Refreshes (full re-analyses) only when no checkpoint is waiting.
          ?? database.query(
            "SELECT \(columns) FROM jobs j WHERE \(ready) AND j.kind = 'refresh' AND \(serial) ORDER BY j.id LIMIT 1\(lock)",
            [.real(now)]
          ).first
          // Interventions (DESIGN §6b): they yield to checkpoints and refreshes.
          ?? database.query(
            "SELECT \(columns) FROM jobs j WHERE \(ready) AND j.kind = 'intervene' AND \(serial) ORDER BY j.id LIMIT 1\(lock)",
            [.real(now)]
          ).first
          // Explanations last: they yield to every checkpoint analysis and refresh.
          ?? database.query(
            "SELECT \(columns) FROM jobs j WHERE \(ready) AND j.kind = 'explain' ORDER BY j.id LIMIT 1\(lock)",
            [.real(now)]
          ).first
      else { return nil }
      let id = row[0].int ?? 0
      let token = shared ? "nextval('job_fences')" : "(SELECT COALESCE(MAX(fence), 0) + 1 FROM jobs)"
      var parameters: [SQLValue] = [.real(now), .text(worker)]
      var until = "NULL"
      if shared, let lease {
        until = "\(clockSQL) + ?"
        parameters.append(.real(lease))
      }
      let fence =
        try database.query(
          """
          UPDATE jobs SET state = 'running', attempts = attempts + 1, updated_at = ?, worker = ?, lease_until = \(until),
            fence = \(token)
          WHERE id = ? RETURNING fence
          """, parameters + [.integer(Int64(id))]
        ).first?.first?.int ?? 0
      return Job(
        id: id, kind: row[1].string ?? "", run: row[2].string ?? "", step: row[3].int ?? 0,
        attempts: (row[4].int ?? 0) + 1, fence: fence)
    }
  }

  /// Within the caller's transaction, waits for the queue's lock on a PostgreSQL store, held
  /// until it ends: claims and the idle workers' own enqueueing take turns, so each sees the
  /// others' committed work (under READ COMMITTED, a claim not yet committed is invisible, and
  /// two workers could otherwise start two jobs of one run, or queue one refresh twice).
  /// Claims are a few milliseconds. SQLite's writers take turns already (BEGIN IMMEDIATE).
  func lockQueue() throws {
    if database.dialect == .postgresql { try database.execute("SELECT pg_advisory_xact_lock(7231116)") }
  }

  /// Gives back (or fails, after `maximumAttempts` claims) every running job whose lease ran
  /// out: its worker died, hung or was paused. A row another session has locked (its worker
  /// recording right now) is skipped, never waited for: a paused worker may hold it.
  func expireLeases() throws {
    try database.execute(
      """
      UPDATE jobs SET state = CASE WHEN attempts >= ? THEN 'failed' ELSE 'queued' END,
        error = 'its worker (' || COALESCE(worker, 'unknown') || ') stopped renewing its lease',
        worker = NULL, lease_until = NULL, updated_at = ?
      WHERE id IN (SELECT id FROM jobs WHERE state = 'running' AND lease_until < \(clockSQL) FOR UPDATE SKIP LOCKED)
      """, [.integer(Int64(Self.maximumAttempts)), .real(now)])
  }

  /// Marks a job done and records the checkpoint's parameter count (when given). A job this
  /// claim already finished with its results (`fencedFinishing`) is left as it is.
  public func finishJob(_ job: Job, parameterCount: Int?) throws {
    try database.transaction {
      let finished = try database.query(
        "SELECT 1 FROM jobs WHERE id = ? AND fence = ? AND state = 'done'",
        [.integer(Int64(job.id)), .integer(Int64(job.fence))])
      if !finished.isEmpty { return }
      try hold(job)
      try markDone(job, parameterCount: parameterCount)
    }
  }

  private func markDone(_ job: Job, parameterCount: Int?) throws {
    try database.execute(
      "UPDATE jobs SET state = 'done', error = NULL, updated_at = ? WHERE id = ?",
      [.real(now), .integer(Int64(job.id))])
    if let parameterCount {
      try database.execute(
        "UPDATE checkpoints SET parameter_count = ? WHERE run = ? AND step = ?",
        [.integer(Int64(parameterCount)), .text(job.run), .integer(Int64(job.step))])
    }
  }

  /// Queues a `refresh` (a full, retrospective re-analysis, which also measures the latest
  /// checkpoint's faithfulness when its analysis skipped it) for every run that is settling
  /// (`settlingRuns`) and quiet: its latest checkpoint came in at least
  /// max(`quiet`, 3 × its last checkpoint interval) seconds ago, at most a minute. A run still
  /// publishing would otherwise be refreshed between every two checkpoints, making the
  /// refresh's cost, which grows with the run, a cost per checkpoint. Called when the worker
  /// is idle, so refreshes never delay a new checkpoint.
  /// - Returns: how many were queued.
  @discardableResult
  public func enqueueRefreshes(quiet: Double = 0) throws -> Int {
    try database.transaction { try queueRefreshes(quiet: quiet) }
  }

  private func queueRefreshes(quiet: Double) throws -> Int {
    try lockQueue()
    var queued = 0
    for (run, step) in try settlingRuns() {
      let received = try database.query(
        "SELECT received_at FROM checkpoints WHERE run = ? ORDER BY step DESC LIMIT 2", [.text(run)]
      ).compactMap { $0[0].double }
      guard let latest = received.first else { continue }
      let interval = received.count > 1 ? max(0, latest - received[1]) : 0
      guard now - latest >= min(60, max(quiet, 3 * interval)) else { continue }
      try database.execute(
        "INSERT INTO jobs (kind, run, step, state, updated_at) VALUES ('refresh', ?, ?, 'queued', ?)",
        [.text(run), .integer(Int64(step)), .real(now)])
      queued += 1
    }
    return queued
  }

  /// Runs whose latest report still waits for its refresh (it is incremental, or its
  /// checkpoint's faithfulness was not measured) with no analysis or refresh queued, and that
  /// report's step.
  public func settlingRuns() throws -> [(run: String, step: Int)] {
    try database.query(
      """
      SELECT a.run, a.step FROM analyses a
      WHERE (a.incremental = 1 OR a.faithfulness_measured = 0)
        AND a.step = (SELECT MAX(step) FROM analyses b WHERE b.run = a.run)
        AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.run = a.run AND j.kind != 'explain' AND j.state IN ('queued', 'running'))
      ORDER BY a.run
      """
    ).map { ($0[0].string ?? "", $0[1].int ?? 0) }
  }

  /// Records a failure: back to the queue while attempts remain, else failed for good.
  public func failJob(_ job: Job, error: String, retryable: Bool) throws {
    let state = retryable && job.attempts < Self.maximumAttempts ? "queued" : "failed"
    try database.transaction {
      try hold(job)
      try database.execute(
        "UPDATE jobs SET state = ?, error = ?, worker = NULL, lease_until = NULL, updated_at = ? WHERE id = ?",
        [.text(state), .text(error), .real(now), .integer(Int64(job.id))])
    }
  }

  /// Puts a job that hit a transient fault (disk full) back in the queue without using up an
  /// attempt; it is not claimed again for `delay` seconds.
  public func postponeJob(_ job: Job, error: String, delay: Double) throws {
    try database.transaction {
      try hold(job)
      try database.execute(
        """
        UPDATE jobs SET state = 'queued', attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, error = ?,
          not_before = ?, worker = NULL, lease_until = NULL, updated_at = ?
        WHERE id = ?
        """, [.text(error), .real(now + delay), .real(now), .integer(Int64(job.id))])
    }
  }

  /// Records that the analysis process died on `job` (a signal, memory exhausted): back to the
  /// queue, or failed for good with `reason` once it has crashed `maximumAttempts` times.
  /// - Returns: whether the job is now failed for good.
  @discardableResult
  public func recordCrash(_ job: Job, reason: String) throws -> Bool {
    try database.transaction {
      try hold(job)
      let previous = try database.query("SELECT crashes FROM jobs WHERE id = ?", [.integer(Int64(job.id))])
      let crashes = (previous.first?.first?.int ?? 0) + 1
      let failed = crashes >= Self.maximumAttempts
      let message =
        failed
        ? "the analysis process crashed on this checkpoint \(crashes) times (last: \(reason)); it is not retried; "
          + "the daemon's log has the details"
        : "the analysis process crashed (\(reason)); retrying"
      try database.execute(
        "UPDATE jobs SET state = ?, crashes = ?, error = ?, worker = NULL, lease_until = NULL, updated_at = ? WHERE id = ?",
        [
          .text(failed ? "failed" : "queued"), .integer(Int64(crashes)), .text(message), .real(now),
          .integer(Int64(job.id)),
        ])
      return failed
    }
  }

  /// The job with row id `id` and its state.
  public func job(id: Int) throws -> (job: Job, state: String)? {
    guard
      let row = try database.query(
        "SELECT id, kind, run, step, attempts, state, fence FROM jobs WHERE id = ?", [.integer(Int64(id))]
      ).first
    else { return nil }
    let job = Job(
      id: row[0].int ?? 0, kind: row[1].string ?? "", run: row[2].string ?? "", step: row[3].int ?? 0,
      attempts: row[4].int ?? 0, fence: row[6].int ?? 0)
    return (job, row[5].string ?? "")
  }

  /// Per run with work waiting: queued jobs, seconds since the oldest was queued, and the
  /// latest stored and latest analysed checkpoint steps (how far analysis lags).
  public func lag() throws -> [(run: String, queued: Int, oldestSeconds: Double, latestStep: Int, analysedStep: Int?)] {
    try database.query(
      """
      SELECT j.run, COUNT(*), MIN(j.updated_at),
        (SELECT MAX(step) FROM checkpoints c WHERE c.run = j.run),
        (SELECT MAX(step) FROM analyses a WHERE a.run = j.run)
      FROM jobs j WHERE j.state IN ('queued', 'running') GROUP BY j.run ORDER BY j.run
      """
    ).map { row in
      (row[0].string ?? "", row[1].int ?? 0, max(0, now - (row[2].double ?? now)), row[3].int ?? 0, row[4].int)
    }
  }

  /// Running jobs with the worker holding each (`host:pid`; empty when the worker gave no
  /// name) and the seconds left on its lease (nil: no lease, the embedded store).
  public func runningJobs() throws -> [(job: Job, worker: String, leaseSeconds: Double?)] {
    try database.query(
      """
      SELECT id, kind, run, step, attempts, fence, COALESCE(worker, ''), lease_until - \(clockSQL) FROM jobs
      WHERE state = 'running' ORDER BY id
      """
    ).map { row in
      (
        Job(
          id: row[0].int ?? 0, kind: row[1].string ?? "", run: row[2].string ?? "", step: row[3].int ?? 0,
          attempts: row[4].int ?? 0, fence: row[5].int ?? 0), row[6].string ?? "", row[7].double
      )
    }
  }

  /// Failed jobs of `run` by step, with their reasons (a failed intervention is not a failed
  /// checkpoint: its reason is in `i2x intervene` and the `interventions` query).
  public func failedJobs(run: String) throws -> [(step: Int, error: String)] {
    try database.query(
      "SELECT step, error FROM jobs WHERE run = ? AND state = 'failed' AND kind != 'intervene' ORDER BY step",
      [.text(run)]
    ).map { ($0[0].int ?? 0, $0[1].string ?? "unknown error") }
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

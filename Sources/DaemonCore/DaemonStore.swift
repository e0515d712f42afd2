import Checkpoints
import Foundation
import Store

/// The daemon's durable state: rows in SQLite (the embedded default) or PostgreSQL (shared
/// by several daemons), plus content-addressed blobs (DESIGN §5). One instance per thread
/// (each owns its connection).
public final class DaemonStore {
  /// The database connection.
  public let database: SQLDatabase
  /// Checkpoint and probe-set files.
  public let blobs: BlobStore
  /// The job whose results this connection records (set by the job's runner): saving its
  /// analysis first checks that the claim still holds the job (`hold`), so a worker that lost
  /// its lease records nothing.
  public var heldJob: Job?

  /// Opens `<directory>/i2x.sqlite` and `<directory>/blobs`, applying migrations.
  public init(directory: URL) throws {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    database = try SQLiteDatabase(path: directory.appendingPathComponent("i2x.sqlite").path)
    blobs = try BlobStore(root: directory.appendingPathComponent("blobs"))
    try Migrations.apply(to: database)
  }

  /// Connects to the PostgreSQL database at `url` (applying migrations) with blobs in
  /// `blobDirectory` (a directory every daemon sharing the database reaches, e.g. on NFS), or
  /// in the database itself when nil. The first daemon to open a database records which;
  /// every later one must agree. A blob directory carries the store's id (`i2x-store-id`,
  /// written while the store holds no run yet), so a daemon whose directory is not the shared
  /// one (an NFS mount missing, a typo) is refused instead of storing blobs nobody else sees.
  /// - Throws: `BlobLocationMismatch` when it does not, `BlobDirectoryMismatch` for a
  ///   directory that is not the store's.
  public init(postgreSQL url: String, blobDirectory: URL?) throws {
    let database = try PostgreSQLDatabase(url: url)
    self.database = database
    blobs = try blobDirectory.map { try BlobStore(root: $0) } ?? BlobStore(database: database)
    try Migrations.apply(to: database)
    let mode = blobDirectory == nil ? "database" : "directory"
    try database.execute(
      "INSERT INTO store_settings (key, value) VALUES ('blobs', ?) ON CONFLICT DO NOTHING", [.text(mode)])
    let recorded = try database.query("SELECT value FROM store_settings WHERE key = 'blobs'").first?.first?.string
    guard recorded == mode else { throw BlobLocationMismatch(recorded: recorded ?? "?", requested: mode) }
    if let blobDirectory { try Self.claim(blobDirectory, for: database) }
  }

  /// Checks that `directory` holds the blobs of the store in `database`, marking it as the
  /// store's when the store has no run yet.
  static func claim(_ directory: URL, for database: PostgreSQLDatabase) throws {
    try database.execute(
      "INSERT INTO store_settings (key, value) VALUES ('store_id', ?) ON CONFLICT DO NOTHING",
      [.text(UUID().uuidString.lowercased())])
    let id = try database.query("SELECT value FROM store_settings WHERE key = 'store_id'").first?.first?.string ?? ""
    let marker = directory.appendingPathComponent(Self.storeIDFile)
    if let found = try? String(contentsOf: marker, encoding: .utf8) {
      guard found.trimmingCharacters(in: .whitespacesAndNewlines) == id else {
        throw BlobDirectoryMismatch(directory: directory, reason: "holds the blobs of another store")
      }
      return
    }
    guard try database.query("SELECT 1 FROM runs LIMIT 1").isEmpty else {
      throw BlobDirectoryMismatch(
        directory: directory,
        reason: "has no \(Self.storeIDFile) although the store has runs: is the shared directory mounted?")
    }
    try AtomicFile.write(Array((id + "\n").utf8), to: marker)
  }

  /// The file in a shared blob directory that names its store.
  static let storeIDFile = "i2x-store-id"

  /// A `--blob-dir` that is not the directory of the store's blobs.
  public struct BlobDirectoryMismatch: Error, CustomStringConvertible, Sendable {
    /// The directory.
    public var directory: URL
    /// What is wrong.
    public var reason: String
    public var description: String {
      "--blob-dir \(directory.path) \(reason); pass the directory the store's other daemons use"
    }
  }

  /// A daemon that would keep blobs elsewhere than the store's other daemons do.
  public struct BlobLocationMismatch: Error, CustomStringConvertible, Sendable {
    /// Where the store keeps its blobs (`database` or `directory`).
    public var recorded: String
    /// Where this daemon was told to.
    public var requested: String
    public var description: String {
      recorded == "database"
        ? "this PostgreSQL store keeps its blobs in the database; start every daemon on it without --blob-dir"
        : "this PostgreSQL store keeps its blobs in a shared directory; start every daemon on it with that --blob-dir"
    }
  }

  /// A registered run.
  public struct Run: Equatable, Sendable {
    /// Name.
    public var name: String
    /// Architecture JSON.
    public var architecture: String
    /// Class names.
    public var classes: [String]
    /// Probe images.
    public var probeCount: Int
    /// Checkpoints stored.
    public var checkpoints: Int
  }

  /// A stored checkpoint.
  public struct StoredCheckpoint: Equatable, Sendable {
    /// Run name.
    public var run: String
    /// Step.
    public var step: Int
    /// Epoch.
    public var epoch: Int
    /// SHA-256 of the file.
    public var sha256: String
    /// File size in bytes.
    public var size: Int
    /// Metrics JSON.
    public var metrics: String
    /// Parameter count recorded by the verification job (nil until it ran).
    public var parameterCount: Int?
    /// State of its verification job.
    public var jobState: String?
    /// Error of a failed job.
    public var jobError: String?
  }

  /// Outcome of storing something.
  public enum Outcome: String, Sendable {
    /// New and now durable.
    case stored
    /// Identical to what is already stored.
    case duplicate
  }

  /// Registers a run (idempotent for identical registrations).
  /// - Throws: `DaemonError.conflict` if the name exists with another architecture or probe set.
  public func registerRun(
    name: String, architecture: String, classes: [String], probe: [UInt8], probeSHA256: String, probeCount: Int
  ) throws -> Outcome {
    if let existing = try database.query("SELECT architecture, probe_sha256 FROM runs WHERE name = ?", [.text(name)])
      .first
    {
      guard existing[0].string == architecture, existing[1].string == probeSHA256 else {
        throw DaemonError(
          .conflict,
          "run '\(name)' is already registered with a different architecture or probe set; choose another --run name")
      }
      return .duplicate
    }
    try blobs.put(probe, sha256: probeSHA256)
    let classesJSON = String(decoding: try JSONEncoder().encode(classes), as: UTF8.self)
    try database.transaction(durable: true) {
      try database.execute(
        "INSERT INTO runs (name, architecture, classes, probe_sha256, probe_count, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        [
          .text(name), .text(architecture), .text(classesJSON), .text(probeSHA256), .integer(Int64(probeCount)),
          .real(now),
        ])
    }
    return .stored
  }

  /// Stores a checkpoint durably (blob fsynced, row and verification job committed with
  /// `synchronous=FULL`) before returning.
  /// - Throws: `DaemonError` for an unknown run or a conflicting re-send.
  public func storeCheckpoint(
    run: String, step: Int, epoch: Int, metrics: String, bytes: [UInt8], sha256: String
  ) throws -> Outcome {
    guard try runExists(run) else {
      throw DaemonError(
        .unknownRun, "run '\(run)' is not registered; the trainer registers it before its first checkpoint")
    }
    if let existing = try database.query(
      "SELECT sha256 FROM checkpoints WHERE run = ? AND step = ?", [.text(run), .integer(Int64(step))]
    ).first {
      guard existing[0].string == sha256 else {
        throw DaemonError(
          .conflict, "run '\(run)' step \(step) is already stored with another sha256; checkpoints are immutable")
      }
      return .duplicate
    }
    try blobs.put(bytes, sha256: sha256)
    try database.transaction(durable: true) {
      try database.execute(
        "INSERT INTO checkpoints (run, step, epoch, sha256, size, metrics, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
          .text(run), .integer(Int64(step)), .integer(Int64(epoch)), .text(sha256), .integer(Int64(bytes.count)),
          .text(metrics), .real(now),
        ])
      try database.execute(
        "INSERT INTO jobs (kind, run, step, state, updated_at) VALUES ('analyze', ?, ?, 'queued', ?)",
        [.text(run), .integer(Int64(step)), .real(now)])
    }
    return .stored
  }

  /// The architecture JSON `run` registered, or nil for an unknown run.
  public func architecture(run: String) throws -> String? {
    try database.query("SELECT architecture FROM runs WHERE name = ?", [.text(run)]).first?.first?.string
  }

  /// Whether `run` is registered.
  public func runExists(_ run: String) throws -> Bool {
    !(try database.query("SELECT 1 FROM runs WHERE name = ?", [.text(run)]).isEmpty)
  }

  /// Every run with its checkpoint count.
  public func runs() throws -> [Run] {
    try database.query(
      """
      SELECT r.name, r.architecture, r.classes, r.probe_count, (SELECT COUNT(*) FROM checkpoints c WHERE c.run = r.name)
      FROM runs r ORDER BY r.created_at, r.name
      """
    ).map { row in
      Run(
        name: row[0].string ?? "", architecture: row[1].string ?? "",
        classes: (try? JSONDecoder().decode([String].self, from: Data((row[2].string ?? "[]").utf8))) ?? [],
        probeCount: row[3].int ?? 0, checkpoints: row[4].int ?? 0)
    }
  }

  /// Checkpoints of `run` by step, with their verification state.
  public func checkpoints(run: String) throws -> [StoredCheckpoint] {
    try database.query(
      """
      SELECT c.run, c.step, c.epoch, c.sha256, c.size, c.metrics, c.parameter_count,
             (SELECT state FROM jobs j WHERE j.run = c.run AND j.step = c.step AND j.kind = 'analyze'
              ORDER BY id DESC LIMIT 1),
             (SELECT error FROM jobs j WHERE j.run = c.run AND j.step = c.step AND j.kind = 'analyze'
              ORDER BY id DESC LIMIT 1)
      FROM checkpoints c WHERE c.run = ? ORDER BY c.step
      """, [.text(run)]
    ).map { row in
      StoredCheckpoint(
        run: row[0].string ?? "", step: row[1].int ?? 0, epoch: row[2].int ?? 0, sha256: row[3].string ?? "",
        size: row[4].int ?? 0, metrics: row[5].string ?? "{}", parameterCount: row[6].int, jobState: row[7].string,
        jobError: row[8].string)
    }
  }

  /// Jobs by state.
  public func jobCounts() throws -> [String: Int] {
    var counts = ["queued": 0, "running": 0, "done": 0, "failed": 0]
    for row in try database.query("SELECT state, COUNT(*) FROM jobs GROUP BY state") {
      if let state = row[0].string { counts[state] = row[1].int ?? 0 }
    }
    return counts
  }

  var now: Double { Date().timeIntervalSince1970 }
}

import Checkpoints
import Foundation
import Store

/// `i2xd migrate`: copies an embedded store (a data directory) into an empty PostgreSQL store,
/// so a team that outgrows one machine keeps its history. Every table's rows (ids kept, so
/// references between tables and the clients' cursors stay valid) in one PostgreSQL
/// transaction, the sequences moved past the copied ids, and every blob copied to the blob
/// directory or into the database. Verified before the commit: each blob's bytes hash to its name, and each table
/// reads back from PostgreSQL with the same SHA-256 over its rows as from SQLite.
public enum StoreMigration {
  /// Tables in the order their references need; `events` last (the copy's own inserts fire
  /// the event triggers, whose rows are replaced by the copied log).
  static let tables: [(name: String, key: String)] = [
    ("runs", "name"), ("checkpoints", "run, step"), ("jobs", "id"), ("directives", "id"), ("observations", "run, step"),
    ("vocabularies", "id"), ("analyses", "run, step"), ("interventions", "id"), ("explanations", "id"),
    ("events", "id"),
  ]

  /// What was copied.
  public struct Summary: Sendable {
    /// Rows per table.
    public var rows: [String: Int] = [:]
    /// Blob files and their bytes.
    public var blobs = 0
    public var blobBytes = 0
    /// SHA-256 over every table's rows (the same on both sides).
    public var digests: [String: String] = [:]
  }

  /// A migration that cannot be done; exit 65 (the target is not empty, a blob is damaged, a
  /// table differs after the copy).
  public struct Refused: Error, CustomStringConvertible, Sendable {
    public var description: String
  }

  /// Copies the store in `directory` into the PostgreSQL database at `url` with blobs in
  /// `blobDirectory` (nil: in the database); `log` hears the progress.
  public static func run(from directory: URL, to url: String, blobDirectory: URL?, log: (String) -> Void) throws
    -> Summary
  {
    guard FileManager.default.fileExists(atPath: directory.appendingPathComponent("i2x.sqlite").path) else {
      throw Refused(description: "\(directory.path) holds no i2x store (no i2x.sqlite); pass the daemon's --data-dir")
    }
    let source = try DaemonStore(directory: directory)
    let target = try DaemonStore(postgreSQL: url, blobDirectory: blobDirectory)
    guard try target.database.query("SELECT 1 FROM runs LIMIT 1").isEmpty else {
      throw Refused(description: "the PostgreSQL store already has runs; migrate into an empty database")
    }
    var summary = Summary()
    // Blobs first (content-addressed: extra files are harmless if the rows do not commit).
    guard let root = source.blobs.root else { throw Refused(description: "the source store keeps no blob files") }
    let files = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)
    while let file = files?.nextObject() as? URL {
      let name = file.lastPathComponent
      guard name.count == 64, name.allSatisfy(\.isHexDigit) else { continue }
      let bytes = [UInt8](try Data(contentsOf: file))
      guard SHA256.hex(bytes) == name else {
        throw Refused(description: "blob \(file.path) does not hash to its name: the source store is damaged")
      }
      try target.blobs.put(bytes, sha256: name)
      guard SHA256.hex(try target.blobs.get(name)) == name else {
        throw Refused(description: "blob \(name) reads back differently from \(blobDirectory?.path ?? "the database")")
      }
      summary.blobs += 1
      summary.blobBytes += bytes.count
    }
    log("copied \(summary.blobs) blobs (\(summary.blobBytes) bytes), each verified by SHA-256")
    try target.database.transaction(durable: true) {
      for (table, key) in tables {
        let columns = try source.database.query("SELECT name FROM pragma_table_info(?) ORDER BY cid", [.text(table)])
          .compactMap { $0.first?.string }
        if table == "events" { try target.database.execute("DELETE FROM events") }
        let list = columns.joined(separator: ", ")
        let marks = Array(repeating: "?", count: columns.count).joined(separator: ", ")
        let rows = try source.database.query("SELECT \(list) FROM \(table) ORDER BY \(key)")
        for row in rows {
          try target.database.execute("INSERT INTO \(table) (\(list)) VALUES (\(marks))", row)
        }
        if columns.contains("id") {
          try target.database.execute(
            "SELECT setval(pg_get_serial_sequence('\(table)', 'id'), GREATEST(COALESCE(MAX(id), 0), 1)) FROM \(table)")
        }
        let copied = try digest(target.database, table, list, key)
        let original = try digest(source.database, table, list, key)
        guard copied == original else {
          throw Refused(description: "table \(table) reads back differently from PostgreSQL; nothing was committed")
        }
        summary.rows[table] = rows.count
        summary.digests[table] = original
        log("copied \(rows.count) rows of \(table) (sha256 \(original.prefix(16))…)")
      }
      try target.database.execute(
        "SELECT setval('job_fences', GREATEST(COALESCE(MAX(fence), 0), 1)) FROM jobs")
      // Jobs the embedded daemon left running (it was killed) go back to the queue with the
      // attempt given back, as that daemon would do at its next start: on PostgreSQL, a
      // running job without a lease would hold its run back for good.
      let requeued = try target.database.query(
        """
        UPDATE jobs SET state = 'queued', attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END,
          worker = NULL, lease_until = NULL
        WHERE state = 'running' RETURNING id
        """
      ).count
      if requeued > 0 { log("queued again \(requeued) job(s) the embedded daemon left running") }
    }
    return summary
  }

  /// SHA-256 over a table's rows in key order, each value in a spelling both backends share.
  static func digest(_ database: SQLDatabase, _ table: String, _ columns: String, _ key: String) throws -> String {
    var text = ""
    for row in try database.query("SELECT \(columns) FROM \(table) ORDER BY \(key)") {
      for value in row {
        switch value {
        case .null: text += "n;"
        case .integer(let v): text += "i\(v);"
        case .real(let v): text += "r\(v.bitPattern);"
        case .text(let v): text += "t\(v.utf8.count):\(v);"
        case .blob(let v): text += "b\(SHA256.hex(v));"
        }
      }
      text += "\n"
    }
    return SHA256.hex(Array(text.utf8))
  }
}

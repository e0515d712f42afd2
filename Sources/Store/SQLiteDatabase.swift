import CSQLite
import Foundation

/// A value bound to or read from SQLite.
public enum SQLValue: Equatable, Sendable {
  /// NULL.
  case null
  /// INTEGER.
  case integer(Int64)
  /// REAL.
  case real(Double)
  /// TEXT.
  case text(String)
  /// BLOB.
  case blob([UInt8])

  /// The integer, if this is one.
  public var int: Int? { if case .integer(let v) = self { return Int(v) } else { return nil } }
  /// The text, if this is text.
  public var string: String? { if case .text(let v) = self { return v } else { return nil } }
  /// The number as a Double (INTEGER or REAL).
  public var double: Double? {
    switch self {
    case .real(let v): return v
    case .integer(let v): return Double(v)
    default: return nil
    }
  }
}

/// A failed SQLite call, with SQLite's message.
public struct SQLiteError: Error, CustomStringConvertible {
  /// SQLite result code.
  public var code: Int32
  /// What failed.
  public var message: String
  public var description: String { "sqlite error \(code): \(message)" }

  /// Whether the failure is the disk or database being full (`SQLITE_FULL`), which passes
  /// once space is freed, so work that hit it is retried rather than failed.
  public var isDiskFull: Bool { code & 0xFF == SQLITE_FULL }

  /// Whether the failure passes without anyone fixing the data: full, an I/O error, busy or
  /// locked.
  public var isTransient: Bool { [SQLITE_FULL, SQLITE_IOERR, SQLITE_BUSY, SQLITE_LOCKED].contains(code & 0xFF) }
}

/// One SQLite connection, used by one thread at a time. WAL mode, a busy timeout, bound
/// parameters only (statements never interpolate values), closure-scoped transactions.
public final class SQLiteDatabase {
  private var handle: OpaquePointer?
  /// Transactions open on this connection (nested ones join the outermost).
  private var depth = 0
  /// Path of the database file.
  public let path: String

  /// Opens (creating if needed) the database at `path` in WAL mode with `busy_timeout`.
  public init(path: String, busyTimeoutMilliseconds: Int32 = 10_000) throws {
    self.path = path
    var db: OpaquePointer?
    let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
    guard sqlite3_open_v2(path, &db, flags, nil) == SQLITE_OK, let db else {
      let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
      sqlite3_close(db)
      throw SQLiteError(code: SQLITE_CANTOPEN, message: "\(path): \(message)")
    }
    handle = db
    sqlite3_busy_timeout(db, busyTimeoutMilliseconds)
    _ = try query("PRAGMA journal_mode=WAL")
    try execute("PRAGMA synchronous=NORMAL")
    try execute("PRAGMA foreign_keys=ON")
  }

  deinit { sqlite3_close_v2(handle) }

  /// Runs a statement with bound parameters, discarding rows.
  public func execute(_ sql: String, _ parameters: [SQLValue] = []) throws {
    _ = try query(sql, parameters)
  }

  /// Runs a statement with bound parameters and returns every row.
  public func query(_ sql: String, _ parameters: [SQLValue] = []) throws -> [[SQLValue]] {
    var statement: OpaquePointer?
    guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK else { throw error(sql) }
    defer { sqlite3_finalize(statement) }
    for (index, value) in parameters.enumerated() {
      let position = Int32(index + 1)
      let status: Int32
      switch value {
      case .null: status = sqlite3_bind_null(statement, position)
      case .integer(let v): status = sqlite3_bind_int64(statement, position, v)
      case .real(let v): status = sqlite3_bind_double(statement, position, v)
      case .text(let v):
        // Bound with its byte length, so an embedded NUL cannot truncate the value.
        let count = Int32(clamping: v.utf8.count)
        status = v.withCString { sqlite3_bind_text(statement, position, $0, count, i2x_sqlite_transient()) }
      case .blob(let v):
        status = v.withUnsafeBytes {
          sqlite3_bind_blob(statement, position, $0.baseAddress, Int32($0.count), i2x_sqlite_transient())
        }
      }
      guard status == SQLITE_OK else { throw error(sql) }
    }
    var rows: [[SQLValue]] = []
    while true {
      let status = sqlite3_step(statement)
      if status == SQLITE_DONE { break }
      guard status == SQLITE_ROW else { throw error(sql) }
      rows.append((0..<sqlite3_column_count(statement)).map { column(statement, $0) })
    }
    return rows
  }

  /// Runs `body` in a transaction (BEGIN IMMEDIATE … COMMIT), rolling back if it throws.
  /// Nested calls join the outer transaction (whose durability applies), as on PostgreSQL.
  /// - Parameter durable: `synchronous=FULL` for this transaction (the commit is on disk
  ///   when this returns), as required before an ack.
  public func transaction<T>(durable: Bool = false, _ body: () throws -> T) throws -> T {
    if depth > 0 { return try body() }
    if durable { try execute("PRAGMA synchronous=FULL") }
    defer { if durable { try? execute("PRAGMA synchronous=NORMAL") } }
    try execute("BEGIN IMMEDIATE")
    depth += 1
    defer { depth -= 1 }
    do {
      let result = try body()
      try execute("COMMIT")
      return result
    } catch {
      try? execute("ROLLBACK")
      throw error
    }
  }

  /// Row id of the last insert on this connection.
  public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

  private func column(_ statement: OpaquePointer?, _ index: Int32) -> SQLValue {
    switch sqlite3_column_type(statement, index) {
    case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, index))
    case SQLITE_FLOAT: return .real(sqlite3_column_double(statement, index))
    case SQLITE_TEXT:
      let count = Int(sqlite3_column_bytes(statement, index))
      guard count > 0, let base = sqlite3_column_text(statement, index) else { return .text("") }
      return .text(String(decoding: UnsafeBufferPointer(start: base, count: count), as: UTF8.self))
    case SQLITE_BLOB:
      let count = Int(sqlite3_column_bytes(statement, index))
      guard count > 0, let base = sqlite3_column_blob(statement, index) else { return .blob([]) }
      return .blob([UInt8](UnsafeRawBufferPointer(start: base, count: count)))
    default: return .null
    }
  }

  private func error(_ sql: String) -> SQLiteError {
    SQLiteError(
      code: sqlite3_errcode(handle), message: "\(String(cString: sqlite3_errmsg(handle))) in: \(sql.prefix(120))")
  }
}

/// What the stores need of a SQL connection, whichever the backend: SQLite (the embedded
/// default, `SQLiteDatabase`) or PostgreSQL (`PostgreSQLDatabase`, for daemons sharing one
/// store). Statements write `?` for every parameter and bind values only (nothing is ever
/// interpolated into SQL); one connection serves one thread at a time.
public protocol SQLDatabase: AnyObject {
  /// Which SQL the connection speaks, for the few statements the two spell differently
  /// (DDL types, JSON access, triggers); everything else is written once for both.
  var dialect: SQLDialect { get }
  /// Runs a statement with bound parameters and returns every row.
  func query(_ sql: String, _ parameters: [SQLValue]) throws -> [[SQLValue]]
  /// Runs a statement with bound parameters, discarding rows.
  func execute(_ sql: String, _ parameters: [SQLValue]) throws
  /// Runs `body` in a transaction, rolling back if it throws; `durable`: committed to disk
  /// when this returns.
  func transaction<T>(durable: Bool, _ body: () throws -> T) throws -> T
}

extension SQLDatabase {
  /// Runs a statement without parameters and returns every row.
  public func query(_ sql: String) throws -> [[SQLValue]] { try query(sql, []) }
  /// Runs a statement without parameters, discarding rows.
  public func execute(_ sql: String) throws { try execute(sql, []) }
  /// Runs `body` in a transaction that may commit without waiting for the disk.
  public func transaction<T>(_ body: () throws -> T) throws -> T { try transaction(durable: false, body) }
}

/// The SQL spoken by a `SQLDatabase`.
public enum SQLDialect: Sendable {
  /// SQLite 3.40 (Debian 12): `ON CONFLICT … DO UPDATE`, `RETURNING`, `IS NOT DISTINCT FROM`.
  case sqlite
  /// PostgreSQL 15.
  case postgresql

  /// `column`'s JSON text's field `key` as SQL text or number (NULL when absent or JSON null):
  /// a string's value unquoted, an array or object as JSON text.
  public func jsonField(_ column: String, _ key: String) -> String {
    switch self {
    case .sqlite: return "json_extract(\(column), '$.\(key)')"
    case .postgresql: return "(\(column)::jsonb ->> '\(key)')"
    }
  }
}

extension SQLiteDatabase: SQLDatabase {
  public var dialect: SQLDialect { .sqlite }
}

/// A database error that can say whether it passes without anyone fixing the data (a full
/// disk, a lost connection, a serialization failure), so work that hit it is retried.
public protocol TransientClassifying: Error {
  /// Whether retrying later may succeed.
  var isTransient: Bool { get }
}

extension SQLiteError: TransientClassifying {}

/// What the stores need of a SQL connection, whichever the backend: SQLite (the embedded
/// default, `SQLiteDatabase`) or PostgreSQL (`PostgreSQLDatabase`, for daemons sharing one
/// store). Statements write `?` for every parameter and bind values only (nothing is ever
/// interpolated into SQL); one connection serves one thread at a time.
public protocol SQLDatabase: AnyObject {
  /// Runs a statement with bound parameters and returns every row.
  func query(_ sql: String, _ parameters: [SQLValue]) throws -> [[SQLValue]]
  /// Runs a statement with bound parameters, discarding rows.
  func execute(_ sql: String, _ parameters: [SQLValue]) throws
  /// Runs `body` in a transaction, rolling back if it throws; `durable`: committed to disk
  /// when this returns.
  func transaction<T>(durable: Bool, _ body: () throws -> T) throws -> T
}

extension SQLiteDatabase: SQLDatabase {}

/// A database error that can say whether it passes without anyone fixing the data (a full
/// disk, a lost connection, a serialization failure), so work that hit it is retried.
public protocol TransientClassifying: Error {
  /// Whether retrying later may succeed.
  var isTransient: Bool { get }
}

extension SQLiteError: TransientClassifying {}

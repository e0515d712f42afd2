import CPostgreSQL
import Foundation

/// A failed PostgreSQL call: the server's SQLSTATE and message (or libpq's, for a connection
/// that could not be made or was lost: SQLSTATE class 08).
public struct PostgreSQLError: Error, CustomStringConvertible, TransientClassifying {
  /// The five-character SQLSTATE (`08006` when the connection itself failed).
  public var sqlState: String
  /// What failed.
  public var message: String
  public var description: String { "postgresql error \(sqlState): \(message)" }

  /// Whether retrying later may succeed: a lost or refused connection (class 08), a
  /// serialization failure or deadlock (40001, 40P01), insufficient resources such as a full
  /// disk (class 53), or the server shutting down or starting (57P01–57P03).
  public var isTransient: Bool {
    sqlState.hasPrefix("08") || sqlState.hasPrefix("53")
      || ["40001", "40P01", "57P01", "57P02", "57P03"].contains(sqlState)
  }

  /// A value PostgreSQL cannot hold or take (class 22, data exception: text with a NUL
  /// character, a number out of range): the value's fault, not worth a retry.
  public var isDataException: Bool { sqlState.hasPrefix("22") }

  /// A unique or exclusion constraint refused the row (23505).
  public var isUniqueViolation: Bool { sqlState == "23505" }
}

/// One PostgreSQL connection through libpq, used by one thread at a time, with the same
/// surface as `SQLiteDatabase`: `?` parameters (rewritten to `$1`, `$2`, … outside quotes and
/// comments), bound values only, closure-scoped transactions. Integers bind as `bigint`,
/// reals as `double precision`, text as `text`, blobs as `bytea` (sent in binary). Results come
/// back as `SQLValue`s by column type: integer types and booleans as `.integer`, floating and
/// numeric types as `.real`, `bytea` as `.blob`, everything else as `.text`.
/// A lost connection is re-established once at the next statement (libpq's `PQreset`); a
/// statement that fails because of it throws a transient `PostgreSQLError`.
public final class PostgreSQLDatabase: SQLDatabase {
  private var connection: OpaquePointer?
  /// The connection URL or keyword string, as given.
  public let url: String
  private var depth = 0
  public var dialect: SQLDialect { .postgresql }

  /// Connects to `url` (`postgresql://user@host:port/database?…` or libpq keywords).
  public init(url: String) throws {
    self.url = url
    let connection = PQconnectdb(url)
    guard let connection, PQstatus(connection) == CONNECTION_OK else {
      let message = connection.map { Self.text(PQerrorMessage($0)) } ?? "out of memory"
      PQfinish(connection)
      throw PostgreSQLError(sqlState: "08001", message: "cannot connect to \(Self.redacted(url)): \(message)")
    }
    self.connection = connection
    // Notices (e.g. "relation already exists, skipping") are not errors: not printed.
    PQsetNoticeProcessor(connection, { _, _ in }, nil)
    try execute(Self.sessionSettings)
  }

  deinit { PQfinish(connection) }

  /// Every session's settings: a process paused inside a transaction (SIGSTOP, a hung disk)
  /// must not hold its row locks for ever, so the server ends such a session after a minute.
  static let sessionSettings = "SET idle_in_transaction_session_timeout = '60s'"

  public func execute(_ sql: String, _ parameters: [SQLValue] = []) throws {
    _ = try query(sql, parameters)
  }

  public func query(_ sql: String, _ parameters: [SQLValue] = []) throws -> [[SQLValue]] {
    if PQstatus(connection) != CONNECTION_OK {
      PQreset(connection)
      guard PQstatus(connection) == CONNECTION_OK else {
        throw PostgreSQLError(sqlState: "08006", message: "connection lost: \(Self.text(PQerrorMessage(connection)))")
      }
      // A new session: its settings again.
      _ = try query(Self.sessionSettings, [])
    }
    let text = Self.numberedParameters(sql)
    var types: [Oid] = []
    var formats: [Int32] = []
    var lengths: [Int32] = []
    var buffers: [[UInt8]?] = []
    for value in parameters {
      switch value {
      case .null:
        (types, formats, lengths, buffers) = (types + [0], formats + [0], lengths + [0], buffers + [nil])
        continue
      case .integer(let v):
        buffers.append(Array("\(v)".utf8) + [0])
        types.append(20)
      case .real(let v):
        // Shortest round-tripping text; PostgreSQL reads infinities and NaN by name.
        let spelled = v.isNaN ? "NaN" : v.isInfinite ? (v > 0 ? "Infinity" : "-Infinity") : "\(v)"
        buffers.append(Array(spelled.utf8) + [0])
        types.append(701)
      case .text(let v):
        // Sent as a C string: an embedded NUL would silently cut it, and PostgreSQL text
        // cannot hold one anyway.
        guard !v.utf8.contains(0) else {
          throw PostgreSQLError(
            sqlState: "22021",
            message: "text with a NUL character, which PostgreSQL cannot hold (parameter \(buffers.count + 1) of: "
              + "\(sql.prefix(120)))"
          )
        }
        buffers.append(Array(v.utf8) + [0])
        types.append(25)
      case .blob(let v):
        buffers.append(v)
        types.append(17)
        formats.append(1)
        lengths.append(Int32(clamping: v.count))
        continue
      }
      formats.append(0)
      lengths.append(0)
    }
    let result = Self.withPointers(buffers) { values in
      PQexecParams(connection, text, Int32(parameters.count), types, values, lengths, formats, 0)
    }
    defer { PQclear(result) }
    let status = PQresultStatus(result)
    guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else { throw error(result, sql) }
    let (rows, columns) = (PQntuples(result), PQnfields(result))
    return (0..<rows).map { row in (0..<columns).map { column in Self.value(result, row, column) } }
  }

  /// Runs `body` in a transaction (BEGIN … COMMIT), rolling back if it throws. Nested calls
  /// join the outer transaction. `durable: false` lets this one commit without waiting for the
  /// WAL flush (`synchronous_commit = off`: a crash may lose it, never corrupt).
  public func transaction<T>(durable: Bool = true, _ body: () throws -> T) throws -> T {
    if depth > 0 { return try body() }
    try execute("BEGIN")
    depth += 1
    defer { depth -= 1 }
    do {
      if !durable { try execute("SET LOCAL synchronous_commit = off") }
      let result = try body()
      try execute("COMMIT")
      return result
    } catch {
      try? execute("ROLLBACK")
      throw error
    }
  }

  /// `sql` with each `?` outside quotes, quoted identifiers and comments numbered `$1`, `$2`, ….
  public static func numberedParameters(_ sql: String) -> String {
    var out = ""
    var number = 0
    var quote: Character?
    var lineComment = false
    var previous: Character = " "
    for character in sql {
      if lineComment {
        if character == "\n" { lineComment = false }
      } else if let open = quote {
        if character == open { quote = nil }  // a doubled quote reopens at the next character
      } else if character == "'" || character == "\"" {
        quote = character
      } else if character == "-" && previous == "-" {
        lineComment = true
      } else if character == "?" {
        number += 1
        out += "$\(number)"
        previous = character
        continue
      }
      out.append(character)
      previous = character
    }
    return out
  }

  /// `url` without its password, for messages.
  public static func redacted(_ url: String) -> String {
    // A password keyword or query parameter (`password=…`, up to the next space or `&`).
    let text = url.replacingOccurrences(
      of: #"password\s*=\s*[^\s&]+"#, with: "password=…", options: [.regularExpression, .caseInsensitive])
    guard let at = text.firstIndex(of: "@"), let scheme = text.range(of: "://"), scheme.upperBound < at else {
      return text
    }
    let credentials = text[scheme.upperBound..<at]
    guard let colon = credentials.firstIndex(of: ":") else { return text }
    return String(text[..<colon]) + ":…" + String(text[at...])
  }

  private static func withPointers<R>(
    _ buffers: [[UInt8]?], _ body: ([UnsafePointer<CChar>?]) -> R
  ) -> R {
    var pointers: [UnsafePointer<CChar>?] = []
    var owned: [UnsafeMutablePointer<UInt8>] = []
    defer {
      for copy in owned { copy.deallocate() }
    }
    for buffer in buffers {
      guard let buffer else {
        pointers.append(nil)
        continue
      }
      let copy = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, buffer.count))
      copy.initialize(from: buffer, count: buffer.count)
      owned.append(copy)
      pointers.append(UnsafeRawPointer(copy).assumingMemoryBound(to: CChar.self))
    }
    return body(pointers)
  }

  private static func value(_ result: OpaquePointer?, _ row: Int32, _ column: Int32) -> SQLValue {
    if PQgetisnull(result, row, column) != 0 { return .null }
    let length = Int(PQgetlength(result, row, column))
    guard let base = PQgetvalue(result, row, column) else { return .null }
    let text = String(decoding: UnsafeRawBufferPointer(start: base, count: length), as: UTF8.self)
    switch PQftype(result, column) {
    case 20, 21, 23, 26: return Int64(text).map(SQLValue.integer) ?? .text(text)  // int8, int2, int4, oid
    case 16: return .integer(text == "t" ? 1 : 0)  // bool
    // numeric (what SUM of bigint gives) as an integer when it is one, as SQLite would.
    case 1700: return Int64(text).map(SQLValue.integer) ?? Double(text).map(SQLValue.real) ?? .text(text)
    case 700, 701: return Double(text).map(SQLValue.real) ?? .text(text)  // float4, float8
    case 17:  // bytea, in the text result format: \x and hex digits
      var count = 0
      guard let decoded = PQunescapeBytea(UnsafeRawPointer(base).assumingMemoryBound(to: UInt8.self), &count) else {
        return .null
      }
      defer { PQfreemem(decoded) }
      return .blob([UInt8](UnsafeBufferPointer(start: decoded, count: count)))
    default: return .text(text)
    }
  }

  private func error(_ result: OpaquePointer?, _ sql: String) -> PostgreSQLError {
    let state = result.flatMap { PQresultErrorField($0, Int32(UInt8(ascii: "C"))) }.map { String(cString: $0) }
    let message = result.map { Self.text(PQresultErrorMessage($0)) } ?? Self.text(PQerrorMessage(connection))
    let lost = PQstatus(connection) != CONNECTION_OK
    return PostgreSQLError(
      sqlState: state ?? (lost ? "08006" : "XX000"),
      message: "\(message.trimmingCharacters(in: .whitespacesAndNewlines)) in: \(sql.prefix(120))")
  }

  private static func text(_ pointer: UnsafePointer<CChar>?) -> String {
    pointer.map { String(cString: $0) } ?? ""
  }
}

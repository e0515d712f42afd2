import Foundation
import PostgreSQLTestSupport
import Store
import Testing

/// `PostgreSQLDatabase` against a real server (`PostgreSQLServer`): values round-trip through
/// bound parameters, `?` is a parameter only outside quotes and comments, transactions roll
/// back, and errors carry SQLSTATE and say whether they are transient.
@Suite struct PostgreSQLDatabaseTests {
  func database() throws -> PostgreSQLDatabase {
    try PostgreSQLDatabase(url: try PostgreSQLServer.freshDatabase())
  }

  @Test func valuesRoundTripThroughBoundParameters() throws {
    let db = try database()
    try db.execute("CREATE TABLE t (i BIGINT, r DOUBLE PRECISION, s TEXT, b BYTEA, n TEXT)")
    let bytes = (0...255).map { UInt8($0) } + [0, 0, 92, 120]
    let text = "caf\u{E9} 'quoted' ? $1 \\ \u{1F600}; DROP TABLE t; --"
    try db.execute(
      "INSERT INTO t VALUES (?, ?, ?, ?, ?)",
      [.integer(Int64.min), .real(-1.0e-300), .text(text), .blob(bytes), .null])
    try db.execute(
      "INSERT INTO t VALUES (?, ?, ?, ?, ?)", [.integer(Int64.max), .real(.infinity), .text(""), .blob([]), .null])
    let rows = try db.query("SELECT i, r, s, b, n FROM t ORDER BY i")
    #expect(rows.count == 2)
    #expect(rows[0] == [.integer(Int64.min), .real(-1.0e-300), .text(text), .blob(bytes), .null])
    #expect(rows[1] == [.integer(Int64.max), .real(.infinity), .text(""), .blob([]), .null])
    // Shortest round-tripping text keeps every bit of a double.
    let third = 1.0 / 3.0
    #expect(try db.query("SELECT ?::double precision", [.real(third)]).first?.first == .real(third))
    #expect(try db.query("SELECT 1 = 1, 2::smallint, 3::integer").first == [.integer(1), .integer(2), .integer(3)])
  }

  @Test func questionMarksInsideQuotesAndCommentsAreNotParameters() throws {
    #expect(
      PostgreSQLDatabase.numberedParameters("SELECT ?, '?', \"a?\", ? -- ?\n, ?")
        == "SELECT $1, '?', \"a?\", $2 -- ?\n, $3")
    #expect(PostgreSQLDatabase.numberedParameters("SELECT 'it''s ?', ?") == "SELECT 'it''s ?', $1")
    let db = try database()
    #expect(try db.query("SELECT '?' || ?", [.text("x")]).first?.first == .text("?x"))
  }

  @Test func aTransactionThatThrowsLeavesNothing() throws {
    let db = try database()
    try db.execute("CREATE TABLE t (i BIGINT PRIMARY KEY)")
    struct Abort: Error {}
    #expect(throws: Abort.self) {
      try db.transaction(durable: true) {
        try db.execute("INSERT INTO t VALUES (1)")
        throw Abort()
      }
    }
    try db.transaction(durable: false) { try db.execute("INSERT INTO t VALUES (2)") }
    #expect(try db.query("SELECT i FROM t") == [[.integer(2)]])
    // A nested transaction joins the outer one: it rolls back with it.
    #expect(throws: Abort.self) {
      try db.transaction(durable: true) {
        try db.transaction(durable: true) { try db.execute("INSERT INTO t VALUES (4)") }
        throw Abort()
      }
    }
    #expect(try db.query("SELECT i FROM t") == [[.integer(2)]])
    // A failed statement inside a transaction aborts it as a whole, and the connection is
    // usable afterwards.
    #expect(throws: PostgreSQLError.self) {
      try db.transaction(durable: true) {
        try db.execute("INSERT INTO t VALUES (3)")
        try db.execute("INSERT INTO t VALUES (2)")
      }
    }
    #expect(try db.query("SELECT i FROM t") == [[.integer(2)]])
  }

  @Test func errorsCarrySQLStateAndWhetherTheyPass() throws {
    let db = try database()
    try db.execute("CREATE TABLE t (i BIGINT PRIMARY KEY)")
    try db.execute("INSERT INTO t VALUES (1)")
    do {
      try db.execute("INSERT INTO t VALUES (?)", [.integer(1)])
      Issue.record("a duplicate key was accepted")
    } catch let error as PostgreSQLError {
      #expect(error.isUniqueViolation)
      #expect(!error.isTransient)
      #expect(error.description.contains("23505"))
    }
    do {
      try db.execute("SELECT * FROM missing_table")
      Issue.record("a missing table was accepted")
    } catch let error as PostgreSQLError {
      #expect(error.sqlState == "42P01")
      #expect(error.description.contains("missing_table"))
    }
    // PostgreSQL text cannot hold NUL: refused with a clear error, not truncated.
    #expect(throws: PostgreSQLError.self) { try db.query("SELECT ?::text", [.text("a\u{0}b")]) }
  }

  /// The server ends the session (a restart, a failover, an administrator): the statement
  /// that finds out fails as transient, the next one runs on a new session with the session
  /// settings applied again.
  @Test func aLostSessionIsReplacedAtTheNextStatement() throws {
    let url = try PostgreSQLServer.freshDatabase()
    let db = try PostgreSQLDatabase(url: url)
    let admin = try PostgreSQLDatabase(url: url)
    let first = try #require(try db.query("SELECT pg_backend_pid()").first?.first?.int)
    try admin.execute("SELECT pg_terminate_backend(?::integer)", [.integer(Int64(first))])
    do {
      _ = try db.query("SELECT 1")
      Issue.record("a statement on a terminated session succeeded")
    } catch let error as PostgreSQLError {
      #expect(error.isTransient, "\(error)")
    }
    let second = try #require(try db.query("SELECT pg_backend_pid()").first?.first?.int)
    #expect(second != first)
    #expect(try db.query("SHOW idle_in_transaction_session_timeout").first?.first?.string == "1min")
  }

  @Test func aRefusedConnectionIsTransientAndHidesThePassword() throws {
    let port = try PostgreSQLServer.freePort()
    do {
      _ = try PostgreSQLDatabase(url: "postgresql://i2x:secret@127.0.0.1:\(port)/x?connect_timeout=2")
      Issue.record("connected to a port nobody listens on")
    } catch let error as PostgreSQLError {
      #expect(error.isTransient)
      #expect(!error.description.contains("secret"))
      #expect(error.description.contains("127.0.0.1:\(port)"))
    }
    // Every way libpq takes a password is hidden; the rest stays.
    for url in [
      "postgresql://alice:s3cret@db:5432/i2x", "postgresql://alice@db/i2x?password=s3cret&sslmode=require",
      "postgresql://alice@db/i2x?sslmode=require&PASSWORD=s3cret", "host=db user=alice password = s3cret dbname=i2x",
    ] {
      let shown = PostgreSQLDatabase.redacted(url)
      #expect(!shown.contains("s3cret") && shown.contains("alice") && shown.contains("db"), "\(shown)")
    }
    #expect(
      PostgreSQLDatabase.redacted("postgresql://alice@db/i2x?password=x&sslmode=require").hasSuffix("sslmode=require"))
  }
}

import Foundation
import Store
import Testing

@Suite struct StoreTests {
  func temporaryDatabase() throws -> (SQLiteDatabase, URL) {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("i2x-store-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return (try SQLiteDatabase(path: directory.appendingPathComponent("t.sqlite").path), directory)
  }

  @Test func walModeAndMigrationsRecordedOnce() throws {
    let (db, directory) = try temporaryDatabase()
    defer { try? FileManager.default.removeItem(at: directory) }
    #expect(try db.query("PRAGMA journal_mode").first?.first?.string == "wal")
    try Migrations.apply(to: db)
    try Migrations.apply(to: db)
    let names = try db.query("SELECT name FROM schema_migrations").compactMap { $0.first?.string }
    #expect(names == Migrations.all.map(\.name))
  }

  @Test func boundParametersKeepHostileTextInert() throws {
    let (db, directory) = try temporaryDatabase()
    defer { try? FileManager.default.removeItem(at: directory) }
    try db.execute("CREATE TABLE t (name TEXT, data BLOB, n INTEGER, x REAL)")
    let hostile = "x'); DROP TABLE t; --"
    try db.execute(
      "INSERT INTO t VALUES (?, ?, ?, ?)", [.text(hostile), .blob([0, 1, 255]), .integer(-5), .real(0.25)])
    let row = try #require(try db.query("SELECT name, data, n, x FROM t").first)
    #expect(row == [.text(hostile), .blob([0, 1, 255]), .integer(-5), .real(0.25)])
  }

  @Test func transactionRollsBackOnError() throws {
    let (db, directory) = try temporaryDatabase()
    defer { try? FileManager.default.removeItem(at: directory) }
    try db.execute("CREATE TABLE t (n INTEGER)")
    struct Boom: Error {}
    #expect(throws: Boom.self) {
      try db.transaction(durable: true) {
        try db.execute("INSERT INTO t VALUES (1)")
        throw Boom()
      }
    }
    #expect(try db.query("SELECT COUNT(*) FROM t").first?.first?.int == 0)
    try db.transaction { try db.execute("INSERT INTO t VALUES (2)") }
    #expect(try db.query("SELECT n FROM t").first?.first?.int == 2)
    // A nested transaction joins the outer one: it commits and rolls back with it.
    #expect(throws: Boom.self) {
      try db.transaction(durable: true) {
        try db.transaction(durable: true) { try db.execute("INSERT INTO t VALUES (3)") }
        throw Boom()
      }
    }
    try db.transaction { try db.transaction { try db.execute("INSERT INTO t VALUES (4)") } }
    #expect(try db.query("SELECT n FROM t ORDER BY n") == [[.integer(2)], [.integer(4)]])
  }

  /// Migration 012 on a store written before it: field keys of stored analysis reports become
  /// snake_case at every depth, values (class names) stay as they were, `schema_version` becomes
  /// 2, and a row that is not a JSON object is left for the daemon to report.
  @Test func migration010RewritesStoredReportKeys() throws {
    let (db, directory) = try temporaryDatabase()
    defer { try? FileManager.default.removeItem(at: directory) }
    try Migrations.apply(to: db)
    try db.execute("DELETE FROM schema_migrations WHERE name = '012-snake-case-reports'")
    let old =
      #"{"schemaVersion":1,"classNames":["T-shirt/top"],"pairs":[{"a":0,"separationStep":null,"#
      + #""accumulated":{"discriminative_for_a":[1]}}],"intervals":[{"crossValidatedR2":0.5,"null95":0.1}]}"#
    try db.execute(
      "INSERT INTO analyses (run, step, report, seconds, timings, created_at) VALUES ('r', 1, ?, 0, '{}', 0)",
      [.text(old)])
    try db.execute(
      "INSERT INTO analyses (run, step, report, seconds, timings, created_at) VALUES ('r', 2, 'damaged', 0, '{}', 0)")
    try Migrations.apply(to: db)
    let rows = try db.query("SELECT report FROM analyses ORDER BY step").map { $0[0].string ?? "" }
    let expected =
      #"{"class_names":["T-shirt/top"],"intervals":[{"cross_validated_r2":0.5,"null95":0.1}],"#
      + #""pairs":[{"a":0,"accumulated":{"discriminative_for_a":[1]},"separation_step":null}],"schema_version":2}"#
    let parse = { (text: String) in try JSONSerialization.jsonObject(with: Data(text.utf8)) as? NSDictionary }
    #expect(try parse(rows[0]) == (try parse(expected)))
    #expect(rows[1] == "damaged")
  }

  @Test func syntaxErrorsNameTheStatement() throws {
    let (db, directory) = try temporaryDatabase()
    defer { try? FileManager.default.removeItem(at: directory) }
    #expect { try db.execute("SELEC 1") } throws: { ($0 as? SQLiteError)?.message.contains("SELEC 1") == true }
  }

  @Test func blobsAreContentAddressed() throws {
    let (_, directory) = try temporaryDatabase()
    defer { try? FileManager.default.removeItem(at: directory) }
    let blobs = try BlobStore(root: directory.appendingPathComponent("blobs"))
    let sha = try blobs.put(Array("abc".utf8))
    #expect(sha == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(try blobs.get(sha) == Array("abc".utf8))
    #expect(blobs.url(for: sha)?.path.hasSuffix("/ba/\(sha)") == true)
    #expect(try blobs.put(Array("abc".utf8)) == sha)
  }
}

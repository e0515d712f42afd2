import Foundation
import Store
import Testing

/// Migration 010 rebuilds `explanations` to allow the `prototypes` kind: a database made before
/// it keeps its rows (ids included), and the event triggers still fire on the rebuilt table.
@Suite struct ExplanationKindMigrationTests {
  @Test func rowsSurviveAndTriggersFireAfterTheRebuild() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("i2x-store-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let db = try SQLiteDatabase(path: directory.appendingPathComponent("t.sqlite").path)
    // The schema as it stood before migration 010, recorded as applied.
    try db.execute("CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
    let index = try #require(Migrations.all.firstIndex { $0.name == "010-explanation-kind-prototypes" })
    for migration in Migrations.all[..<index] {
      for statement in migration.sql { try db.execute(statement) }
      try db.execute("INSERT INTO schema_migrations (name, applied_at) VALUES (?, 0)", [.text(migration.name)])
    }
    try db.execute(
      "INSERT INTO runs (name, architecture, classes, probe_sha256, probe_count, created_at) VALUES ('r', '{}', '[]', 'x', 1, 0)"
    )
    let insert = """
      INSERT INTO explanations (id, run, class, step, source, kind, state, created_at, updated_at)
      VALUES (?, 'r', ?, 1, 'client', ?, 'queued', 0, 0)
      """
    try db.execute(insert, [.integer(41), .integer(3), .text("explain")])
    #expect(throws: (any Error).self, "the old CHECK refuses the new kind") {
      try db.execute(insert, [.integer(42), .integer(-1), .text("prototypes")])
    }

    try Migrations.apply(to: db)
    #expect(
      try db.query("SELECT id, class, kind FROM explanations") == [[.integer(41), .integer(3), .text("explain")]])
    try db.execute(insert, [.integer(42), .integer(-1), .text("prototypes")])
    try db.execute("UPDATE explanations SET state = 'running' WHERE id = 42")
    let events = try db.query(
      "SELECT json_extract(detail, '$.id'), json_extract(detail, '$.state') FROM events WHERE kind = 'explanation' ORDER BY id"
    )
    // The first row's insert event (before the rebuild), then the new row's insert and update.
    #expect(
      events == [
        [.integer(41), .text("queued")], [.integer(42), .text("queued")], [.integer(42), .text("running")],
      ])
    #expect(try db.query("SELECT 1 FROM explanations WHERE kind = 'nonsense'").isEmpty)
    #expect(throws: (any Error).self, "the CHECK still refuses unknown kinds") {
      try db.execute(insert, [.integer(43), .integer(0), .text("nonsense")])
    }
    let indexes = try db.query("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'explanations'")
      .compactMap { $0.first?.string }.sorted()
    #expect(indexes == ["explanations_job", "explanations_run_class"])
  }
}

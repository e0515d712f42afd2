import Foundation
import Store
import Testing

/// The event log's triggers (migration 009) on hand-made rows: each kind is written once per
/// change, flags only when new against the previous analysis, and a damaged report or metrics
/// text never makes the change itself fail.
@Suite struct EventLogTests {
  func database() throws -> (SQLiteDatabase, URL) {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("i2x-events-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let db = try SQLiteDatabase(path: directory.appendingPathComponent("t.sqlite").path)
    try Migrations.apply(to: db)
    try db.execute(
      "INSERT INTO runs (name, architecture, classes, probe_sha256, probe_count, created_at) VALUES ('r', '{}', '[]', 'x', 1, 0)"
    )
    return (db, directory)
  }

  func events(_ db: SQLiteDatabase) throws -> [(kind: String, step: Int?, detail: [String: Any])] {
    try db.query("SELECT kind, step, detail FROM events WHERE run = 'r' ORDER BY id").map { row in
      (
        row[0].string ?? "", row[1].int,
        (try? JSONSerialization.jsonObject(with: Data((row[2].string ?? "{}").utf8))) as? [String: Any] ?? [:]
      )
    }
  }

  func checkpoint(_ db: SQLiteDatabase, _ step: Int, metrics: String = #"{"loss":0.5}"#) throws {
    try db.execute(
      "INSERT INTO checkpoints (run, step, epoch, sha256, size, metrics, received_at) VALUES ('r', ?, 0, 's', 10, ?, 0)",
      [.integer(Int64(step)), .text(metrics)])
    try db.execute(
      "INSERT INTO jobs (kind, run, step, state, updated_at) VALUES ('analyze', 'r', ?, 'queued', 0)",
      [.integer(Int64(step))])
  }

  func analyse(_ db: SQLiteDatabase, _ step: Int, report: String) throws {
    try db.execute(
      "INSERT INTO analyses (run, step, report, seconds, timings, created_at) VALUES ('r', ?, ?, 1, '{}', 0)",
      [.integer(Int64(step)), .text(report)])
    try db.execute("UPDATE jobs SET state = 'running' WHERE step = ?", [.integer(Int64(step))])
    try db.execute("UPDATE jobs SET state = 'done' WHERE step = ?", [.integer(Int64(step))])
  }

  static func report(flags: [(prototype: Int, pair: [Int])]) -> String {
    let rows = flags.map {
      #"{"prototype":\#($0.prototype),"pair":[\#($0.pair[0]),\#($0.pair[1])],"flips":2,"score":0.5}"#
    }
    return #"{"steps":[1],"uncertain":[\#(rows.joined(separator: ","))]}"#
  }

  @Test func checkpointsAnalysesAndOnlyNewFlags() throws {
    let (db, directory) = try database()
    defer { try? FileManager.default.removeItem(at: directory) }
    try checkpoint(db, 10)
    try analyse(db, 10, report: Self.report(flags: []))
    try checkpoint(db, 20)
    try analyse(db, 20, report: Self.report(flags: [(3, [0, 6])]))
    // Step 30 keeps flag 3 on (0, 6) and adds prototype 5 on (0, 6) and prototype 3 on (2, 4).
    try checkpoint(db, 30)
    try analyse(db, 30, report: Self.report(flags: [(3, [0, 6]), (5, [0, 6]), (3, [2, 4])]))
    let log = try events(db)
    #expect(
      log.map(\.kind) == [
        "checkpoint", "analysis", "checkpoint", "analysis", "flag", "checkpoint", "analysis", "flag", "flag",
      ])
    #expect(log[0].step == 10 && (log[0].detail["metrics"] as? [String: Any])?["loss"] as? Double == 0.5)
    #expect(log[1].detail["state"] as? String == "done")
    #expect(log[4].step == 20 && log[4].detail["prototype"] as? Int == 3 && log[4].detail["pair"] as? [Int] == [0, 6])
    let newAt30 = log.suffix(2).map { "\($0.detail["prototype"] as? Int ?? -1)@\($0.detail["pair"] as? [Int] ?? [])" }
    #expect(Set(newAt30) == ["5@[0, 6]", "3@[2, 4]"])
    // A refresh job re-analysing the run writes no analysis event.
    try db.execute("INSERT INTO jobs (kind, run, step, state, updated_at) VALUES ('refresh', 'r', 30, 'queued', 0)")
    try db.execute("UPDATE jobs SET state = 'done' WHERE kind = 'refresh'")
    #expect(try events(db).count == log.count)
  }

  @Test func failedAnalysisAndDamagedTextStillCommit() throws {
    let (db, directory) = try database()
    defer { try? FileManager.default.removeItem(at: directory) }
    try checkpoint(db, 10, metrics: "not json")
    try db.execute(
      "INSERT INTO analyses (run, step, report, seconds, timings, created_at) VALUES ('r', 10, '{broken', 1, '{}', 0)")
    try db.execute("UPDATE jobs SET state = 'done' WHERE step = 10")
    try checkpoint(db, 20)
    try db.execute("UPDATE jobs SET state = 'failed', error = 'outputs not finite' WHERE step = 20")
    let log = try events(db)
    #expect(log.map(\.kind) == ["checkpoint", "analysis", "checkpoint", "analysis"])
    #expect(log[0].detail["metrics"] is NSNull, "unreadable metrics are null, not an error")
    #expect(log[3].detail["state"] as? String == "failed" && log[3].detail["error"] as? String == "outputs not finite")
  }

  @Test func directivesAndExplanationsPerStateChange() throws {
    let (db, directory) = try database()
    defer { try? FileManager.default.removeItem(at: directory) }
    try db.execute(
      """
      INSERT INTO directives (run, kind, payload, created_at, state, key, pair, prototypes, source, step, updated_at)
      VALUES ('r', 'finetune', '{}', 0, 'pending', 'k', '0,6', '3,5', 'auto', 40, 0)
      """)
    for state in ["delivered", "delivered", "received", "running", "done"] {
      try db.execute("UPDATE directives SET state = ?, updated_at = 1 WHERE key = 'k'", [.text(state)])
    }
    try db.execute(
      """
      INSERT INTO explanations (run, class, step, source, state, created_at, updated_at)
      VALUES ('r', 6, 40, 'auto', 'queued', 0, 0)
      """)
    try db.execute("UPDATE explanations SET state = 'running'")
    try db.execute(#"UPDATE explanations SET state = 'done', document = '{"activation":{"rate":0.66}}'"#)
    let log = try events(db)
    let directives = log.filter { $0.kind == "directive" }
    // The repeated 'delivered' (a resend) is one event.
    #expect(
      directives.map { $0.detail["state"] as? String ?? "" } == ["pending", "delivered", "received", "running", "done"])
    #expect(
      directives[0].detail["pair"] as? [Int] == [0, 6] && directives[0].detail["prototypes"] as? [Int] == [3, 5])
    let explanations = log.filter { $0.kind == "explanation" }
    #expect(explanations.map { $0.detail["state"] as? String ?? "" } == ["queued", "running", "done"])
    #expect(explanations.last?.detail["activation"] as? Double == 0.66)
    #expect(explanations.last?.detail["class"] as? Int == 6)
  }
}

import Checkpoints
import DaemonCore
import Foundation
import PostgreSQLTestSupport
import Store
import Testing
import Wire

/// `i2xd migrate` (`StoreMigration`): an embedded store with analysed checkpoints, events and
/// an intervention request is copied into PostgreSQL, and a daemon on the copy answers every
/// query as the original does; a non-empty target or a damaged blob is refused, with nothing
/// committed.
@Suite struct StoreMigrationTests {
  /// An embedded store with a run of three analysed checkpoints.
  func embeddedStore() throws -> URL {
    let directory = try DaemonFixtures.temporaryDirectory()
    let store = try DaemonStore(directory: directory)
    let handler = RequestHandler(store: store, log: { _ in })
    let payload = try DaemonFixtures.probe(count: 40)
    let header = RegisterRunHeader(
      run: "r1", architecture: DaemonFixtures.architecture.json(), classes: (0..<10).map { "c\($0)" },
      sha256: SHA256.hex(payload))
    _ = handler.handle(try WireMessage(type: .registerRun, header: header, payload: payload).frames)
    let worker = JobWorker(directory: directory, log: { _ in })
    try worker.start()
    defer { worker.stop() }
    for step in 1...3 {
      _ = handler.handle(
        try DaemonFixtures.checkpoint(step: step, bytes: try DaemonFixtures.checkpointBytes(seed: UInt64(step))).frames)
      worker.notify()
    }
    let deadline = Date().addingTimeInterval(60)
    while Date() < deadline, (try store.analysis(run: "r1", step: 3)) == nil { Thread.sleep(forTimeInterval: 0.05) }
    worker.stop()
    #expect(try store.analysis(run: "r1", step: 3) != nil)
    _ = try store.requestIntervention(run: "r1", step: 3, prototype: 0, label: 1)
    return directory
  }

  func answer(_ store: DaemonStore, _ query: String, step: Int? = nil) throws -> String {
    let handler = RequestHandler(store: store, log: { _ in })
    let reply = handler.handle(
      try WireMessage(type: .query, header: QueryHeader(query: query, run: "r1", step: step)).frames)
    var object = try #require(try JSONSerialization.jsonObject(with: Data(reply.header)) as? [String: Any])
    object["uptime_seconds"] = nil
    return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
  }

  @Test func aDaemonOnTheCopyAnswersAsTheOriginal() throws {
    let directory = try embeddedStore()
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = try PostgreSQLServer.freshDatabase()
    let blobs = try DaemonFixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: blobs) }
    let summary = try StoreMigration.run(from: directory, to: url, blobDirectory: blobs, log: { _ in })
    #expect(
      summary.rows["checkpoints"] == 3 && summary.rows["analyses"] == 3 && (summary.rows["interventions"] ?? 0) >= 1)
    #expect(summary.blobs >= 7, "probe set, 3 checkpoints, 3 observations")
    let original = try DaemonStore(directory: directory)
    let copy = try DaemonStore(postgreSQL: url, blobDirectory: blobs)
    for query in ["runs", "checkpoints", "progress", "prototypes", "pairs", "uncertain", "interventions", "events"] {
      #expect(try answer(copy, query) == answer(original, query), "\(query)")
    }
    #expect(try answer(copy, "progress", step: 2) == answer(original, "progress", step: 2))
    let probe = try #require(try original.database.query("SELECT probe_sha256 FROM runs").first?.first?.string)
    #expect(try copy.blobs.get(probe) == original.blobs.get(probe))
    // New rows continue after the copied ids.
    let next = try copy.requestIntervention(run: "r1", step: 3, prototype: 1, label: 2)
    #expect(next > (try original.database.query("SELECT MAX(id) FROM interventions").first?.first?.int ?? .max))
    // The copy is a store like any other: a second migration into it is refused.
    #expect(throws: StoreMigration.Refused.self) {
      try StoreMigration.run(from: directory, to: url, blobDirectory: blobs, log: { _ in })
    }
  }

  @Test func aDamagedBlobStopsTheMigrationBeforeAnyRow() throws {
    let directory = try embeddedStore()
    defer { try? FileManager.default.removeItem(at: directory) }
    let store = try DaemonStore(directory: directory)
    let sha = try #require(try store.checkpoints(run: "r1").first?.sha256)
    var bytes = try store.blobs.get(sha)
    bytes[bytes.count / 2] ^= 0xFF
    try Data(bytes).write(to: try #require(store.blobs.url(for: sha)))
    let url = try PostgreSQLServer.freshDatabase()
    let blobs = try DaemonFixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: blobs) }
    #expect(throws: StoreMigration.Refused.self) {
      try StoreMigration.run(from: directory, to: url, blobDirectory: blobs, log: { _ in })
    }
    #expect(try PostgreSQLDatabase(url: url).query("SELECT COUNT(*) FROM runs") == [[.integer(0)]])
  }
  /// `i2xd migrate` as a user runs it, with the blobs going into the database (no --blob-dir):
  /// sysexits codes for a usage error (64), a directory with no store or a non-empty target
  /// (65), and 0 for a copy that verified, whose blobs a daemon on the copy reads.
  @Test func theCommandExitsWithSysexitsCodes() throws {
    let directory = try embeddedStore()
    defer { try? FileManager.default.removeItem(at: directory) }
    let empty = try DaemonFixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: empty) }
    let url = try PostgreSQLServer.freshDatabase()
    func migrate(from: URL) -> Int32 { DaemonCommand.main(["migrate", "--from", from.path, "--to", url]) }
    #expect(DaemonCommand.main(["migrate", "--to", url]) == 64)
    #expect(migrate(from: empty) == 65)
    // The embedded daemon was killed mid-job: the copy has the job queued again.
    let killed = try #require(
      try DaemonStore(directory: directory).database.query(
        "UPDATE jobs SET state = 'running' WHERE id = (SELECT MAX(id) FROM jobs) RETURNING id"
      ).first?.first)
    #expect(migrate(from: directory) == 0)
    #expect(
      try PostgreSQLDatabase(url: url).query("SELECT state FROM jobs WHERE id = ?", [killed]) == [[.text("queued")]])
    #expect(migrate(from: directory) == 65, "the target now holds a store")
    #expect(try PostgreSQLDatabase(url: url).query("SELECT COUNT(*) FROM checkpoints") == [[.integer(3)]])
    let original = try DaemonStore(directory: directory)
    let copy = try DaemonStore(postgreSQL: url, blobDirectory: nil)
    for checkpoint in try original.checkpoints(run: "r1") {
      #expect(try copy.blobs.get(checkpoint.sha256) == original.blobs.get(checkpoint.sha256))
    }
  }
}

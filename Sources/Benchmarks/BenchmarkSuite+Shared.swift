import DaemonCore
import Foundation
import Store
import Training

extension BenchmarkSuite {
  /// A PostgreSQL store beside the embedded one (issue 15), at the URL in
  /// `I2X_BENCH_POSTGRESQL` (`scripts/bench-postgresql.sh` starts a server and sets it): ingest
  /// (checkpoints acknowledged per second, each blob fsynced and its row committed) and query
  /// latency on both, then the queue's own cost per job (claim, then finish, of jobs that do
  /// nothing) on both; with `I2X_BENCH_POSTGRESQL_DATABASE_BLOBS` (another, empty database),
  /// ingest again with the blobs in PostgreSQL.
  func shared(_ emit: (String) -> Void) throws {
    guard let url = ProcessInfo.processInfo.environment["I2X_BENCH_POSTGRESQL"], !url.isEmpty else {
      throw TrainingError(
        "the 'shared' benchmark needs a PostgreSQL database: I2X_BENCH_POSTGRESQL=postgresql://… "
          + "(scripts/bench-postgresql.sh starts a server and runs it)", exitCode: .usage)
    }
    let blobs = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: blobs) }
    let postgreSQL = StoreLocation.postgreSQL(url: url, blobs: blobs)
    try ingestAndQueries(emit)
    try ingestAndQueries(emit, location: postgreSQL)
    // Blobs in the database need a database of their own (a store keeps them in one place).
    if let other = ProcessInfo.processInfo.environment["I2X_BENCH_POSTGRESQL_DATABASE_BLOBS"], !other.isEmpty {
      try ingestAndQueries(emit, location: .postgreSQL(url: other, blobs: nil))
    }
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    for (backend, location) in [("sqlite", StoreLocation.directory(directory)), ("postgresql", postgreSQL)] {
      let store = try DaemonStore(location)
      let jobs = quick ? 100 : 1000
      try store.database.transaction(durable: true) {
        for step in 0..<jobs {
          try store.database.execute(
            "INSERT INTO jobs (kind, run, step, state, updated_at) VALUES ('analyze', ?, ?, 'queued', 0)",
            [.text("bench-queue-\(step % 4)"), .integer(Int64(step))])
        }
      }
      let start = DispatchTime.now().uptimeNanoseconds
      var done = 0
      while let job = try store.claimJob(worker: "bench", lease: 30) {
        try store.finishJob(job, parameterCount: nil)
        done += 1
      }
      let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
      emit(
        line([
          "figure": "queue_overhead", "store": backend, "jobs": done,
          "milliseconds_per_job": seconds * 1000 / Double(max(done, 1)),
        ]))
      try store.database.execute("DELETE FROM jobs WHERE run LIKE 'bench-queue-%'")
    }
  }
}

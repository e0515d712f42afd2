import DaemonCore
import Foundation
import PostgreSQLTestSupport
import Store
import Synchronization
import Testing

/// The job queue of a PostgreSQL store shared by several workers (issue 15), against a real
/// server: concurrent claims on their own connections, leases, renewals and fencing.
@Suite struct SharedQueueTests {
  /// A fresh PostgreSQL store and its URL, with `steps` queued analyses for each of `runs`.
  func store(runs: [String] = [], steps: Int = 0) throws -> (DaemonStore, String, URL) {
    let url = try PostgreSQLServer.freshDatabase()
    let blobs = try DaemonFixtures.temporaryDirectory()
    let store = try DaemonStore(postgreSQL: url, blobDirectory: blobs)
    for step in 0..<steps {
      for run in runs {
        try store.database.execute(
          "INSERT INTO jobs (kind, run, step, state, updated_at) VALUES ('analyze', ?, ?, 'queued', 0)",
          [.text(run), .integer(Int64(step))])
      }
    }
    return (store, url, blobs)
  }

  @Test func daemonsStartingTogetherMigrateTheDatabaseOnce() throws {
    let url = try PostgreSQLServer.freshDatabase()
    let blobs = try DaemonFixtures.temporaryDirectory()
    let failures = Mutex<[String]>([])
    let start = DispatchSemaphore(value: 0)
    let finished = DispatchGroup()
    for _ in 0..<4 {
      finished.enter()
      Thread.detachNewThread {
        defer { finished.leave() }
        start.wait()
        do { _ = try DaemonStore(postgreSQL: url, blobDirectory: blobs) } catch {
          failures.withLock { $0.append("\(error)") }
        }
      }
    }
    for _ in 0..<4 { start.signal() }
    finished.wait()
    #expect(failures.withLock { $0 } == [])
    let applied = try PostgreSQLDatabase(url: url).query("SELECT COUNT(*), COUNT(DISTINCT name) FROM schema_migrations")
    #expect(applied.first?[0] == applied.first?[1] && applied.first?[0] == .integer(Int64(Migrations.all.count)))
  }

  @Test func concurrentWorkersClaimEveryJobOnceAndEachRunInOrderOneAtATime() throws {
    let runs = ["r0", "r1", "r2", "r3"]
    let steps = 12
    let (setup, url, blobs) = try store(runs: runs, steps: steps)
    // Which runs have a job in hand right now, across the workers (checked at every claim).
    let busy = Mutex<Set<String>>([])
    let overlaps = Atomic<Int>(0)
    let done = Mutex<[(run: String, step: Int, worker: Int)]>([])
    let failures = Mutex<[String]>([])
    // Three threads of their own (not the shared pool, which may run them one after another),
    // released together.
    let start = DispatchSemaphore(value: 0)
    let finished = DispatchGroup()
    for w in 0..<3 {
      finished.enter()
      Thread.detachNewThread {
        defer { finished.leave() }
        start.wait()
        do {
          let store = try DaemonStore(postgreSQL: url, blobDirectory: blobs)
          var idle = 0
          while idle < 20 {
            guard let job = try store.claimJob(worker: "w\(w)", lease: 30) else {
              idle += 1
              usleep(20_000)
              continue
            }
            idle = 0
            if !busy.withLock({ $0.insert(job.run).inserted }) { overlaps.add(1, ordering: .relaxed) }
            usleep(UInt32.random(in: 0...3_000))
            busy.withLock { _ = $0.remove(job.run) }
            try store.finishJob(job, parameterCount: nil)
            done.withLock { $0.append((job.run, job.step, w)) }
          }
        } catch {
          failures.withLock { $0.append("worker \(w): \(error)") }
        }
      }
    }
    for _ in 0..<3 { start.signal() }
    finished.wait()
    #expect(failures.withLock { $0 } == [])
    #expect(overlaps.load(ordering: .relaxed) == 0, "two jobs of one run ran at once")
    let finishedJobs = done.withLock { $0 }
    #expect(finishedJobs.count == runs.count * steps)
    for run in runs {
      #expect(finishedJobs.filter { $0.run == run }.map(\.step) == Array(0..<steps), "run \(run) in order")
    }
    #expect(Set(finishedJobs.map(\.worker)).count > 1, "the work spread over the workers")
    #expect(try setup.jobCounts()["done"] == runs.count * steps)
  }

  @Test func everyDaemonOfAStoreKeepsItsBlobsInTheSamePlace() throws {
    let url = try PostgreSQLServer.freshDatabase()
    let first = try DaemonStore(postgreSQL: url, blobDirectory: nil)
    let sha = try first.blobs.put(Array("probe".utf8))
    let blobs = try DaemonFixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: blobs) }
    #expect {
      try DaemonStore(postgreSQL: url, blobDirectory: blobs)
    } throws: {
      ($0 as? DaemonStore.BlobLocationMismatch)?.description.contains("without --blob-dir") == true
    }
    // A daemon that agrees reads what the first stored.
    #expect(try DaemonStore(postgreSQL: url, blobDirectory: nil).blobs.get(sha) == Array("probe".utf8))
    // And the other way round.
    let other = try PostgreSQLServer.freshDatabase()
    _ = try DaemonStore(postgreSQL: other, blobDirectory: blobs)
    #expect(throws: DaemonStore.BlobLocationMismatch.self) { try DaemonStore(postgreSQL: other, blobDirectory: nil) }
  }

  @Test func aRunsJobsOfDifferentKindsNeverRunAtOnce() throws {
    let (first, url, blobs) = try store(runs: ["r"], steps: 1)
    try first.database.execute(
      "INSERT INTO jobs (kind, run, step, state, updated_at) VALUES ('intervene', 'r', 0, 'queued', 0)")
    let started = DispatchSemaphore(value: 0)
    let done = DispatchSemaphore(value: 0)
    let second = Mutex<Result<Int?, any Error>?>(nil)
    // The first worker's claim is not committed yet when the second worker looks.
    try first.database.transaction(durable: true) {
      let kind = try first.claimJob(worker: "w1", lease: 30)?.kind
      #expect(kind == "analyze")
      Thread.detachNewThread {
        started.signal()
        let result = Result {
          try DaemonStore(postgreSQL: url, blobDirectory: blobs).claimJob(worker: "w2", lease: 30)?.id
        }
        second.withLock { $0 = result }
        done.signal()
      }
      started.wait()
      Thread.sleep(forTimeInterval: 0.5)
    }
    done.wait()
    let claimed = try #require(second.withLock { $0 }).get()
    #expect(claimed == nil, "the run's intervention waits for its analysis")
  }

  @Test func aBlobDirectoryThatIsNotTheStoresIsRefused() throws {
    let url = try PostgreSQLServer.freshDatabase()
    let shared = try DaemonFixtures.temporaryDirectory()
    let unmounted = try DaemonFixtures.temporaryDirectory()
    let otherBlobs = try DaemonFixtures.temporaryDirectory()
    defer { for directory in [shared, unmounted, otherBlobs] { try? FileManager.default.removeItem(at: directory) } }
    let first = try DaemonStore(postgreSQL: url, blobDirectory: shared)
    try first.database.execute(
      """
      INSERT INTO runs (name, architecture, classes, probe_sha256, probe_count, created_at)
      VALUES ('r', '{}', '[]', 'x', 0, 0)
      """)
    // The store's other daemons share the directory.
    _ = try DaemonStore(postgreSQL: url, blobDirectory: shared)
    // An empty directory where the shared one should be (a mount missing) is refused, and left alone.
    #expect {
      try DaemonStore(postgreSQL: url, blobDirectory: unmounted)
    } throws: {
      "\($0)".contains("is the shared directory mounted?")
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: unmounted.path).isEmpty)
    // So is another store's blob directory.
    _ = try DaemonStore(postgreSQL: try PostgreSQLServer.freshDatabase(), blobDirectory: otherBlobs)
    #expect(throws: DaemonStore.BlobDirectoryMismatch.self) {
      try DaemonStore(postgreSQL: url, blobDirectory: otherBlobs)
    }
  }

  @Test func aWorkerThatLostItsLeaseRecordsNothing() throws {
    let (first, url, blobs) = try store(runs: ["r"], steps: 2)
    // Worker 1 claims with a short lease, then stalls (as if SIGSTOPped) past it.
    let stale = try #require(try first.claimJob(worker: "w1", lease: 0.3))
    Thread.sleep(forTimeInterval: 0.5)
    // Worker 2 gets the same job back with a new token, and not the run's next one.
    let second = try DaemonStore(postgreSQL: url, blobDirectory: blobs)
    let fresh = try #require(try second.claimJob(worker: "w2", lease: 30))
    #expect(fresh.id == stale.id && fresh.fence != stale.fence && fresh.attempts == 2)
    #expect(try second.claimJob(worker: "w3", lease: 30) == nil, "the run's next job waits")
    #expect(try second.runningJobs().map(\.worker) == ["w2"])
    // Worker 1 wakes up: every record it would make is refused.
    #expect(throws: DaemonStore.LostLease.self) { try first.finishJob(stale, parameterCount: nil) }
    #expect(throws: DaemonStore.LostLease.self) { try first.failJob(stale, error: "late", retryable: false) }
    #expect(throws: DaemonStore.LostLease.self) { try first.postponeJob(stale, error: "late", delay: 0) }
    #expect(throws: DaemonStore.LostLease.self) { try first.recordCrash(stale, reason: "late") }
    #expect(throws: DaemonStore.LostLease.self) { try first.renewLease(stale, lease: 30) }
    // What an analysis records with its report (directives, explanation requests) goes through
    // `fenced`, which checks the claim before anything is written.
    first.heldJob = stale
    var wrote = false
    #expect(throws: DaemonStore.LostLease.self) { try first.fenced { wrote = true } }
    #expect(!wrote)
    first.heldJob = nil
    try second.renewLease(fresh, lease: 30)
    try second.finishJob(fresh, parameterCount: nil)
    #expect(try second.job(id: fresh.id)?.state == "done")
    // Finishing again under the same claim (after results committed with the completion) is a
    // no-op; the stale claim is still refused.
    try second.finishJob(fresh, parameterCount: nil)
    #expect(throws: DaemonStore.LostLease.self) { try first.finishJob(stale, parameterCount: nil) }
  }

  @Test func aWorkerRestartedUnderItsNameTakesBackItsJobAtOnce() throws {
    let (store, url, blobs) = try store(runs: ["r"], steps: 2)
    let old = try #require(try store.claimJob(worker: "gpu-box-1", lease: 30))
    #expect(try store.releaseClaims(worker: "another") == 0)
    // The daemon restarts under the same name, long before the lease would run out.
    let restarted = try DaemonStore(postgreSQL: url, blobDirectory: blobs)
    #expect(try restarted.releaseClaims(worker: "gpu-box-1") == 1)
    let again = try #require(try restarted.claimJob(worker: "gpu-box-1", lease: 30))
    #expect(again.id == old.id && again.fence != old.fence && again.attempts == 1, "the attempt was given back")
    // A process of the old claim (were the name not unique after all) records nothing.
    #expect(throws: DaemonStore.LostLease.self) { try store.finishJob(old, parameterCount: nil) }
    try restarted.finishJob(again, parameterCount: nil)
    #expect(try restarted.job(id: old.id)?.state == "done")
  }

  @Test func aStalledWorkerRecordsNothingEvenBeforeAnotherTakesItsJob() throws {
    let (store, _, _) = try store(runs: ["r"], steps: 1)
    let job = try #require(try store.claimJob(worker: "w1", lease: 0.2))
    Thread.sleep(forTimeInterval: 0.4)
    #expect(throws: DaemonStore.LostLease.self) { try store.finishJob(job, parameterCount: nil) }
    #expect(try store.job(id: job.id)?.state == "running")
    #expect(try store.claimJob(worker: "w2", lease: 30)?.id == job.id, "the next claim takes it back")
  }

  @Test func renewalsKeepTheLease() throws {
    let (store, url, blobs) = try store(runs: ["r"], steps: 1)
    let job = try #require(try store.claimJob(worker: "w1", lease: 0.4))
    let other = try DaemonStore(postgreSQL: url, blobDirectory: blobs)
    for _ in 0..<4 {
      Thread.sleep(forTimeInterval: 0.2)
      try store.renewLease(job, lease: 0.4)
      #expect(try other.claimJob(worker: "w2", lease: 30) == nil)
    }
    try store.finishJob(job, parameterCount: nil)
    #expect(try store.job(id: job.id)?.state == "done")
  }

  @Test func aJobWhoseWorkersKeepDyingFailsAfterItsAttempts() throws {
    let (store, _, _) = try store(runs: ["r"], steps: 2)
    var first: DaemonStore.Job?
    for _ in 0..<DaemonStore.maximumAttempts {
      let job = try #require(try store.claimJob(worker: "w", lease: 0.1))
      first = first ?? job
      #expect(job.id == first?.id)
      Thread.sleep(forTimeInterval: 0.25)
    }
    // Lost every time: failed for good, with the reason, and the run moves on.
    let next = try #require(try store.claimJob(worker: "w", lease: 30))
    #expect(next.step == 1)
    let failed = try store.failedJobs(run: "r")
    #expect(failed.map(\.step) == [0])
    #expect(failed.first?.error.contains("stopped renewing its lease") == true)
  }
}

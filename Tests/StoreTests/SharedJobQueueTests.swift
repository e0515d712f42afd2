import Foundation
import PostgreSQLTestSupport
import Store
import Synchronization
import Testing

/// The shared job queue (issue 15) against a real PostgreSQL server: order, serial runs,
/// concurrent workers on their own connections, leases and fencing.
@Suite struct SharedJobQueueTests {
  func queue(_ url: String? = nil) throws -> (SharedJobQueue, String) {
    let url = try url ?? PostgreSQLServer.freshDatabase()
    return (try SharedJobQueue(database: PostgreSQLDatabase(url: url)), url)
  }

  @Test func runsTakeTurnsAndEachRunIsServedInOrderOneJobAtATime() throws {
    let (q, _) = try queue()
    for step in [0, 10, 20] {
      for run in ["a", "b"] { try q.enqueue(kind: "analyze", run: run, step: step) }
    }
    let first = try #require(try q.claim(worker: "w1", lease: 60))
    let second = try #require(try q.claim(worker: "w2", lease: 60))
    #expect([first.run, first.step] == ["a", 0] as [AnyHashable])
    #expect([second.run, second.step] == ["b", 0] as [AnyHashable])
    // Both runs have a job running: nothing else may start.
    #expect(try q.claim(worker: "w3", lease: 60) == nil)
    try q.complete(second) {}
    let third = try #require(try q.claim(worker: "w2", lease: 60))
    #expect([third.run, third.step] == ["b", 10] as [AnyHashable])
    try q.complete(first) {}
    try q.complete(third) {}
    // Run a was served longer ago than b: it goes first.
    let fourth = try #require(try q.claim(worker: "w1", lease: 60))
    #expect([fourth.run, fourth.step] == ["a", 10] as [AnyHashable])
    #expect(fourth.fence > third.fence && third.fence > second.fence)
  }

  @Test func concurrentWorkersDoEveryJobOnceAndEachRunInOrder() throws {
    let (setup, url) = try queue()
    try setup.database.execute("CREATE TABLE results (job BIGINT PRIMARY KEY, run TEXT, step BIGINT, worker TEXT)")
    let runs = ["r0", "r1", "r2", "r3"]
    let steps = 15
    for step in 0..<steps {
      for run in runs { try setup.enqueue(kind: "analyze", run: run, step: step) }
    }
    // Which runs have a job in hand right now, across the workers (checked at every claim).
    let busy = Mutex<Set<String>>([])
    let overlaps = Atomic<Int>(0)
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
          let (q, _) = try queue(url)
          var idle = 0
          while idle < 20 {
            guard let claim = try q.claim(worker: "w\(w)", lease: 30) else {
              idle += 1
              usleep(20_000)
              continue
            }
            idle = 0
            if !busy.withLock({ $0.insert(claim.run).inserted }) { overlaps.add(1, ordering: .relaxed) }
            usleep(UInt32.random(in: 0...3_000))
            busy.withLock { _ = $0.remove(claim.run) }
            try q.complete(claim) {
              try q.database.execute(
                "INSERT INTO results VALUES (?, ?, ?, ?)",
                [.integer(Int64(claim.id)), .text(claim.run), .integer(Int64(claim.step)), .text("w\(w)")])
            }
          }
        } catch {
          failures.withLock { $0.append("worker \(w): \(error)") }
        }
      }
    }
    for _ in 0..<3 { start.signal() }
    finished.wait()
    #expect(failures.withLock { $0 } == [])
    #expect(overlaps.load(ordering: .relaxed) == 0)
    let rows = try setup.database.query("SELECT run, step, worker FROM results ORDER BY job")
    #expect(rows.count == runs.count * steps)
    for run in runs {
      let done = rows.filter { $0[0].string == run }.compactMap { $0[1].int }
      #expect(done == Array(0..<steps), "run \(run) in order")
    }
    // The work spread over more than one worker.
    #expect(Set(rows.compactMap { $0[2].string }).count > 1)
    #expect(try setup.database.query("SELECT COUNT(*) FROM shared_jobs WHERE state <> 'done'") == [[.integer(0)]])
  }

  @Test func aWorkerThatLostItsLeaseCommitsNothing() throws {
    let (q, url) = try queue()
    try q.database.execute("CREATE TABLE results (job BIGINT, worker TEXT)")
    let id = try q.enqueue(kind: "analyze", run: "r", step: 0)
    try q.enqueue(kind: "analyze", run: "r", step: 1)
    // Worker 1 claims with a short lease, then stalls (as if SIGSTOPped) past it.
    let stale = try #require(try q.claim(worker: "w1", lease: 0.3))
    #expect(stale.id == id)
    usleep(500_000)
    // Worker 2 gets the same job back, with a new token, and not the run's next job.
    let (other, _) = try queue(url)
    let fresh = try #require(try other.claim(worker: "w2", lease: 30))
    #expect(fresh.id == id && fresh.fence != stale.fence && fresh.attempts == 2)
    #expect(try other.claim(worker: "w3", lease: 30) == nil)
    // Worker 1 wakes up and tries to finish: refused, its writes rolled back.
    #expect(throws: SharedJobQueue.LostLease.self) {
      try q.complete(stale) { try q.database.execute("INSERT INTO results VALUES (?, 'w1')", [.integer(Int64(id))]) }
    }
    #expect(throws: SharedJobQueue.LostLease.self) { try q.heartbeat(stale, lease: 30) }
    try other.heartbeat(fresh, lease: 30)
    try other.complete(fresh) {
      try other.database.execute("INSERT INTO results VALUES (?, 'w2')", [.integer(Int64(id))])
    }
    #expect(try q.database.query("SELECT worker FROM results") == [[.text("w2")]])
    // Completing twice is refused too.
    #expect(throws: SharedJobQueue.LostLease.self) { try other.complete(fresh) {} }
  }

  @Test func aStaleWorkerCommitsNothingEvenWhenNobodyReclaimedTheJob() throws {
    let (q, _) = try queue()
    try q.enqueue(kind: "analyze", run: "r", step: 0)
    let claim = try #require(try q.claim(worker: "w1", lease: 0.2))
    usleep(400_000)
    #expect(throws: SharedJobQueue.LostLease.self) { try q.complete(claim) {} }
    #expect(try q.state(of: claim.id)?.state == "running")
    // The next claim gives it back.
    #expect(try q.claim(worker: "w2", lease: 30)?.id == claim.id)
  }

  @Test func aHeartbeatKeepsTheLease() throws {
    let (q, url) = try queue()
    try q.enqueue(kind: "analyze", run: "r", step: 0)
    let claim = try #require(try q.claim(worker: "w1", lease: 0.4))
    let (other, _) = try queue(url)
    for _ in 0..<4 {
      usleep(200_000)
      try q.heartbeat(claim, lease: 0.4)
      #expect(try other.claim(worker: "w2", lease: 30) == nil)
    }
    try q.complete(claim) {}
    #expect(try q.state(of: claim.id)?.state == "done")
  }

  @Test func aJobWhoseWorkersKeepDyingFailsAfterItsAttempts() throws {
    var (q, _) = try queue()
    q.maximumAttempts = 2
    let id = try q.enqueue(kind: "analyze", run: "r", step: 0)
    let next = try q.enqueue(kind: "analyze", run: "r", step: 1)
    for _ in 0..<2 {
      #expect(try q.claim(worker: "w", lease: 0.1)?.id == id)
      usleep(250_000)
    }
    // Lost twice: failed for good, and the run moves on.
    #expect(try q.claim(worker: "w", lease: 30)?.id == next)
    let state = try #require(try q.state(of: id))
    #expect(state.state == "failed" && state.attempts == 2)
    #expect(state.error?.contains("lost the lease 2 times") == true)
  }
}

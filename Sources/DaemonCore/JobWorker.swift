import Checkpoints
import Dispatch
import Foundation
import Models

/// Runs queued jobs in order on its own thread with its own database connection, so queries
/// keep being answered while it works. Each job loads a checkpoint with its run's
/// architecture (recording the parameter count) and analyses it (`CheckpointAnalyzer`).
///
/// With `Isolation.process` (what `i2xd` uses) every job runs in a child process: a job that
/// crashes it is retried and, after `DaemonStore.maximumAttempts` crashes, failed with the
/// reason, while the daemon keeps serving. Transient faults (disk full) postpone the job with
/// exponential backoff (0.5 s doubling to 60 s) without using up an attempt. Whatever happens,
/// the worker never moves on while the job it ran is still marked `running`.
///
/// On a PostgreSQL store several workers (in several daemons) share the queue: each claims
/// under a lease of `lease` seconds that it renews every quarter of it while the job runs
/// (on its own connection), as `host:pid`. A worker that loses a job's lease (paused, or cut
/// off from the database) records nothing of it (the fencing token, `DaemonStore.hold`).
public final class JobWorker: @unchecked Sendable {
  /// Where jobs run.
  public enum Isolation: Sendable {
    /// On the worker thread (benchmarks and tests inside one process).
    case inProcess
    /// In a child process of `executable` (`i2xd run-job`), killed past `memoryLimit` bytes of
    /// resident memory or `timeout` seconds.
    case process(executable: String, memoryLimit: Int, timeout: Double)
  }

  private let location: StoreLocation
  /// Seconds a claim holds a job on a shared store without a renewal.
  public var lease = 30.0
  /// This worker's name in the jobs it holds (set before `start`): `host:pid` unless the
  /// daemon was given a stable one (`--worker-name`).
  public var name = "\(ProcessInfo.processInfo.hostName):\(getpid())"
  private let wake = DispatchSemaphore(value: 0)
  private let lock = NSLock()
  private var stopping = false
  private var thread: Thread?
  private let finished = DispatchSemaphore(value: 0)
  private let log: @Sendable (String) -> Void
  private let settings: AnalysisSettings
  private let childProcess: JobProcess?
  private var consecutiveTransientFaults = 0

  /// Creates a worker over the store in `directory` (not started).
  public convenience init(
    directory: URL, settings: AnalysisSettings = AnalysisSettings(), isolation: Isolation = .inProcess,
    log: @escaping @Sendable (String) -> Void
  ) {
    self.init(location: .directory(directory), settings: settings, isolation: isolation, log: log)
  }

  /// Creates a worker over the store at `location` (not started).
  public init(
    location: StoreLocation, settings: AnalysisSettings = AnalysisSettings(), isolation: Isolation = .inProcess,
    log: @escaping @Sendable (String) -> Void
  ) {
    self.location = location
    self.settings = settings
    self.log = log
    if case .process(let executable, let memoryLimit, let timeout) = isolation {
      childProcess = JobProcess(
        executable: executable, location: location, settings: settings,
        memoryLimit: memoryLimit, timeout: timeout)
    } else {
      childProcess = nil
    }
  }

  /// Starts the worker thread; jobs interrupted by a stop or a crash of the daemon are queued
  /// again first (on a shared store, those still held under this worker's name).
  public func start() throws {
    let store = try DaemonStore(location)
    try store.requeueInterruptedJobs()
    let released = try store.releaseClaims(worker: name)
    if released > 0 { log("took back \(released) job(s) held as \(name) before this daemon started") }
    let thread = Thread { [self] in
      // The thread's own connection: SQLite connections are not shared between threads.
      do {
        run(try DaemonStore(location))
      } catch {
        log("job worker cannot open the store: \(error)")
      }
      finished.signal()
    }
    thread.name = "i2xd-jobs"
    self.thread = thread
    thread.start()
  }

  /// Wakes the worker (a job was queued).
  public func notify() { wake.signal() }

  /// Asks the worker to stop (ending a running analysis process) and waits for it.
  public func stop() {
    lock.withLock { stopping = true }
    childProcess?.stop()
    wake.signal()
    if thread != nil { finished.wait() }
    thread = nil
  }

  private var shouldStop: Bool { lock.withLock { stopping } }

  private func run(_ store: DaemonStore) {
    while !shouldStop {
      let claimed: DaemonStore.Job?
      do { claimed = try store.claimJob(worker: name, lease: lease) } catch {
        log("job queue error: \(error); retrying in 1 s")
        _ = wake.wait(timeout: .now() + .seconds(1))
        continue
      }
      guard let job = claimed else {
        do {
          let expired = try store.expireDirectives(lease: settings.directiveLease)
          if expired > 0 { log("\(expired) fine-tune directive(s) failed: interrupted (no status within the lease)") }
          // Idle: replace incremental reports by full ones (at once if one was queued).
          if try store.enqueueRefreshes(quiet: settings.refreshAfter) > 0 { continue }
          // Then the interventions at each run's latest analysed checkpoint (DESIGN §6b).
          if try store.enqueueInterventions() > 0 { continue }
        } catch {
          log("cannot expire directives or queue refreshes: \(error)")
        }
        _ = wake.wait(timeout: .now() + .milliseconds(500))
        continue
      }
      execute(job, store)
    }
  }

  /// Runs `job` and makes sure its outcome is recorded before returning.
  private func execute(_ job: DaemonStore.Job, _ store: DaemonStore) {
    let ending: JobProcess.Ending
    let renewal = renewLease(of: job)
    if let childProcess {
      ending = childProcess.run(jobID: job.id, fence: job.fence)
    } else {
      switch JobRunner.run(jobID: job.id, fence: job.fence, store: store, settings: settings, log: log) {
      case .recorded: ending = .recorded
      case .transient(let reason): ending = .transient(reason)
      case .lost(let reason): ending = .lost(reason)
      }
    }
    renewal?.cancel()
    switch ending {
    case .lost(let reason):
      // Another worker has the job (or will, from the queue): nothing of ours to record.
      log("job \(job.id) (run '\(job.run)' step \(job.step)) given up: \(reason)")
    case .recorded:
      consecutiveTransientFaults = 0
      // A child that exited 0 without recording (it should not happen) counts as a crash.
      let state = (try? store.job(id: job.id))?.state
      if state == "running" {
        persist(job) { try store.recordCrash(job, reason: "the analysis process exited without recording an outcome") }
      }
    case .transient(let reason):
      consecutiveTransientFaults += 1
      let delay = min(60, 0.5 * pow(2, Double(min(consecutiveTransientFaults - 1, 7))))
      log("job \(job.id) (run '\(job.run)' step \(job.step)) postponed \(delay) s: \(reason)")
      persist(job) { try store.postponeJob(job, error: "postponed: \(reason)", delay: delay) }
      _ = wake.wait(timeout: .now() + delay)
    case .crashed(let reason):
      if shouldStop {  // ended by our own shutdown, not by the job
        persist(job) { try store.postponeJob(job, error: "interrupted by daemon shutdown", delay: 0) }
        return
      }
      persist(job) {
        let failed = try store.recordCrash(job, reason: reason)
        log(
          "job \(job.id) (run '\(job.run)' step \(job.step)): the analysis process crashed (\(reason)); "
            + (failed ? "failed for good after \(DaemonStore.maximumAttempts) crashes" : "will retry"))
      }
    }
  }

  /// On a shared store, renews `job`'s lease every quarter of `lease` until cancelled, on a
  /// connection of its own; nil on the embedded store (no leases there).
  private func renewLease(of job: DaemonStore.Job) -> DispatchSourceTimer? {
    guard case .postgreSQL = location else { return nil }
    let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "i2xd-lease-\(job.id)"))
    let interval = lease / 4
    var store: DaemonStore?
    timer.schedule(deadline: .now() + interval, repeating: interval)
    timer.setEventHandler { [location, lease, log] in
      do {
        if store == nil { store = try DaemonStore(location) }
        try store?.renewLease(job, lease: lease)
      } catch let error as DaemonStore.LostLease {
        log("\(error)")
        timer.cancel()
      } catch {
        store = nil  // reconnect at the next renewal
        log("cannot renew the lease of job \(job.id): \(error)")
      }
    }
    timer.resume()
    return timer
  }

  /// Runs a state update until it succeeds (a full disk may refuse it for a while), or until
  /// the worker stops; a job left `running` then is requeued at the next start. An update the
  /// claim may no longer make (its lease ran out) is dropped.
  private func persist(_ job: DaemonStore.Job, _ update: () throws -> Void) {
    var delay = 0.5
    while true {
      do {
        try update()
        return
      } catch let error as DaemonStore.LostLease {
        log("job \(job.id): \(error)")
        return
      } catch {
        log("job \(job.id): cannot record its state (\(error)); retrying in \(delay) s")
        if shouldStop { return }
        Thread.sleep(forTimeInterval: delay)
        delay = min(delay * 2, 30)
      }
    }
  }
}

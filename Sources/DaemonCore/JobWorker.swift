import Checkpoints
import Dispatch
import Foundation
import Models

/// Runs queued jobs in order on its own thread with its own database connection, so queries
/// keep being answered while it works. Each job loads a checkpoint with its run's
/// architecture (recording the parameter count) and analyses it (`CheckpointAnalyzer`).
public final class JobWorker: @unchecked Sendable {
  private let directory: URL
  private let wake = DispatchSemaphore(value: 0)
  private let lock = NSLock()
  private var stopping = false
  private var thread: Thread?
  private let finished = DispatchSemaphore(value: 0)
  private let log: @Sendable (String) -> Void
  private let faithfulnessSample: Int

  /// Creates a worker over the store in `directory` (not started).
  public init(directory: URL, faithfulnessSample: Int = 50, log: @escaping @Sendable (String) -> Void) {
    self.directory = directory
    self.faithfulnessSample = faithfulnessSample
    self.log = log
  }

  /// Starts the worker thread; jobs interrupted by a crash are queued again first.
  public func start() throws {
    try DaemonStore(directory: directory).requeueInterruptedJobs()
    let thread = Thread { [self] in
      // The thread's own connection: SQLite connections are not shared between threads.
      do {
        run(try DaemonStore(directory: directory))
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

  /// Asks the worker to stop after the current job and waits for it.
  public func stop() {
    lock.withLock { stopping = true }
    wake.signal()
    if thread != nil { finished.wait() }
    thread = nil
  }

  private var shouldStop: Bool { lock.withLock { stopping } }

  private func run(_ store: DaemonStore) {
    while !shouldStop {
      do {
        guard let job = try store.claimJob() else {
          _ = wake.wait(timeout: .now() + .milliseconds(500))
          continue
        }
        do {
          let count = try CheckpointAnalyzer(store: store, log: log, faithfulnessSample: faithfulnessSample).run(job)
          try store.finishJob(job, parameterCount: count)
        } catch let error as RetryableJobError {
          try store.failJob(job, error: error.description, retryable: true)
          log("job \(job.id) (run '\(job.run)' step \(job.step)) will retry: \(error)")
        } catch {
          try store.failJob(job, error: "\(error)", retryable: false)
          log("job \(job.id) (run '\(job.run)' step \(job.step)) failed: \(error)")
        }
      } catch {
        log("job queue error: \(error); retrying in 1 s")
        Thread.sleep(forTimeInterval: 1)
      }
    }
  }
}

/// A job failure worth another attempt (I/O), unlike bad data.
struct RetryableJobError: Error, CustomStringConvertible {
  var description: String
}

import Checkpoints
import Dispatch
import Foundation
import Models

/// Runs queued jobs in order on its own thread with its own database connection, so queries
/// keep being answered while it works. Today's job kind, `verify`, loads the checkpoint with
/// its run's architecture and records the parameter count.
public final class JobWorker: @unchecked Sendable {
  private let directory: URL
  private let wake = DispatchSemaphore(value: 0)
  private let lock = NSLock()
  private var stopping = false
  private var thread: Thread?
  private let finished = DispatchSemaphore(value: 0)
  private let log: @Sendable (String) -> Void

  /// Creates a worker over the store in `directory` (not started).
  public init(directory: URL, log: @escaping @Sendable (String) -> Void) {
    self.directory = directory
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
          let count = try verify(job, store: store)
          try store.finishJob(job, parameterCount: count)
          log("verified run '\(job.run)' step \(job.step): \(count) parameters")
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

  private func verify(_ job: DaemonStore.Job, store: DaemonStore) throws -> Int {
    guard let inputs = try store.jobInputs(job) else {
      throw DaemonError(.unknownRun, "checkpoint row for run '\(job.run)' step \(job.step) is missing")
    }
    let bytes: [UInt8]
    do { bytes = try store.blobs.get(inputs.sha256) } catch {
      throw RetryableJobError(description: "cannot read blob \(inputs.sha256): \(error)")
    }
    let architecture = try Architecture(json: inputs.architecture)
    let checkpoint = try ModelCheckpoint(file: try SafetensorsFile(bytes: bytes), architecture: architecture)
    return checkpoint.network.parameterCount
  }
}

/// A job failure worth another attempt (I/O), unlike bad data.
struct RetryableJobError: Error, CustomStringConvertible {
  var description: String
}

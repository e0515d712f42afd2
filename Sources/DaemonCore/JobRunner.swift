import Checkpoints
import Foundation
import Store

#if canImport(Glibc)
  import Glibc
#endif

/// Runs one claimed job in the current process and records its outcome in the store: done,
/// failed with a reason (bad data), or queued again (an I/O error, while attempts remain).
/// In `i2xd` this runs in a child process per job (`JobProcess`), so nothing a job does can
/// take the daemon down.
enum JobRunner {
  /// What became of a job.
  enum Result: Equatable, Sendable {
    /// The outcome is in the store.
    case recorded
    /// A transient fault (disk full, database busy) stopped the job or the recording of its
    /// outcome; the job should be retried later without using up an attempt.
    case transient(String)
    /// The claim lost the job (its lease ran out): nothing was recorded, and another worker
    /// has it or will.
    case lost(String)
  }

  /// Runs job `jobID` (which must be `running`) against `store`, as claimed with fencing token
  /// `fence` (nil: the job's current one).
  static func run(
    jobID: Int, fence: Int? = nil, store: DaemonStore, settings: AnalysisSettings,
    log: @escaping @Sendable (String) -> Void
  ) -> Result {
    do {
      guard let (found, state) = try store.job(id: jobID), state == "running" else { return .recorded }
      var job = found
      if let fence { job.fence = fence }
      store.heldJob = job
      defer { store.heldJob = nil }
      do {
        let analyzer = CheckpointAnalyzer(
          store: store, log: log, faithfulnessSample: settings.faithfulnessSample,
          faithfulnessEvery: settings.faithfulnessEvery,
          finetuneCooldown: settings.finetuneCooldown, explainer: settings.explainer)
        if job.kind == "explain" {
          try ExplainJob(store: store, settings: settings.explainer, log: log).run(job)
          try store.finishJob(job, parameterCount: nil)
        } else if job.kind == "refresh" {
          try analyzer.refresh(job)
          try store.finishJob(job, parameterCount: nil)
        } else if job.kind == "intervene" {
          try InterventionRunner(analyzer: analyzer).run(job)
          try store.finishJob(job, parameterCount: nil)
        } else {
          try store.finishJob(job, parameterCount: try analyzer.run(job))
        }
      } catch let error as DaemonStore.LostLease {
        return .lost(error.description)
      } catch let error where TransientFault.matches(error) {
        return .transient("\(error)")
      } catch let error as RetryableJobError {
        try store.failJob(job, error: error.description, retryable: true)
        log("job \(job.id) (run '\(job.run)' step \(job.step)) will retry: \(error)")
      } catch {
        try store.failJob(job, error: "\(error)", retryable: false)
        log("job \(job.id) (run '\(job.run)' step \(job.step)) failed: \(error)")
      }
      return .recorded
    } catch let error as DaemonStore.LostLease {
      return .lost(error.description)
    } catch {
      return .transient("cannot record the job's outcome: \(error)")
    }
  }
}

/// Faults that pass without anyone fixing the data: a full disk or a busy database.
enum TransientFault {
  /// Whether `error` is such a fault (SQLITE_FULL/IOERR/BUSY, ENOSPC or EDQUOT in a file write).
  static func matches(_ error: any Error) -> Bool {
    if let database = error as? any TransientClassifying {
      return database.isTransient
    }
    let text = "\(error)"
    return [ENOSPC, EDQUOT].contains { text.contains(String(cString: strerror($0))) }
  }
}

/// A job failure worth another attempt (I/O), unlike bad data.
struct RetryableJobError: Error, CustomStringConvertible {
  var description: String
}

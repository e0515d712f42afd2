import CProcess
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// One analysis job in a child process (`i2xd run-job …`): whatever the job does — trap on a
/// bug, exhaust its memory cap, get killed — the daemon only sees an exit status.
///
/// The child runs `JobRunner`, records the outcome itself and exits 0; it exits
/// `transientExitCode` (75, EX_TEMPFAIL) after a transient fault, with the reason as its last
/// stdout line. It dies with the daemon (`PR_SET_PDEATHSIG`), so an orphan never works on a job
/// that a restarted daemon requeued. The daemon watches it: a child whose resident memory
/// passes `memoryLimit`, or that runs longer than `timeout`, is killed and the job counts a
/// crash. (An address-space cap, `RLIMIT_AS`, was tried first: under it libdispatch could not
/// start threads and spun forever instead of failing.)
struct JobProcess {
  /// Niceness of analysis processes (0 = normal, 19 = lowest): a trainer on the same cores
  /// keeps its speed, and analysis uses what it leaves.
  static let analysisNiceness: Int32 = 10

  /// Exit code of a child stopped by a transient fault (sysexits EX_TEMPFAIL).
  static let transientExitCode: Int32 = 75
  /// The child's exit code when its claim lost the job (`JobRunner.Result.lost`).
  static let lostLeaseExitCode: Int32 = 79

  /// How a child ended.
  enum Ending: Equatable {
    /// Exit 0: the outcome is in the store.
    case recorded
    /// Exit 75: retry later; the reason.
    case transient(String)
    /// Died by a signal or exited with another code; what happened.
    case crashed(String)
    /// Exit 79: the claim lost the job (its lease ran out); nothing was recorded.
    case lost(String)
  }

  /// The daemon executable (this process's own binary).
  let executable: String
  /// The store, passed to the child.
  let location: StoreLocation
  /// Settings passed to the child.
  let settings: AnalysisSettings
  /// Resident-memory cap of the child in bytes.
  let memoryLimit: Int
  /// Longest a job may run, in seconds.
  let timeout: Double

  /// The running child, so `stop` can end it.
  private let child = ChildHandle()

  init(executable: String, location: StoreLocation, settings: AnalysisSettings, memoryLimit: Int, timeout: Double) {
    self.timeout = timeout
    self.executable = executable
    self.location = location
    self.settings = settings
    self.memoryLimit = memoryLimit
  }

  /// The path of the running executable (`/proc/self/exe`).
  static func currentExecutable() -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard count > 0 else { return CommandLine.arguments[0] }
    return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// Runs job `id` in a child and waits for it.
  func run(jobID: Int, fence: Int) -> Ending {
    let arguments =
      [
        executable, "run-job", "--job", String(jobID), "--fence", String(fence), "--parent", String(getpid()),
      ] + location.childArguments + settings.arguments
    var pipeEnds: [Int32] = [0, 0]
    guard pipe(&pipeEnds) == 0 else { return .transient("cannot create a pipe: \(String(cString: strerror(errno)))") }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], STDOUT_FILENO)
    posix_spawn_file_actions_addclose(&actions, pipeEnds[0])
    var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    var pid: pid_t = 0
    // The PostgreSQL URL in the environment of the child only (`StoreLocation.urlVariable`).
    var environment: [UnsafeMutablePointer<CChar>?] = ProcessInfo.processInfo.environment
      .filter { $0.key != StoreLocation.urlVariable }.map { strdup("\($0.key)=\($0.value)") }
    if case .postgreSQL(let url, _) = location { environment.append(strdup("\(StoreLocation.urlVariable)=\(url)")) }
    environment.append(nil)
    defer { for pointer in environment { free(pointer) } }
    let status = posix_spawn(&pid, executable, &actions, nil, &argv, &environment)
    close(pipeEnds[1])
    guard status == 0 else {
      close(pipeEnds[0])
      return .transient("cannot start the analysis process \(executable): \(String(cString: strerror(status)))")
    }
    child.set(pid)
    let (output, killedBecause) = watch(pid, output: pipeEnds[0])
    close(pipeEnds[0])
    var waitStatus: Int32 = 0
    while waitpid(pid, &waitStatus, 0) < 0 && errno == EINTR {}
    child.set(nil)
    let lastLine = output.split(separator: "\n").last.map(String.init) ?? ""
    if let killedBecause { return .crashed(killedBecause) }
    let signal = waitStatus & 0x7F
    if signal != 0 {
      let name = String(cString: strsignal(signal))
      return .crashed(
        signal == SIGKILL
          ? "killed by signal \(signal) (\(name)): out of memory, or stopped by the operator"
          : "signal \(signal) (\(name))")
    }
    let code = (waitStatus >> 8) & 0xFF
    switch code {
    case 0: return .recorded
    case Self.transientExitCode: return .transient(lastLine.isEmpty ? "transient fault" : lastLine)
    case Self.lostLeaseExitCode: return .lost(lastLine)
    default: return .crashed("exit code \(code)\(lastLine.isEmpty ? "" : ": \(lastLine)")")
    }
  }

  /// Ends the running child, if any (daemon shutdown); its job is requeued at the next start.
  func stop() {
    if let pid = child.get() { kill(pid, SIGKILL) }
  }

  /// Reads the child's stdout until it closes, checking its resident memory and run time
  /// every 100 ms; kills it (SIGKILL) past `memoryLimit` or `timeout`.
  /// - Returns: the output's tail, and why the child was killed, if it was.
  private func watch(_ pid: pid_t, output fd: Int32) -> (String, String?) {
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    let started = Date()
    var killedBecause: String?
    while true {
      var item = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      let ready = poll(&item, 1, 100)
      if ready > 0 {
        let n = read(fd, &buffer, buffer.count)
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { break }  // EOF: the child exited
        // Only the tail matters (the reason line); keep memory bounded whatever the child prints.
        bytes += buffer[0..<n]
        if bytes.count > 65536 { bytes.removeFirst(bytes.count - 65536) }
      } else if ready < 0 && errno != EINTR {
        break
      }
      guard killedBecause == nil else { continue }
      if let resident = Self.residentBytes(pid), resident > memoryLimit {
        killedBecause =
          "killed: resident memory \(resident >> 20) MiB passed --job-memory-limit \(memoryLimit >> 20) MiB"
      } else if Date().timeIntervalSince(started) > timeout {
        killedBecause = "killed: ran longer than --job-timeout \(Int(timeout)) s"
      }
      if killedBecause != nil { kill(pid, SIGKILL) }
    }
    return (String(decoding: bytes, as: UTF8.self), killedBecause)
  }

  /// Resident set size of `pid` from `/proc/PID/statm` (pages × page size).
  static func residentBytes(_ pid: pid_t) -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/statm", encoding: .utf8) else { return nil }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
  }

  /// The child side: ties its life to the parent's, runs the job, and returns the exit code.
  static func childMain(
    location: StoreLocation, jobID: Int, fence: Int?, settings: AnalysisSettings, parent: pid_t,
    log: @escaping @Sendable (String) -> Void
  ) -> Int32 {
    _ = i2x_set_parent_death_signal(SIGKILL)
    // Below the trainers that share these cores: analysis keeps up in their idle time
    // (SCHED_IDLE by default; niceness +10 when asked for or where SCHED_IDLE is refused).
    if settings.analysisScheduling != "idle" || i2x_idle_scheduling() != 0 { _ = i2x_lower_priority(analysisNiceness) }
    guard getppid() == parent else { return transientExitCode }  // the daemon died before the line above
    let store: DaemonStore
    do { store = try DaemonStore(location) } catch {
      report("cannot open the store: \(error)")
      return transientExitCode
    }
    switch JobRunner.run(jobID: jobID, fence: fence, store: store, settings: settings, log: log) {
    case .recorded: return 0
    case .transient(let reason):
      report(reason)
      return transientExitCode
    case .lost(let reason):
      report(reason)
      return lostLeaseExitCode
    }
  }

  /// Prints the child's reason for the daemon, which reads the last line of its output: on
  /// one line (a PostgreSQL error spans several: the error, its hint, the statement).
  private static func report(_ reason: String) {
    print(
      reason.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " "))
  }
}

/// The pid of the running child, shared between the worker thread and `stop`.
private final class ChildHandle: @unchecked Sendable {
  private let lock = NSLock()
  private var pid: pid_t?
  func set(_ value: pid_t?) { lock.withLock { pid = value } }
  func get() -> pid_t? { lock.withLock { pid } }
}

#if canImport(Glibc)
  import Glibc
#endif

/// SIGINT and SIGTERM must reach a process: a parent may start it with them blocked (a
/// blocked signal mask is inherited across `fork`/`posix_spawn`, and test runners and some
/// supervisors block them on their threads), and then `kill -TERM` would do nothing at all.
public enum TerminationSignals {
  /// Unblocks SIGINT, SIGTERM and SIGHUP for the calling thread; call first thing in `main`,
  /// before any thread starts, so every thread inherits the mask.
  public static func unblock() {
    var set = sigset_t()
    sigemptyset(&set)
    for signal in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&set, signal) }
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
  }
}

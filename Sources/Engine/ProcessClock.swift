import Glibc

/// CPU time of the current process.
public enum ProcessClock {
  /// CPU seconds this process has used (all threads).
  public static func cpuSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
  }
}

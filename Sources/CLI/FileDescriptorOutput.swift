import Glibc

/// Unbuffered writes to a file descriptor that can never stop the program.
///
/// `FileHandle.write` traps on any error in swift-corelibs-foundation, so `i2xd 2>/dev/full`
/// (ENOSPC) or a closed pipe (EPIPE) would kill the process. Output here is best effort: a
/// partial write is continued, EINTR and EAGAIN are retried, and any other error drops the rest
/// of the text silently (there is nowhere left to report it).
public enum FileDescriptorOutput {
  /// Writes `text` to file descriptor 2.
  /// - Parameter text: The bytes to write, newlines included.
  public static func writeStandardError(_ text: String) {
    write(text, to: STDERR_FILENO)
  }

  /// Writes `text` to file descriptor 1.
  /// - Parameter text: The bytes to write, newlines included.
  public static func writeStandardOutput(_ text: String) {
    write(text, to: STDOUT_FILENO)
  }

  /// Writes all of `text` to `descriptor`, or as much as the descriptor accepts before an error.
  /// - Parameters:
  ///   - text: The bytes to write.
  ///   - descriptor: An open file descriptor.
  /// - Returns: Whether every byte was written.
  @discardableResult
  public static func write(_ text: String, to descriptor: Int32) -> Bool {
    var bytes = Array(text.utf8)
    return bytes.withUnsafeMutableBytes { buffer -> Bool in
      var offset = 0
      var stalls = 0
      while offset < buffer.count {
        let written = Glibc.write(descriptor, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
        if written > 0 {
          offset += written
          stalls = 0
          continue
        }
        let code = written < 0 ? errno : 0
        // EINTR: a signal arrived first; EAGAIN: a non-blocking descriptor is full. Retry both
        // a bounded number of times so a stuck reader cannot hang the program.
        guard code == EINTR || code == EAGAIN, stalls < 1000 else { return false }
        stalls += 1
        if code == EAGAIN { usleep(1000) }
      }
      return true
    }
  }
}

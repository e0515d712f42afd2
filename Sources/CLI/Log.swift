import Foundation
import Synchronization

/// Log and progress lines on stderr, so stdout holds only results.
///
/// Writes go straight to file descriptor 2 (unbuffered, under a lock), so lines appear at once
/// and whole even from several threads. Logging never stops the program: a write that fails
/// (`2>/dev/full`, a closed pipe) is dropped.
/// On a terminal, `progress` rewrites one status line in place; the next `info` ends it.
public enum Log {
  /// Whether a `progress` line is on screen without its newline yet.
  private static let progressLineOpen = Mutex(false)

  /// Whether stderr is a terminal (then progress lines are redrawn in place).
  private static let isTerminal = isatty(STDERR_FILENO) == 1

  /// Writes one line to stderr.
  /// - Parameter line: The text, without a trailing newline.
  public static func write(_ line: String) {
    progressLineOpen.withLock { open in
      emit((open ? "\n" : "") + line + "\n")
      open = false
    }
  }

  /// Writes an informational line to stderr (the same as `write`).
  /// - Parameter message: The text, without a trailing newline.
  public static func info(_ message: String) {
    write(message)
  }

  /// Writes a progress line to stderr: redrawn in place on a terminal, one line per call
  /// otherwise (log files, pipes, tests).
  /// - Parameter message: The status (`epoch 2/5  41%  1830 img/s  ETA 0:12`).
  public static func progress(_ message: String) {
    guard isTerminal else { return write(message) }
    progressLineOpen.withLock { open in
      emit("\r\u{1B}[K" + message)
      open = true
    }
  }

  /// Writes raw text to file descriptor 2; a failed write (full disk, closed pipe) is ignored.
  private static func emit(_ text: String) {
    FileDescriptorOutput.writeStandardError(text)
  }
}

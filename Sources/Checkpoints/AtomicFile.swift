import Foundation

/// Crash-safe file replacement: write a temporary sibling, fsync it, rename over the target,
/// fsync the directory. Readers see the old file or the new one, never a mix.
public enum AtomicFile {
  /// Writes `bytes` to `url` atomically and durably.
  /// - Throws: `SafetensorsError` with rule `io` naming the path and the system error.
  public static func write(_ bytes: [UInt8], to url: URL) throws(SafetensorsError) {
    let directory = url.deletingLastPathComponent().path
    let temporary = "\(directory)/.\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw failure("create", temporary) }
    var written = 0
    while written < bytes.count {
      let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress.map { $0 + written }, bytes.count - written) }
      if n < 0 && errno == EINTR { continue }
      guard n > 0 else {
        let error = failure("write", temporary)
        close(fd)
        unlink(temporary)
        throw error
      }
      written += n
    }
    guard fsync(fd) == 0 else {
      let error = failure("fsync", temporary)
      close(fd)
      unlink(temporary)
      throw error
    }
    close(fd)
    guard rename(temporary, url.path) == 0 else {
      let error = failure("rename to \(url.path)", temporary)
      unlink(temporary)
      throw error
    }
    let directoryFD = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY)
    if directoryFD >= 0 {
      fsync(directoryFD)
      close(directoryFD)
    }
  }

  private static func failure(_ action: String, _ path: String) -> SafetensorsError {
    SafetensorsError(
      .io, tensor: nil,
      "cannot \(action) \(path): \(String(cString: strerror(errno))); check the directory exists and is writable")
  }
}

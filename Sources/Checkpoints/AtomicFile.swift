import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Crash-safe file replacement: write a temporary sibling, fsync it, rename it over the target,
/// fsync the directory. Readers see the old file or the new one, never a mix.
public enum AtomicFile {
  /// Writes `bytes` to `url` atomically and durably.
  /// - Parameters:
  ///   - bytes: The complete new contents.
  ///   - url: The file to create or replace; its directory must exist.
  /// - Throws: `SafetensorsError` with rule `io` naming the path and the system error.
  public static func write(_ bytes: [UInt8], to url: URL) throws(SafetensorsError) {
    let directory = url.deletingLastPathComponent().path
    let suffix = "\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
    let temporary = "\(directory)/.\(url.lastPathComponent).\(suffix)"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw failure("create", temporary) }
    var written = 0
    while written < bytes.count {
      let n = bytes.withUnsafeBytes { raw in
        systemWrite(fd, raw.baseAddress.map { $0 + written }, bytes.count - written)
      }
      if n < 0 && errno == EINTR { continue }
      guard n > 0 else { throw abandon(fd, temporary, failure("write", temporary)) }
      written += n
    }
    guard fsync(fd) == 0 else { throw abandon(fd, temporary, failure("fsync", temporary)) }
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

  private static func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    #if canImport(Glibc)
      return Glibc.write(fd, buffer, count)
    #else
      return Darwin.write(fd, buffer, count)
    #endif
  }

  /// Closes and removes the temporary file, returning `error` to throw.
  private static func abandon(
    _ fd: Int32, _ temporary: String, _ error: SafetensorsError
  ) -> SafetensorsError {
    close(fd)
    unlink(temporary)
    return error
  }

  /// An `io` error for `action` on `path`, with the current `errno` (read before anything else).
  private static func failure(_ action: String, _ path: String) -> SafetensorsError {
    let reason = String(cString: strerror(errno))
    return SafetensorsError(
      .io, tensor: nil,
      "cannot \(action) \(path): \(reason); check that the directory exists, is writable and "
        + "has free space")
  }
}

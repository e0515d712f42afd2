import CLI
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Opening the daemon's data directory at start-up: private permissions, leftovers of killed
/// writes removed, and errors that say what to do.
enum DataDirectory {
  /// Prepares `directory` (created 0700; files the daemon creates are 0600) and opens the
  /// store in it.
  /// - Throws: `DataDirectoryError` (exit 73) naming the path and the fix.
  static func open(_ directory: URL, log: (String) -> Void) throws -> DaemonStore {
    umask(0o077)
    let path = directory.path
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
      guard isDirectory.boolValue else {
        throw DataDirectoryError("--data-dir \(path) is a file, not a directory; pass a directory path")
      }
    } else if mkdir(path, 0o700) != 0 && errno != EEXIST {
      let reason = String(cString: strerror(errno))
      throw DataDirectoryError(
        "cannot create --data-dir \(path): \(reason); choose a writable location or create it first")
    }
    guard access(path, R_OK | W_OK | X_OK) == 0 else {
      throw DataDirectoryError(
        "--data-dir \(path) is not writable by this user (\(String(cString: strerror(errno)))); "
          + "fix its permissions or choose another directory")
    }
    if chmod(path, 0o700) != 0 {
      log("warning: cannot make \(path) private (chmod 700): \(String(cString: strerror(errno)))")
    }
    let removed = removeTemporaryFiles(in: directory.appendingPathComponent("blobs"))
    if removed > 0 { log("removed \(removed) unfinished temporary blob files left by an interrupted write") }
    do { return try DaemonStore(directory: directory) } catch {
      throw DataDirectoryError(
        "cannot open the store in \(path): \(error); check free space and permissions, or move the directory aside")
    }
  }

  /// Deletes `*.tmp` files (temp files of `AtomicFile` writes a kill interrupted) under
  /// `root`; returns how many.
  static func removeTemporaryFiles(in root: URL) -> Int {
    guard let walker = FileManager.default.enumerator(atPath: root.path) else { return 0 }
    var removed = 0
    while let relative = walker.nextObject() as? String {
      guard relative.hasSuffix(".tmp") else { continue }
      if unlink(root.appendingPathComponent(relative).path) == 0 { removed += 1 }
    }
    return removed
  }
}

/// The data directory cannot be created, written or opened: exit 73 (EX_CANTCREAT).
struct DataDirectoryError: Error, CustomStringConvertible, ExitCodeProviding {
  var description: String
  init(_ description: String) { self.description = description }
  var exitCode: ExitCode { .cannotCreate }
}

import CLI
import Foundation
import Store

#if canImport(Glibc)
  import Glibc
#endif

/// Opening the daemon's data directory at start-up: private permissions, leftovers of killed
/// writes removed, and errors that say what to do.
enum DataDirectory {
  /// Opens the store at `location`: `open(_:log:)` for a data directory; for PostgreSQL,
  /// the blob directory (if blobs are not in the database) is created if missing (never cleaned of other daemons' temporary
  /// files: they may be writing them now), then the database is connected and migrated.
  /// - Throws: `DataDirectoryError` (exit 73) for the blob directory, `DaemonStartError`
  ///   (exit 69) for a database that cannot be reached, `UsageError` (exit 64) for a
  ///   `--blob-dir` given or left out against what the store's other daemons do.
  static func open(_ location: StoreLocation, log: (String) -> Void) throws -> DaemonStore {
    switch location {
    case .directory(let directory): return try open(directory, log: log)
    case .postgreSQL(let url, let blobs): return try openShared(url, blobs: blobs)
    }
  }

  private static func openShared(_ url: String, blobs: URL?) throws -> DaemonStore {
    umask(0o077)
    if let blobs {
      do { try FileManager.default.createDirectory(at: blobs, withIntermediateDirectories: true) } catch {
        throw DataDirectoryError("cannot create --blob-dir \(blobs.path): \(error); choose a writable location")
      }
      guard access(blobs.path, R_OK | W_OK | X_OK) == 0 else {
        throw DataDirectoryError(
          "--blob-dir \(blobs.path) is not writable by this user (\(String(cString: strerror(errno)))); "
            + "fix its permissions")
      }
    }
    do { return try DaemonStore(.postgreSQL(url: url, blobs: blobs)) } catch let mismatch
      as DaemonStore.BlobLocationMismatch
    {
      throw UsageError("\(mismatch)", hint: DaemonCommand.spec.hint)
    } catch let mismatch as DaemonStore.BlobDirectoryMismatch {
      throw DaemonStartError("\(mismatch)")
    } catch {
      throw DaemonStartError(
        "cannot open the PostgreSQL store \(PostgreSQLDatabase.redacted(url)): \(error); check that the server runs "
          + "and the URL, user and database are right")
    }
  }

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

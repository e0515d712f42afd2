import Foundation
import Store

/// Where a daemon keeps its store: a data directory (SQLite and blobs, the embedded default),
/// or a PostgreSQL database shared by several daemons, with blobs in a directory they all
/// reach or in the database.
public enum StoreLocation: Sendable, Equatable {
  /// `<directory>/i2x.sqlite` and `<directory>/blobs`.
  case directory(URL)
  /// The database at `url` (`postgresql://…`), blobs in the directory `blobs` (nil: in the
  /// database).
  case postgreSQL(url: String, blobs: URL?)

  /// Environment variable that carries the PostgreSQL URL (which may hold a password) to the
  /// daemon's job processes, instead of their command lines (which any user can read).
  static let urlVariable = "I2X_STORE_URL"

  /// Opens a store here (applying migrations): one per thread.
  public func open() throws -> DaemonStore { try DaemonStore(self) }

  /// For logs and messages: the directory, or the URL without its password and the blobs.
  public var description: String {
    switch self {
    case .directory(let directory): return directory.path
    case .postgreSQL(let url, let blobs):
      return "\(PostgreSQLDatabase.redacted(url)) (blobs in \(blobs?.path ?? "the database"))"
    }
  }

  /// The job process's arguments for this location (the URL goes by `urlVariable`).
  var childArguments: [String] {
    switch self {
    case .directory(let directory): return ["--data-dir", directory.path]
    case .postgreSQL(_, let blobs):
      return ["--store-from-environment", urlVariableName] + (blobs.map { ["--blob-dir", $0.path] } ?? [])
    }
  }

  private var urlVariableName: String { Self.urlVariable }

  /// The location a job process was given (`childArguments`), or nil when incomplete.
  static func child(_ values: [String: String]) -> StoreLocation? {
    if let directory = values["--data-dir"] { return .directory(URL(fileURLWithPath: directory)) }
    guard let variable = values["--store-from-environment"], let url = ProcessInfo.processInfo.environment[variable]
    else { return nil }
    return .postgreSQL(url: url, blobs: values["--blob-dir"].map { URL(fileURLWithPath: $0) })
  }
}

extension DaemonStore {
  /// Opens the store at `location`.
  public convenience init(_ location: StoreLocation) throws {
    switch location {
    case .directory(let directory): try self.init(directory: directory)
    case .postgreSQL(let url, let blobs): try self.init(postgreSQL: url, blobDirectory: blobs)
    }
  }
}

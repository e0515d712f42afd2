import DaemonCore
import Foundation
import PostgreSQLTestSupport
import Synchronization

/// The store the daemon tests run against: the embedded SQLite store in the test's directory,
/// or, with `I2X_TEST_STORE=postgresql`, a fresh database of its own on the tests' PostgreSQL
/// server (blobs in the database; `I2X_TEST_BLOBS=directory` keeps them in the test's
/// directory instead), the same database every time the test opens the same directory. `scripts/test.sh` runs the suite both ways.
enum TestStore {
  static let postgreSQL = ProcessInfo.processInfo.environment["I2X_TEST_STORE"] == "postgresql"
  private static let databases = Mutex<[String: String]>([:])

  static func location(_ directory: URL) throws -> StoreLocation {
    guard postgreSQL else { return .directory(directory) }
    let url = try databases.withLock { known in
      if let url = known[directory.path] { return url }
      let url = try PostgreSQLServer.freshDatabase()
      known[directory.path] = url
      return url
    }
    let inDirectory = ProcessInfo.processInfo.environment["I2X_TEST_BLOBS"] == "directory"
    return .postgreSQL(url: url, blobs: inDirectory ? directory.appendingPathComponent("blobs") : nil)
  }

  static func open(_ directory: URL) throws -> DaemonStore { try DaemonStore(location(directory)) }
}

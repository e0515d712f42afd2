import DaemonCore
import Foundation
import Testing

/// `i2xd`'s shared-store options are checked before anything starts: each mistake is a usage
/// error (exit 64) that names the fix, and nothing binds or connects.
@Suite struct SharedStoreOptionsTests {
  @Test(arguments: [
    ["--role", "worker"],
    ["--role", "leader", "--store", "postgresql://i2x@127.0.0.1:1/i2x"],
    ["--blob-dir", "/tmp/i2x-blobs"],
    ["--worker-name", "w1"],
    ["--store", "mysql://i2x@127.0.0.1/i2x"],
    ["--store", "postgresql://i2x@127.0.0.1:1/i2x", "--worker-name", ""],
    ["--store", "postgresql://i2x@127.0.0.1:1/i2x", "--worker-name", "w\u{7}1"],
    ["--store", "postgresql://i2x@127.0.0.1:1/i2x", "--worker-name", String(repeating: "w", count: 201)],
    ["--store", "postgresql://i2x@127.0.0.1:1/i2x", "--job-lease", "1"],
  ])
  func mistakesAreUsageErrors(_ arguments: [String]) throws {
    let directory = try DaemonFixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let store = arguments.contains("--store") ? [] : ["--data-dir", directory.path]
    #expect(DaemonCommand.main(store + arguments + ["--endpoint", "tcp://127.0.0.1:1"]) == 64, "\(arguments)")
  }
}

import Foundation
import Store

/// A real PostgreSQL server for the tests: Debian's `postgresql` binaries, `initdb` in a
/// temporary directory, listening on a free loopback port, started once per test process.
/// As root it runs as the unprivileged `postgres` user (PostgreSQL refuses to run as root);
/// otherwise as the current user. A watchdog shell holds the server: when this process exits
/// (or dies), the pipe to the watchdog closes and it stops the server, so no server outlives
/// the tests.
public final class PostgreSQLServer: @unchecked Sendable {
  /// The loopback port it listens on.
  public let port: Int
  /// Its temporary directory (data, socket, log).
  public let directory: URL
  private let process: Process
  private let keepAlive: Pipe

  /// The process-wide server (started at first use).
  public static let shared: Result<PostgreSQLServer, Error> = Result { try PostgreSQLServer() }

  /// A connection URL for a fresh database of its own (created here), so tests do not see
  /// each other's tables.
  public static func freshDatabase() throws -> String {
    let server = try shared.get()
    let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    let admin = try PostgreSQLDatabase(url: server.url(database: "postgres"))
    try admin.execute("CREATE DATABASE \(name)")
    return server.url(database: name)
  }

  /// The URL of `database` on this server.
  public func url(database: String) -> String { "postgresql://i2x@127.0.0.1:\(port)/\(database)?connect_timeout=5" }

  /// Starts a server of its own in `directory` (created; default: a fresh temporary one), e.g.
  /// on a small filesystem. It stops, and `directory` is removed, when this object goes.
  public init(directory given: URL? = nil) throws {
    guard let bin = Self.binaries() else {
      throw Failure(
        "PostgreSQL's server binaries are not installed (Debian: apt-get install postgresql; "
          + "scripts/install-prerequisites.sh installs them)")
    }
    let root = geteuid() == 0
    directory =
      given ?? URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("i2x-pg-\(UUID().uuidString)")
    let data = directory.appendingPathComponent("data")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    if root {
      guard let owner = getpwnam("postgres") else { throw Failure("running as root needs the 'postgres' user") }
      chown(directory.path, owner.pointee.pw_uid, owner.pointee.pw_gid)
    }
    port = try Self.freePort()
    let prefix = root ? ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups"] : []
    try Self.run(
      prefix + [
        "\(bin)/initdb", "-D", data.path, "-U", "i2x", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions",
      ])
    // The watchdog: the server in the background; when our end of its stdin closes, stop it.
    let server = [
      "\(bin)/postgres", "-D", data.path, "-k", directory.path, "-p", "\(port)", "-c", "listen_addresses=127.0.0.1",
      "-c", "fsync=off", "-c", "max_connections=100",
    ].map { "'\($0)'" }.joined(separator: " ")
    let script = "\(server) & pid=$!; cat >/dev/null; kill -INT $pid; wait $pid; rm -rf '\(directory.path)'"
    process = Process()
    process.executableURL = URL(fileURLWithPath: root ? "/usr/bin/setpriv" : "/bin/sh")
    process.arguments = (root ? Array(prefix.dropFirst()) + ["/bin/sh"] : []) + ["-c", script]
    keepAlive = Pipe()
    process.standardInput = keepAlive
    let log = directory.appendingPathComponent("server.log")
    _ = FileManager.default.createFile(atPath: log.path, contents: nil)
    process.standardOutput = try FileHandle(forWritingTo: log)
    process.standardError = try FileHandle(forWritingTo: log)
    try process.run()
    let deadline = Date().addingTimeInterval(30)
    while true {
      if (try? PostgreSQLDatabase(url: url(database: "postgres"))) != nil { break }
      guard Date() < deadline, process.isRunning else {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        throw Failure("PostgreSQL did not start on port \(port): \(text.suffix(600))")
      }
      usleep(100_000)
    }
  }

  deinit { try? keepAlive.fileHandleForWriting.close() }

  static func binaries() -> String? {
    let base = "/usr/lib/postgresql"
    let versions = ((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []).compactMap(Int.init).sorted()
    return versions.reversed().map { "\(base)/\($0)/bin" }.first {
      FileManager.default.isExecutableFile(atPath: "\($0)/initdb")
    }
  }

  static func run(_ arguments: [String]) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw Failure("\(arguments.joined(separator: " ")) failed: \(text.suffix(600))")
    }
  }

  /// A loopback port nobody listens on (bound to port 0, then released).
  public static func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
      }
    }
    guard bound else { throw Failure("no free loopback port") }
    return Int(UInt16(bigEndian: address.sin_port))
  }

  struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
  }
}

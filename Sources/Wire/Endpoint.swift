import Glibc

/// ZeroMQ endpoint syntax, checked before any socket exists so a typo is a usage error
/// (exit 64) rather than an unreachable daemon (exit 69).
///
/// Accepted forms:
/// - `tcp://HOST:PORT`: HOST an IPv4 literal, a bracketed IPv6 literal (`[::1]`) or a DNS name;
///   PORT 1–65535. When binding, HOST and PORT may also be `*` (any interface, any free port).
/// - `ipc://PATH`: a non-empty path shorter than 108 bytes (the `sun_path` limit); `*` when binding.
/// - `inproc://NAME`: a non-empty name.
public enum Endpoint {
  /// What the endpoint is for: libzmq accepts different hosts for each.
  public enum Role: Sendable {
    /// A server socket's `bind` (the daemon).
    case bind
    /// A client socket's `connect` (`i2x`, `i2x-train`).
    case connect
  }

  /// Largest `ipc://` path in bytes: `sun_path` holds 108 bytes including the terminating NUL.
  public static let maximumIPCPathBytes = 107

  /// Checks `endpoint` and returns the form to hand to libzmq.
  ///
  /// libzmq resolves DNS names when connecting, but binds only to IP literals or interface
  /// names (`tcp://localhost:7070` fails with "No such device"), so for `.bind` the name
  /// `localhost` becomes `127.0.0.1`. Everything else is returned unchanged.
  /// - Parameters:
  ///   - endpoint: The endpoint as the user typed it.
  ///   - role: Whether it will be bound or connected to.
  /// - Returns: The endpoint for `zmq_bind`/`zmq_connect`.
  /// - Throws: `EndpointError` saying what is wrong with it.
  public static func validate(_ endpoint: String, for role: Role) throws(EndpointError) -> String {
    if let rest = endpoint.dropPrefix("tcp://") { return try tcp(endpoint, rest, role) }
    if let path = endpoint.dropPrefix("ipc://") {
      guard !path.isEmpty else { throw EndpointError(endpoint, "an ipc:// endpoint needs a socket file path") }
      guard path.utf8.count <= maximumIPCPathBytes else {
        throw EndpointError(
          endpoint, "the ipc:// path is \(path.utf8.count) bytes; the limit is \(maximumIPCPathBytes) (sun_path)",
          hint: "use a shorter path, e.g. ipc:///tmp/i2x.sock")
      }
      guard path != "*" || role == .bind else {
        throw EndpointError(endpoint, "'*' (any path) is only meaningful when binding")
      }
      return endpoint
    }
    if let name = endpoint.dropPrefix("inproc://") {
      guard !name.isEmpty else { throw EndpointError(endpoint, "an inproc:// endpoint needs a name") }
      return endpoint
    }
    throw EndpointError(endpoint, "not a ZeroMQ endpoint (the transport must be tcp://, ipc:// or inproc://)")
  }

  private static func tcp(_ endpoint: String, _ address: String, _ role: Role) throws(EndpointError) -> String {
    guard let colon = address.lastIndex(of: ":") else {
      throw EndpointError(endpoint, "a tcp:// endpoint needs a port: tcp://HOST:PORT")
    }
    let host = String(address[..<colon])
    let port = String(address[address.index(after: colon)...])
    if port == "*" {
      guard role == .bind else { throw EndpointError(endpoint, "port '*' (any free port) is only valid when binding") }
    } else {
      guard let number = Int(port), (1...65535).contains(number), port.allSatisfy(\.isASCII) else {
        throw EndpointError(endpoint, "port '\(port)' is not a TCP port number 1–65535")
      }
    }
    if host == "*" {
      guard role == .bind else {
        throw EndpointError(endpoint, "host '*' (every interface) is only valid when binding")
      }
      return endpoint
    }
    if host.hasPrefix("[") {
      guard host.hasSuffix("]"), host.count > 2, isIPv6(String(host.dropFirst().dropLast())) else {
        throw EndpointError(endpoint, "'\(host)' is not a bracketed IPv6 address such as [::1]")
      }
      return endpoint
    }
    if isIPv4(host) { return endpoint }
    if looksLikeIPv4(host) { throw EndpointError(endpoint, "'\(host)' is not an IPv4 address (four numbers 0–255)") }
    guard isDNSName(host) else {
      throw EndpointError(endpoint, "'\(host)' is not an IPv4 address, a bracketed IPv6 address or a host name")
    }
    if role == .bind && host.lowercased() == "localhost" { return "tcp://127.0.0.1:\(port)" }
    return endpoint
  }

  private static func isIPv4(_ host: String) -> Bool {
    var address = in_addr()
    return host.allSatisfy { $0.isASCII && ($0.isNumber || $0 == ".") } && host.split(separator: ".").count == 4
      && inet_pton(AF_INET, host, &address) == 1
  }

  private static func looksLikeIPv4(_ host: String) -> Bool {
    !host.isEmpty && host.allSatisfy { $0.isASCII && ($0.isNumber || $0 == ".") }
  }

  private static func isIPv6(_ host: String) -> Bool {
    var address = in6_addr()
    return inet_pton(AF_INET6, host, &address) == 1
  }

  /// RFC 1123 host name: dot-separated labels of letters, digits and hyphens, 1–63 bytes each,
  /// not starting or ending with a hyphen; at most 253 bytes.
  private static func isDNSName(_ host: String) -> Bool {
    guard !host.isEmpty, host.utf8.count <= 253 else { return false }
    let labels =
      host.hasSuffix(".")
      ? host.dropLast().split(separator: ".", omittingEmptySubsequences: false)
      : host.split(separator: ".", omittingEmptySubsequences: false)
    return labels.allSatisfy { label in
      (1...63).contains(label.utf8.count) && label.first != "-" && label.last != "-"
        && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
    }
  }
}

/// An endpoint that cannot work, found before any socket was made.
public struct EndpointError: Error, CustomStringConvertible, Equatable {
  /// The endpoint as given.
  public var endpoint: String
  /// What is wrong with it.
  public var problem: String
  /// What to do about it.
  public var hint: String

  /// Creates an error.
  /// - Parameters:
  ///   - endpoint: The endpoint as given.
  ///   - problem: What is wrong with it.
  ///   - hint: What to do; by default the accepted forms with an example.
  public init(
    _ endpoint: String, _ problem: String,
    hint: String = "write tcp://HOST:PORT (e.g. tcp://127.0.0.1:7070), ipc://PATH or inproc://NAME"
  ) {
    self.endpoint = endpoint
    self.problem = problem
    self.hint = hint
  }

  /// `invalid endpoint 'X': problem`.
  public var description: String { "invalid endpoint '\(endpoint)': \(problem)" }
}

extension String {
  /// The rest of the string after `prefix`, or nil if it does not start with it.
  fileprivate func dropPrefix(_ prefix: String) -> String? {
    hasPrefix(prefix) ? String(dropFirst(prefix.count)) : nil
  }
}

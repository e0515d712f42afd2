import Foundation

/// Request/reply over a REQ socket with the Lazy Pirate pattern: wait at most `timeout` for a
/// reply; on a timeout close the socket, reopen it and resend, up to `attempts` times.
/// Owned by one thread.
public final class RequestClient {
  /// Where the daemon listens: one endpoint, or a comma-separated list of daemons sharing one
  /// store (frontends of a PostgreSQL store), tried in turn: after a failed send or a missed
  /// reply the next request, or the next attempt, goes to the next one.
  public let endpoint: String
  private let endpoints: [String]
  private var current = 0
  /// Milliseconds to wait for each reply.
  public var timeoutMilliseconds: Int
  /// Sends before giving up.
  public var attempts: Int
  private let options: SocketOptions
  private var socket: ZMQSocket?

  /// Creates a client (connects lazily).
  public init(
    endpoint: String, timeoutMilliseconds: Int = 5000, attempts: Int = 3, options: SocketOptions = SocketOptions()
  ) {
    self.endpoint = endpoint
    endpoints = endpoint.split(separator: ",").map(String.init)
    self.timeoutMilliseconds = timeoutMilliseconds
    self.attempts = attempts
    self.options = options
  }

  /// Sends `message` and returns the reply.
  /// - Throws: `DaemonUnreachable` after `attempts` timeouts; `WireError` for a reply that is
  ///   not a valid message; `ZMQError` for a bad endpoint.
  public func request(_ message: WireMessage) throws -> WireMessage {
    for attempt in 1...max(1, attempts) {
      let socket = try connected()
      do {
        try socket.send(message.frames)
      } catch {
        failOver()
        if attempt == attempts { throw DaemonUnreachable(endpoint: endpoint, reason: "\(error)") }
        continue
      }
      if let frames = try socket.receive(timeoutMilliseconds: timeoutMilliseconds) {
        return try WireMessage(frames: frames)
      }
      failOver()  // Lazy Pirate: a REQ socket that missed its reply is unusable; start afresh.
    }
    throw DaemonUnreachable(
      endpoint: endpoint, reason: "no reply within \(timeoutMilliseconds) ms, \(attempts) attempts")
  }

  /// Closes the socket.
  public func close() { reset() }

  private func connected() throws -> ZMQSocket {
    if let socket { return socket }
    let fresh = try ZMQSocket(.request, options: options)
    try fresh.connect(endpoints.isEmpty ? endpoint : endpoints[current % endpoints.count])
    socket = fresh
    return fresh
  }

  private func reset() {
    socket?.close()
    socket = nil
  }

  /// Drops the socket and moves on to the next endpoint of the list.
  private func failOver() {
    reset()
    current += 1
  }
}

/// No daemon answered at `endpoint`.
public struct DaemonUnreachable: Error, CustomStringConvertible {
  /// The endpoint tried.
  public var endpoint: String
  /// What happened.
  public var reason: String

  public var description: String {
    "no i2x daemon answered at \(endpoint) (\(reason)); start one with 'i2xd --endpoint \(endpoint)' or pass --endpoint"
  }
}

import Foundation
import Wire

/// The daemon's side of its endpoint: receive a request, send its reply. Conformers: the
/// ZeroMQ ROUTER socket and an in-memory twin for tests.
public protocol ServerSocket: AnyObject {
  /// The next request (routing envelope + message frames), or nil after `timeoutMilliseconds`.
  func receive(timeoutMilliseconds: Int) throws -> (envelope: [[UInt8]], frames: [[UInt8]])?
  /// Sends `frames` back along `envelope`.
  func send(envelope: [[UInt8]], frames: [[UInt8]]) throws
}

/// A ZeroMQ ROUTER endpoint. Owned by the server thread.
public final class RouterServerSocket: ServerSocket {
  let socket: ZMQSocket
  /// The bound endpoint (with the real port for `tcp://…:*`).
  public let endpoint: String

  /// Binds a ROUTER socket.
  public init(endpoint: String, options: SocketOptions) throws {
    socket = try ZMQSocket(.router, options: options)
    try socket.bind(endpoint)
    self.endpoint = try socket.boundEndpoint()
  }

  public func receive(timeoutMilliseconds: Int) throws -> (envelope: [[UInt8]], frames: [[UInt8]])? {
    guard let frames = try socket.receive(timeoutMilliseconds: timeoutMilliseconds) else { return nil }
    // REQ peers: [identity, "", message…]; DEALER peers: [identity, message…].
    let split = frames.count > 1 && frames[1].isEmpty ? 2 : 1
    return (Array(frames.prefix(split)), Array(frames.dropFirst(split)))
  }

  public func send(envelope: [[UInt8]], frames: [[UInt8]]) throws {
    try socket.send(envelope + frames)
  }

  /// Closes the socket.
  public func close() { socket.close() }
}

/// In-memory twin of the endpoint: tests push requests and read replies, no sockets.
public final class InMemoryServerSocket: ServerSocket, @unchecked Sendable {
  private let lock = NSLock()
  private var requests: [(Int, [[UInt8]])] = []
  private var replies: [Int: [[UInt8]]] = [:]
  private var nextID = 0

  /// Creates an empty twin.
  public init() {}

  /// Queues a request; returns its ticket.
  public func push(_ frames: [[UInt8]]) -> Int {
    lock.withLock {
      nextID += 1
      requests.append((nextID, frames))
      return nextID
    }
  }

  /// The reply to `ticket`, if sent.
  public func reply(_ ticket: Int) -> [[UInt8]]? { lock.withLock { replies[ticket] } }

  public func receive(timeoutMilliseconds: Int) throws -> (envelope: [[UInt8]], frames: [[UInt8]])? {
    lock.withLock {
      guard !requests.isEmpty else { return nil }
      let (id, frames) = requests.removeFirst()
      return ([Array(String(id).utf8)], frames)
    }
  }

  public func send(envelope: [[UInt8]], frames: [[UInt8]]) throws {
    lock.withLock {
      if let id = Int(String(decoding: envelope.first ?? [], as: UTF8.self)) { replies[id] = frames }
    }
  }
}

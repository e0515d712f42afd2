import Foundation
import Wire

/// The request loop: receive, handle, reply — on the thread that owns the socket — until
/// asked to stop. A request being handled is always finished (and its write committed)
/// before the loop checks for shutdown.
public final class DaemonServer {
  let socket: any ServerSocket
  let handler: RequestHandler
  /// Requests served so far.
  public private(set) var served = 0

  /// Creates a server.
  public init(socket: any ServerSocket, handler: RequestHandler) {
    self.socket = socket
    self.handler = handler
  }

  /// Serves until `shouldStop()` is true (checked at least every `pollMilliseconds`).
  public func run(pollMilliseconds: Int = 100, until shouldStop: () -> Bool) {
    while !shouldStop() {
      serveOne(timeoutMilliseconds: pollMilliseconds)
    }
  }

  /// Serves at most one request. Returns whether one was served.
  @discardableResult
  public func serveOne(timeoutMilliseconds: Int) -> Bool {
    do {
      guard let request = try socket.receive(timeoutMilliseconds: timeoutMilliseconds) else { return false }
      let reply = handler.handle(request.frames)
      served += 1
      try socket.send(envelope: request.envelope, frames: reply.frames)
      return true
    } catch {
      handler.log("endpoint error: \(error)")
      return false
    }
  }
}

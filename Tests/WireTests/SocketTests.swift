import Foundation
import Testing
import Wire

/// Real ZeroMQ sockets on loopback.
@Suite struct SocketTests {
  @Test func requestReplyOverLoopback() throws {
    // The server socket lives on its own thread, as the daemon's does.
    let bound = EndpointBox()
    let serverThread = Thread {
      guard let server = try? ZMQSocket(.router) else { return bound.set(nil) }
      defer { server.close() }
      guard (try? server.bind("tcp://127.0.0.1:*")) != nil else { return bound.set(nil) }
      bound.set(try? server.boundEndpoint())
      if let frames = try? server.receive(timeoutMilliseconds: 5000) {
        let envelope = Array(frames.prefix(2))
        try? server.send(envelope + WireMessage(type: .reply, headerBytes: Array(#"{"ok":true}"#.utf8)).frames)
      }
      Thread.sleep(forTimeInterval: 0.1)
    }
    serverThread.start()
    let endpoint = try #require(bound.wait())
    let client = RequestClient(endpoint: endpoint, timeoutMilliseconds: 2000, attempts: 1)
    defer { client.close() }
    let reply = try client.request(try WireMessage(type: .query, header: QueryHeader(query: "status")))
    #expect(reply.type == .reply)
    #expect(String(decoding: reply.header, as: UTF8.self) == #"{"ok":true}"#)
  }

  @Test func unreachableDaemonTimesOutWithAClearError() throws {
    let client = RequestClient(endpoint: "tcp://127.0.0.1:9", timeoutMilliseconds: 100, attempts: 2)
    defer { client.close() }
    #expect {
      try client.request(try WireMessage(type: .query, header: QueryHeader(query: "status")))
    } throws: { error in
      (error as? DaemonUnreachable)?.description.contains("2 attempts") == true
    }
  }

  @Test func badEndpointIsAnError() throws {
    let socket = try ZMQSocket(.router)
    #expect(throws: ZMQError.self) { try socket.bind("nonsense://x") }
  }
}

/// Hands the server thread's bound endpoint to the test.
final class EndpointBox: @unchecked Sendable {
  private let ready = DispatchSemaphore(value: 0)
  private var value: String?
  func set(_ endpoint: String?) {
    value = endpoint
    ready.signal()
  }
  func wait() -> String? {
    ready.wait()
    return value
  }
}

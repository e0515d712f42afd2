import Checkpoints
import DaemonCore
import Foundation
import Models
import Store
import Testing
import Wire

/// The daemon's logic through its in-memory twin: no sockets, a real SQLite file.
@Suite final class RequestHandlerTests {
  let directory: URL
  let handler: RequestHandler

  init() throws {
    directory = try DaemonFixtures.temporaryDirectory()
    handler = RequestHandler(store: try TestStore.open(directory), log: { _ in })
  }

  /// Each test's store lives in its own temporary directory, removed after the test.
  deinit { try? FileManager.default.removeItem(at: directory) }

  func send(_ message: WireMessage) -> WireMessage { handler.handle(message.frames) }

  @Test func registrationIsIdempotentAndConflictsAreRefused() throws {
    #expect(send(try DaemonFixtures.register()).outcome == "registered")
    #expect(send(try DaemonFixtures.register()).outcome == "duplicate")
    let other = try #require(Architecture.reference("smallcnn-bn"))
    #expect(send(try DaemonFixtures.register(architecture: other)).outcome == "error:conflict")
  }

  @Test func checkpointsAreStoredOnceDuplicatesAckedConflictsRefused() throws {
    _ = send(try DaemonFixtures.register())
    let bytes = try DaemonFixtures.checkpointBytes(seed: 1)
    #expect(send(try DaemonFixtures.checkpoint(step: 10, bytes: bytes)).outcome == "stored")
    #expect(send(try DaemonFixtures.checkpoint(step: 10, bytes: bytes)).outcome == "duplicate")
    let other = try DaemonFixtures.checkpointBytes(seed: 2)
    #expect(send(try DaemonFixtures.checkpoint(step: 10, bytes: other)).outcome == "error:conflict")
    // Durable and visible to a fresh connection, with its blob on disk.
    let reopened = try TestStore.open(directory)
    let rows = try reopened.checkpoints(run: "r1")
    #expect(rows.map(\.step) == [10])
    #expect(rows.first?.sha256 == SHA256.hex(bytes))
    #expect(try reopened.blobs.get(SHA256.hex(bytes)) == bytes)
    #expect(try reopened.jobCounts()["queued"] == 1)
  }

  @Test func unknownRunIsAClearError() throws {
    let reply = send(
      try DaemonFixtures.checkpoint(run: "ghost", step: 1, bytes: try DaemonFixtures.checkpointBytes(seed: 1)))
    #expect(reply.outcome == "error:unknown-run")
    #expect(try reply.decode(ErrorHeader.self).message.contains("ghost"))
    let query = send(try WireMessage(type: .query, header: QueryHeader(query: "checkpoints", run: "ghost")))
    #expect(query.outcome == "error:unknown-run")
  }

  @Test func damagedOrMalformedPayloadsAreBadData() throws {
    _ = send(try DaemonFixtures.register())
    let bytes = try DaemonFixtures.checkpointBytes(seed: 1)
    #expect(
      send(try DaemonFixtures.checkpoint(step: 1, bytes: bytes, sha256: String(repeating: "0", count: 64))).outcome
        == "error:bad-data")
    #expect(send(try DaemonFixtures.checkpoint(step: 2, bytes: Array(bytes.prefix(100)))).outcome == "error:bad-data")
    var hostile = bytes
    hostile[0] = 0xFF
    hostile[7] = 0x7F  // header length ≈ 9e18
    let reply = send(try DaemonFixtures.checkpoint(step: 3, bytes: hostile))
    #expect(reply.outcome == "error:bad-data")
    #expect(try reply.decode(ErrorHeader.self).message.contains("header"))
    #expect(try TestStore.open(directory).checkpoints(run: "r1").isEmpty)
  }

  @Test func protocolViolationsGetErrorReplies() throws {
    let header = Array(#"{"query":"status"}"#.utf8)
    #expect(handler.handle([[0x49, 0x32, 0x58, 0x01, 0x63], header]).outcome == "error:unknown-type")
    #expect(handler.handle([[0x49, 0x32, 0x58, 0x09, 0x05], header]).outcome == "error:unsupported-version")
    #expect(handler.handle([[0x49, 0x32, 0x58, 0x01, 0x05], Array("{oops".utf8)]).outcome == "error:bad-data")
    #expect(handler.handle([[1, 2, 3]]).outcome == "error:bad-data")
    #expect(handler.handle([]).outcome == "error:bad-data")
    #expect(send(WireMessage(type: .ack, headerBytes: Array("{}".utf8))).outcome == "error:unknown-type")
    #expect(
      send(try WireMessage(type: .query, header: QueryHeader(query: "everything"))).outcome == "error:unknown-query")
    let missing = send(WireMessage(type: .checkpoint, headerBytes: Array(#"{"run":"r1"}"#.utf8), payload: []))
    #expect(missing.outcome == "error:bad-data")
  }

  @Test func badProbeSetsAreRefused() throws {
    let payload = try SafetensorsFile(tensors: [
      "images": TensorRecord(floats: [0], shape: [1, 1, 1, 1]), "labels": TensorRecord(int64s: [0], shape: [1]),
    ]).serialized()
    let header = RegisterRunHeader(
      run: "bad", architecture: DaemonFixtures.architecture.json(), classes: (0..<10).map(String.init),
      sha256: SHA256.hex(payload))
    let reply = send(try WireMessage(type: .registerRun, header: header, payload: payload))
    #expect(reply.outcome == "error:bad-data")
    #expect(try reply.decode(ErrorHeader.self).message.contains("U8"))
  }

  @Test func statusAndListingQueries() throws {
    _ = send(try DaemonFixtures.register())
    _ = send(try DaemonFixtures.checkpoint(step: 5, bytes: try DaemonFixtures.checkpointBytes(seed: 1)))
    let status = send(try WireMessage(type: .query, header: QueryHeader(query: "status")))
    let object = try #require(try JSONSerialization.jsonObject(with: Data(status.header)) as? [String: Any])
    #expect(object["schema_version"] as? Int == 2)
    #expect(object["runs"] as? Int == 1)
    #expect(object["queue_depth"] as? Int == 1)
    let listing = send(try WireMessage(type: .query, header: QueryHeader(query: "checkpoints", run: "r1")))
    let rows = try #require(
      (try JSONSerialization.jsonObject(with: Data(listing.header)) as? [String: Any])?["checkpoints"]
        as? [[String: Any]])
    #expect(rows.count == 1 && rows[0]["step"] as? Int == 5 && rows[0]["job"] as? String == "queued")
  }

  @Test func serverLoopOverTheInMemoryTwin() throws {
    let socket = InMemoryServerSocket()
    let server = DaemonServer(socket: socket, handler: handler)
    let ticket = socket.push(try DaemonFixtures.register().frames)
    let junk = socket.push([[0]])
    #expect(server.serveOne(timeoutMilliseconds: 0))
    #expect(server.serveOne(timeoutMilliseconds: 0))
    #expect(!server.serveOne(timeoutMilliseconds: 0))
    #expect(try WireMessage(frames: try #require(socket.reply(ticket))).outcome == "registered")
    #expect(try WireMessage(frames: try #require(socket.reply(junk))).outcome == "error:bad-data")
  }
}

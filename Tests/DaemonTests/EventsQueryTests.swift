import DaemonCore
import Foundation
import Testing
import Wire

/// The `events` query through the in-memory twin: checkpoints stored over the wire appear as
/// events, in cursor order, a page at a time with `more`, and an unknown run is refused.
@Suite struct EventsQueryTests {
  struct EventsHeader: Encodable {
    var query = "events"
    var run: String
    var after: Int?
    var limit: Int?
  }

  func events(_ handler: RequestHandler, run: String = "r1", after: Int? = nil, limit: Int? = nil) throws -> (
    reply: WireMessage, answer: [String: Any]
  ) {
    let reply = handler.handle(
      try WireMessage(type: .query, header: EventsHeader(run: run, after: after, limit: limit)).frames)
    let answer = (try? JSONSerialization.jsonObject(with: Data(reply.header))) as? [String: Any] ?? [:]
    return (reply, answer)
  }

  @Test func pagesThroughAStoredRunsEvents() throws {
    let directory = try DaemonFixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let handler = RequestHandler(store: try TestStore.open(directory), log: { _ in })
    _ = handler.handle(try DaemonFixtures.register().frames)
    for step in [10, 20, 30] {
      let bytes = try DaemonFixtures.checkpointBytes(seed: UInt64(step))
      _ = handler.handle(try DaemonFixtures.checkpoint(step: step, bytes: bytes).frames)
    }
    // Two per page: steps 10 and 20 with more to come, then 30 and nothing more.
    let first = try events(handler, limit: 2).answer
    let page = first["events"] as? [[String: Any]] ?? []
    #expect(page.map { $0["kind"] as? String } == ["checkpoint", "checkpoint"])
    #expect(page.map { $0["step"] as? Int } == [10, 20])
    #expect(first["more"] as? Bool == true)
    let cursor = try #require(first["cursor"] as? Int)
    #expect(cursor == page.last?["id"] as? Int)
    let second = try events(handler, after: cursor, limit: 2).answer
    #expect((second["events"] as? [[String: Any]] ?? []).map { $0["step"] as? Int } == [30])
    #expect(second["more"] as? Bool == false)
    // Past the end: no events, the cursor stays.
    let last = try #require(second["cursor"] as? Int)
    let empty = try events(handler, after: last).answer
    #expect((empty["events"] as? [Any])?.isEmpty == true && empty["cursor"] as? Int == last)
    #expect(try events(handler, run: "ghost").reply.outcome == "error:unknown-run")
  }
}

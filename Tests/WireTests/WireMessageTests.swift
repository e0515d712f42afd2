import Foundation
import Testing
import Wire

@Suite struct WireMessageTests {
  static let samples: [WireMessage] = {
    let messages: [WireMessage?] = [
      try? WireMessage(
        type: .registerRun, header: RegisterRunHeader(run: "r", architecture: "{}", classes: ["a", "b"], sha256: "00"),
        payload: [1, 2, 3]),
      try? WireMessage(
        type: .checkpoint, header: CheckpointHeader(run: "r", step: 7, epoch: 1, sha256: "ab", metrics: ["loss": 0.5]),
        payload: [9]),
      try? WireMessage(
        type: .ack,
        header: AckHeader(
          status: "stored", run: "r", step: 7, sha256: "ab",
          directives: [Directive(id: 1, kind: "fine-tune", payload: "{}")])),
      try? WireMessage(type: .error, header: ErrorHeader(code: "bad-data", message: "no")),
      try? WireMessage(type: .query, header: QueryHeader(query: "checkpoints", run: "r")),
      WireMessage(type: .reply, headerBytes: Array(#"{"schema_version":1}"#.utf8)),
      try? WireMessage(
        type: .directiveStatus,
        header: DirectiveStatusHeader(
          run: "r", directive: 3, key: "r/k", state: "done", reason: nil, metrics: ["removed": 12])),
      try? WireMessage(
        type: .command, header: CommandHeader(command: "finetune", run: "r", pair: ["Shirt", "Coat"], prototypes: [4])),
    ]
    return messages.compactMap { $0 }
  }()

  @Test func everyMessageTypeRoundTrips() throws {
    #expect(Self.samples.count == MessageType.allCases.count)
    for message in Self.samples {
      #expect(try WireMessage(frames: message.frames) == message)
    }
    let checkpoint = try WireMessage(frames: Self.samples[1].frames)
    #expect(
      try checkpoint.decode(CheckpointHeader.self)
        == CheckpointHeader(run: "r", step: 7, epoch: 1, sha256: "ab", metrics: ["loss": 0.5]))
  }

  /// Frame 1 is 'I' '2' 'X' (49 32 58), version 1, type 2 (checkpoint); frame 2 is the
  /// key-sorted JSON header; frame 3 the payload. A format change must fail this test.
  @Test func checkpointGoldenBytes() throws {
    let message = try WireMessage(
      type: .checkpoint, header: CheckpointHeader(run: "demo", step: 3, epoch: 1, sha256: "ff"), payload: [0xAA])
    #expect(message.frames[0] == [0x49, 0x32, 0x58, 0x01, 0x02])
    #expect(
      String(decoding: message.frames[1], as: UTF8.self)
        == #"{"epoch":1,"metrics":{},"run":"demo","sha256":"ff","step":3}"#)
    #expect(message.frames[2] == [0xAA])
  }

  /// Type 7 (directive-status): key-sorted header, no payload; nil reasons are omitted.
  @Test func directiveStatusGoldenBytes() throws {
    let message = try WireMessage(
      type: .directiveStatus,
      header: DirectiveStatusHeader(run: "r", directive: 3, key: "r/k", state: "running", metrics: ["removed": 2]))
    #expect(message.frames[0] == [0x49, 0x32, 0x58, 0x01, 0x07])
    #expect(
      String(decoding: message.frames[1], as: UTF8.self)
        == #"{"directive":3,"key":"r/k","metrics":{"removed":2},"run":"r","state":"running"}"#)
    #expect(message.frames.count == 2)
  }

  @Test func queryGoldenBytes() throws {
    let message = try WireMessage(type: .query, header: QueryHeader(query: "status"))
    #expect(message.frames == [[0x49, 0x32, 0x58, 0x01, 0x05], Array(#"{"query":"status"}"#.utf8)])
  }

  @Test func malformedFramesAreRejectedWithTheirRule() {
    func kind(_ frames: [[UInt8]]) -> WireError.Kind? {
      do {
        _ = try WireMessage(frames: frames)
        return nil
      } catch { return error.kind }
    }
    let header = Array("{}".utf8)
    #expect(kind([[0x49, 0x32, 0x58]]) == .malformedFrame)
    #expect(kind([[0x49, 0x32], header]) == .malformedFrame)
    #expect(kind([[0x49, 0x32, 0x58, 0x02, 0x05], header]) == .unsupportedVersion)
    #expect(kind([[0x49, 0x32, 0x58, 0x01, 0x63], header]) == .unknownType)
    #expect(kind([[0x49, 0x32, 0x58, 0x01, 0x05], Array("{not json".utf8)]) == .invalidHeader)
    #expect(kind([[0x49, 0x32, 0x58, 0x01, 0x05], Array("[1]".utf8)]) == .invalidHeader)
    #expect(kind([[0x49, 0x32, 0x58, 0x01, 0x05], header, [], []]) == .malformedFrame)
  }

  @Test func headerDecodingNamesTheMissingField() throws {
    let message = WireMessage(
      type: .checkpoint, headerBytes: Array(#"{"run":"r","epoch":1,"sha256":"x","metrics":{}}"#.utf8))
    #expect { try message.decode(CheckpointHeader.self) } throws: {
      ($0 as? WireError)?.message.contains("'step'") == true
    }
  }
}

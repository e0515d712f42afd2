import Checkpoints
import Foundation
import Glibc
import Testing
import Wire

/// Malformed and hostile requests against the real daemon: each gets an error (or, when too
/// large, a disconnect) and the daemon keeps answering.
@Suite(.serialized) struct HostileInputTests {
  func send(_ frames: [[UInt8]], to daemon: DaemonUnderTest, timeout: Int = 2000) throws -> WireMessage {
    // A raw REQ socket, so frames the codec would never produce can be sent.
    let socket = try ZMQSocket(.request)
    defer { socket.close() }
    try socket.connect(daemon.endpoint)
    try socket.send(frames)
    guard let reply = try socket.receive(timeoutMilliseconds: timeout) else { throw E2EError("no reply") }
    return try WireMessage(frames: reply)
  }

  func errorCode(_ reply: WireMessage) -> String? {
    reply.type == .error ? (try? reply.decode(ErrorHeader.self))?.code : nil
  }

  @Test func everyHostileInputGetsAnErrorAndTheDaemonSurvives() throws {
    let daemon = try DaemonUnderTest(extraArguments: ["--max-message-size", "200000"])
    try daemon.start()
    // A registered run, so checkpoint payloads reach the safetensors validation.
    let probe = try SafetensorsFile(tensors: [
      "images": TensorRecord(bytes: [UInt8](repeating: 0, count: 784), shape: [1, 1, 28, 28]),
      "labels": TensorRecord(int64s: [0], shape: [1]),
    ]).serialized()
    let architecture =
      #"{"classes":10,"format":"i2x.architecture/1","input":[1,28,28],"layers":[{"in":1,"kernel":3,"kind":"conv2d","name":"conv1","out":4,"padding":1},{"kind":"relu","name":"relu1"},{"kind":"gap","name":"gap"},{"in":4,"kind":"linear","name":"fc","out":10}],"name":"tiny","target":"relu1"}"#
    let register = try WireMessage(
      type: .registerRun,
      header: RegisterRunHeader(
        run: "h", architecture: architecture, classes: (0..<10).map(String.init), sha256: SHA256.hex(probe)),
      payload: probe)
    #expect(try send(register.frames, to: daemon).type == .ack)

    let good = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
    func file(_ header: String, _ data: [UInt8], claimed: UInt64? = nil) -> [UInt8] {
      var out: [UInt8] = []
      withUnsafeBytes(of: (claimed ?? UInt64(header.utf8.count)).littleEndian) { out.append(contentsOf: $0) }
      return out + Array(header.utf8) + data
    }
    let eight = [UInt8](repeating: 0, count: 8)
    let malformed: [(String, [UInt8])] = [
      ("short", [1, 2, 3]),
      ("truncated", file(good, [0, 0, 0, 0])),
      ("header past end", file(good, eight, claimed: 10_000)),
      ("header over cap", file(good, eight, claimed: UInt64(Int64.max))),
      ("not utf8", file(good, eight).enumerated().map { $0.offset == 10 ? 0xFF : $0.element }),
      ("invalid json", file("{nope", [])),
      ("unknown dtype", file(#"{"w":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}"#, eight)),
      ("out of bounds", file(#"{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}"#, eight)),
      (
        "overlap",
        file(
          #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
          eight)
      ),
      ("byte count", file(#"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, eight)),
      (
        "duplicate",
        file(
          #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
          eight)
      ),
    ]
    for (index, (name, payload)) in malformed.enumerated() {
      let message = try WireMessage(
        type: .checkpoint, header: CheckpointHeader(run: "h", step: index, epoch: 0, sha256: SHA256.hex(payload)),
        payload: payload)
      #expect(errorCode(try send(message.frames, to: daemon)) == "bad-data", "\(name)")
    }
    let header = Array(#"{"query":"status"}"#.utf8)
    #expect(errorCode(try send([[0x49, 0x32]], to: daemon)) == "bad-data")  // truncated frame
    #expect(errorCode(try send([[0x49, 0x32, 0x58, 0x01, 0x63], header], to: daemon)) == "unknown-type")
    #expect(errorCode(try send([[0x49, 0x32, 0x58, 0x07, 0x05], header], to: daemon)) == "unsupported-version")
    #expect(errorCode(try send([[0x49, 0x32, 0x58, 0x01, 0x05], Array("{oops".utf8)], to: daemon)) == "bad-data")
    // Over --max-message-size: libzmq drops the connection; no reply, nothing allocated.
    let oversize = [UInt8](repeating: 1, count: 300_000)
    #expect(throws: E2EError.self) {
      try send([[0x49, 0x32, 0x58, 0x01, 0x02], Array("{}".utf8), oversize], to: daemon, timeout: 500)
    }
    // Still alive and answering.
    #expect(daemon.process?.isRunning == true)
    #expect(try daemon.query("status")["runs"] as? Int == 1)
    #expect(try daemon.storedCheckpoints(run: "h").isEmpty)
    daemon.kill(SIGTERM)
    #expect(daemon.process?.process.terminationStatus == 0)
  }

  @Test func fourClientsQueryingDuringIngestionNeverSeeErrors() throws {
    let daemon = try DaemonUnderTest()
    try daemon.start()
    let out = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: out) }
    let trainer = try RunningProcess(
      "i2x-train", trainingArguments(out: out, endpoint: daemon.endpoint, run: "busy"),
      log: out.appendingPathComponent("train.log"))
    let results = QueryTally()
    let group = DispatchGroup()
    for client in 0..<4 {
      group.enter()
      Thread {
        defer { group.leave() }
        let queries = ["status", "runs", "checkpoints"]
        var index = client
        while trainer.isRunning {
          let name = queries[index % 3]
          index += 1
          do {
            _ = try daemon.query(name, run: name == "checkpoints" ? "busy" : nil, timeout: 5000)
            results.record(nil)
          } catch {
            // The run may not be registered yet for the very first checkpoints queries.
            if !"\(error)".contains("unknown-run") && !"\(error)".contains("no run named") {
              results.record("\(error)")
            }
          }
        }
      }.start()
    }
    #expect(trainer.wait() == 0)
    group.wait()
    #expect(results.failures.isEmpty, "\(results.failures.prefix(3))")
    #expect(results.successes > 20)
    #expect(try daemon.storedCheckpoints(run: "busy").count == 21)
  }
}

/// Thread-safe tally of query outcomes.
final class QueryTally: @unchecked Sendable {
  private let lock = NSLock()
  private(set) var successes = 0
  private(set) var failures: [String] = []
  func record(_ failure: String?) {
    lock.withLock {
      if let failure { failures.append(failure) } else { successes += 1 }
    }
  }
}

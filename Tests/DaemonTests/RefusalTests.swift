import Checkpoints
import DaemonCore
import Foundation
import Models
import Store
import Testing
import Wire

/// What the daemon refuses before acking: checkpoints its run could never load, hostile run
/// names, oversized probe sets. Each refusal is `bad-data` with a reason, and stores nothing.
@Suite final class RefusalTests {
  let directory: URL
  let handler: RequestHandler

  init() throws {
    directory = try DaemonFixtures.temporaryDirectory()
    handler = RequestHandler(store: try TestStore.open(directory), log: { _ in })
    _ = handler.handle(try DaemonFixtures.register().frames)
  }

  /// Each test's store lives in its own temporary directory, removed after the test.
  deinit { try? FileManager.default.removeItem(at: directory) }

  func reply(_ message: WireMessage) throws -> (outcome: String, message: String) {
    let reply = try WireMessage(frames: handler.handle(message.frames).frames)
    return (reply.outcome, (try? reply.decode(ErrorHeader.self))?.message ?? "")
  }

  /// The valid checkpoint's tensors, edited.
  func edited(_ edit: (inout [String: TensorRecord]) throws -> Void) throws -> [UInt8] {
    let file = try SafetensorsFile(bytes: try DaemonFixtures.checkpointBytes(seed: 1))
    var tensors = file.tensors
    try edit(&tensors)
    return try SafetensorsFile(tensors: tensors, metadata: file.metadata).serialized()
  }

  @Test func checkpointsTheRunCannotLoadAreRefused() throws {
    let cases: [(String, [UInt8], String)] = [
      ("empty file", try SafetensorsFile(tensors: [:]).serialized(), "conv1.weight"),
      (
        "NaN weight",
        try edited { t in
          var values = try t["fc.weight"]!.floats()
          values[3] = .nan
          t["fc.weight"] = TensorRecord(floats: values, shape: [10, 64])
        }, "non-finite"
      ),
      (
        "infinite bias",
        try edited { t in t["fc.bias"] = TensorRecord(floats: [Float](repeating: .infinity, count: 10), shape: [10]) },
        "non-finite"
      ),
      (
        "transposed",
        try edited { t in t["fc.weight"] = TensorRecord(floats: try t["fc.weight"]!.floats(), shape: [64, 10]) },
        "fc.weight"
      ),
      ("missing tensor", try edited { t in t["conv2.bias"] = nil }, "conv2.bias"),
      ("extra tensor", try edited { t in t["extra.weight"] = TensorRecord(floats: [1], shape: [1]) }, "extra.weight"),
    ]
    for (step, (name, bytes, reason)) in cases.enumerated() {
      let answer = try reply(try DaemonFixtures.checkpoint(step: step + 1, bytes: bytes))
      #expect(answer.outcome == "error:bad-data", "\(name)")
      #expect(answer.message.contains(reason), "\(name): \(answer.message)")
    }
    #expect(try TestStore.open(directory).checkpoints(run: "r1").isEmpty, "nothing refused is stored")
    let good = try reply(try DaemonFixtures.checkpoint(step: 99, bytes: try DaemonFixtures.checkpointBytes(seed: 1)))
    #expect(good.outcome == "stored")
  }

  @Test func runNamesWithControlCharactersOrTooManyBytesAreRefused() throws {
    let bytes = try DaemonFixtures.checkpointBytes(seed: 1)
    for name in ["r1\0evil", "r1\nINFO forged", "tab\there", "bell\u{7}", String(repeating: "x", count: 201)] {
      #expect(try reply(try DaemonFixtures.register(run: name)).outcome == "error:bad-data", "\(name.debugDescription)")
      #expect(try reply(try DaemonFixtures.checkpoint(run: name, step: 1, bytes: bytes)).outcome == "error:bad-data")
    }
    // 10 kB of combining marks is one Character but 20,000 bytes: counted in bytes, refused.
    let marks = "a" + String(repeating: "\u{301}", count: 5000)
    #expect(marks.count == 1)
    #expect(try reply(try DaemonFixtures.register(run: marks)).message.contains("bytes"))
    // 200 bytes of multi-byte text is fine.
    #expect(try reply(try DaemonFixtures.register(run: String(repeating: "é", count: 100))).outcome == "registered")
    #expect(
      try TestStore.open(directory).runs().map(\.name).sorted() == ["r1", String(repeating: "é", count: 100)])
  }

  /// smallcnn's target conv3 output is 64×7×7 = 3,136 elements; two probe images hold 6,272
  /// elements = 25,088 bytes.
  /// Text with a NUL character in a request: SQLite stores and compares it whole, PostgreSQL
  /// cannot hold it. Either way the reply names the request's fault, never an internal error
  /// to retry (the wire fuzzer on PostgreSQL found `run: "\u0000"` answered `internal`).
  @Test func textWithANulCharacterIsTheRequestsFault() throws {
    let query = try reply(try WireMessage(type: .query, header: QueryHeader(query: "checkpoints", run: "r1\0evil")))
    let classes = (0..<10).map { "c\($0)\0" }
    let payload = try DaemonFixtures.probe()
    let register = try reply(
      try WireMessage(
        type: .registerRun,
        header: RegisterRunHeader(
          run: "nul", architecture: DaemonFixtures.architecture.json(), classes: classes, sha256: SHA256.hex(payload)),
        payload: payload))
    if TestStore.postgreSQL {
      #expect(query.outcome == "error:bad-data" && query.message.contains("NUL character"), "\(query)")
    } else {
      #expect(query.outcome == "error:unknown-run", "\(query)")
    }
    // Class names are stored as JSON, which escapes the NUL: both stores take them.
    #expect(register.outcome == "registered", "\(register)")
  }

  @Test func probeImagesTimesTargetSizeIsCapped() throws {
    handler.limits.maximumAnalysisBytes = 25_087
    let answer = try reply(try DaemonFixtures.register(run: "wide"))
    #expect(answer.outcome == "error:bad-data")
    #expect(answer.message.contains("--max-analysis-bytes"))
    handler.limits.maximumAnalysisBytes = 25_088
    #expect(try reply(try DaemonFixtures.register(run: "wide")).outcome == "registered")
  }

  @Test func theProbeSetIsCapped() throws {
    handler.limits.maximumProbeImages = 1
    let answer = try reply(try DaemonFixtures.register(run: "big"))  // two probe images
    #expect(answer.outcome == "error:bad-data")
    #expect(answer.message.contains("--max-probe-images"))
  }
}

/// Text is bound with its byte length: a NUL inside a value survives a round trip.
@Suite struct TextBindingTests {
  @Test func embeddedNulRoundTrips() throws {
    let directory = try DaemonFixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let database = try SQLiteDatabase(path: directory.appendingPathComponent("t.sqlite").path)
    try database.execute("CREATE TABLE t (v TEXT)")
    try database.execute("INSERT INTO t VALUES (?)", [.text("victim\0evil")])
    #expect(try database.query("SELECT v, length(CAST(v AS BLOB)) FROM t").first?[0].string == "victim\0evil")
    #expect(try database.query("SELECT 1 FROM t WHERE v = ?", [.text("victim")]).isEmpty)
  }
}

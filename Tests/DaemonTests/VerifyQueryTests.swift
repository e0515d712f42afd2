import Checkpoints
import DaemonCore
import Engine
import Foundation
import Models
import Testing
import Wire

/// The `verify` query: the run's architecture on sent weights and images, logits back.
@Suite final class VerifyQueryTests {
  let directory: URL
  let handler: RequestHandler

  init() throws {
    directory = try DaemonFixtures.temporaryDirectory()
    handler = RequestHandler(store: try TestStore.open(directory), log: { _ in })
  }

  /// Each test's store lives in its own temporary directory, removed after the test.
  deinit { try? FileManager.default.removeItem(at: directory) }

  /// input [1,2,2] → relu (target) → flatten → fc 4→2.
  static let tiny = Architecture(
    name: "tiny", input: [1, 2, 2], classes: 2, target: "r",
    layers: [
      LayerSpec(kind: "relu", name: "r"), LayerSpec(kind: "flatten", name: "f"),
      LayerSpec(kind: "linear", name: "fc", inputs: 4, outputs: 2),
    ])

  func register(_ architecture: Architecture, input: [Int], classes: Int) throws {
    let payload = try SafetensorsFile(tensors: [
      "images": TensorRecord(bytes: [UInt8](repeating: 1, count: input.reduce(1, *)), shape: [1] + input),
      "labels": TensorRecord(int64s: [0], shape: [1]),
    ]).serialized()
    let header = RegisterRunHeader(
      run: "r1", architecture: architecture.json(), classes: (0..<classes).map { "c\($0)" },
      sha256: SHA256.hex(payload))
    let reply = handler.handle(try WireMessage(type: .registerRun, header: header, payload: payload).frames)
    #expect(reply.outcome == "registered")
  }

  func verify(_ tensors: [String: TensorRecord], run: String = "r1") throws -> WireMessage {
    let payload = try SafetensorsFile(tensors: tensors).serialized()
    return handler.handle(
      try WireMessage(type: .query, header: QueryHeader(query: "verify", run: run), payload: payload).frames)
  }

  func logits(_ reply: WireMessage) throws -> [[Double]] {
    let json = try #require(try JSONSerialization.jsonObject(with: Data(reply.header)) as? [String: Any])
    return try #require(json["logits"] as? [[Double]])
  }

  @Test func logitsAreTheArchitectureOnTheSentWeights() throws {
    try register(Self.tiny, input: [1, 2, 2], classes: 2)
    // x = [1, −2, 3, 4] → ReLU → [1, 0, 3, 4]; W = [[1,0,0,0],[0,0,1,1]], b = [0.5, −1]
    // → logits [1·1 + 0.5, 3 + 4 − 1] = [1.5, 6]; the second image (all −1) → ReLU 0 → b.
    let reply = try verify([
      "fc.weight": TensorRecord(floats: [1, 0, 0, 0, 0, 0, 1, 1], shape: [2, 4]),
      "fc.bias": TensorRecord(floats: [0.5, -1], shape: [2]),
      RequestHandler.verifyImagesTensor: TensorRecord(floats: [1, -2, 3, 4, -1, -1, -1, -1], shape: [2, 1, 2, 2]),
    ])
    #expect(reply.type == .reply)
    #expect(try logits(reply) == [[1.5, 6], [0.5, -1]])
  }

  @Test func smallCNNLogitsMatchAForwardPass() throws {
    let architecture = DaemonFixtures.architecture
    try register(architecture, input: [1, 28, 28], classes: 10)
    let network = try architecture.build(seed: 5)
    var generator = SplitMix64(seed: 9)
    let images = (0..<(3 * 784)).map { _ in Float.random(in: -1..<1, using: &generator) }
    var tensors = StateDict.export(network)
    tensors[RequestHandler.verifyImagesTensor] = TensorRecord(floats: images, shape: [3, 1, 28, 28])
    let expected = network.forward(.init(shape: [3, 1, 28, 28], scalars: images), training: false).logits.scalars
    let rows = try logits(try verify(tensors))
    #expect(rows.count == 3 && rows.allSatisfy { $0.count == 10 })
    #expect(zip(rows.flatMap { $0 }, expected).allSatisfy { abs($0 - Double($1)) <= 1e-6 })
  }

  @Test func refusalsNameTheProblem() throws {
    try register(Self.tiny, input: [1, 2, 2], classes: 2)
    let weights = [
      "fc.weight": TensorRecord(floats: [Float](repeating: 0, count: 8), shape: [2, 4]),
      "fc.bias": TensorRecord(floats: [0, 0], shape: [2]),
    ]
    func message(_ reply: WireMessage) -> String { (try? reply.decode(ErrorHeader.self).message) ?? "" }
    let missing = try verify(weights)
    #expect(missing.outcome == "error:bad-data" && message(missing).contains(RequestHandler.verifyImagesTensor))
    var tooMany = weights
    tooMany[RequestHandler.verifyImagesTensor] = TensorRecord(
      floats: [Float](repeating: 0, count: 65 * 4), shape: [65, 1, 2, 2])
    let many = try verify(tooMany)
    #expect(many.outcome == "error:bad-data" && message(many).contains("64"))
    var wrongShape = weights
    wrongShape["fc.weight"] = TensorRecord(floats: [Float](repeating: 0, count: 6), shape: [2, 3])
    wrongShape[RequestHandler.verifyImagesTensor] = TensorRecord(floats: [0, 0, 0, 0], shape: [1, 1, 2, 2])
    let shape = try verify(wrongShape)
    #expect(shape.outcome == "error:bad-data" && message(shape).contains("fc.weight"))
    var ghost = weights
    ghost[RequestHandler.verifyImagesTensor] = TensorRecord(floats: [0, 0, 0, 0], shape: [1, 1, 2, 2])
    #expect(try verify(ghost, run: "ghost").outcome == "error:unknown-run")
    let empty = handler.handle(try WireMessage(type: .query, header: QueryHeader(query: "verify", run: "r1")).frames)
    #expect(empty.outcome == "error:bad-data")
  }
}

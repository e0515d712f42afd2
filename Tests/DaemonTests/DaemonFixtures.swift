import Checkpoints
import DaemonCore
import Engine
import Foundation
import Models
import Wire

/// Builds valid and hostile requests for the daemon's handler.
enum DaemonFixtures {
  static let architecture = Architecture.reference("smallcnn")!

  static func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("i2xd-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }

  static func probe(count: Int = 2) throws -> [UInt8] {
    try SafetensorsFile(tensors: [
      "images": TensorRecord(bytes: [UInt8](repeating: 7, count: count * 784), shape: [count, 1, 28, 28]),
      "labels": TensorRecord(int64s: (0..<count).map { Int64($0 % 10) }, shape: [count]),
    ]).serialized()
  }

  static func register(run: String = "r1", architecture: Architecture = architecture, probes: Int = 2) throws
    -> WireMessage
  {
    let payload = try probe(count: probes)
    let header = RegisterRunHeader(
      run: run, architecture: architecture.json(), classes: (0..<10).map { "c\($0)" }, sha256: SHA256.hex(payload))
    return try WireMessage(type: .registerRun, header: header, payload: payload)
  }

  static func checkpointBytes(seed: UInt64) throws -> [UInt8] {
    let network = try architecture.build(seed: seed)
    return try ModelCheckpoint(
      architecture: architecture, network: network, metadata: CheckpointMetadata(run: "r1", step: 1)
    ).file.serialized()
  }

  static func checkpoint(run: String = "r1", step: Int, bytes: [UInt8], sha256: String? = nil) throws -> WireMessage {
    let header = CheckpointHeader(
      run: run, step: step, epoch: 0, sha256: sha256 ?? SHA256.hex(bytes), metrics: ["loss": 1.5])
    return try WireMessage(type: .checkpoint, header: header, payload: bytes)
  }
}

extension WireMessage {
  /// The error code of an error reply, or the ack status of an ack.
  var outcome: String {
    switch type {
    case .error: return "error:" + ((try? decode(ErrorHeader.self))?.code ?? "?")
    case .ack: return (try? decode(AckHeader.self))?.status ?? "?"
    default: return "\(type)"
    }
  }
}

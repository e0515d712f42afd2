import Checkpoints
import Foundation
import Wire

/// A small run built by hand: conv2d 1→`channels` 3×3 (padding 1) at 28×28, ReLU (the target
/// layer), global average pooling and a linear layer to 10 classes. Small enough that a
/// thousand of its messages take a second, real enough that the daemon analyses it.
struct HandBuiltRun {
  var name: String
  var channels = 4
  var probeImages = 10

  static let classes = (0..<10).map { "class-\($0)" }

  /// The architecture JSON (`i2x.architecture/1`).
  var architecture: String {
    Self.architecture(layers: [
      #"{"in":1,"kernel":3,"kind":"conv2d","name":"conv1","out":\#(channels),"padding":1}"#,
      #"{"kind":"relu","name":"relu1"}"#, #"{"kind":"gap","name":"gap"}"#,
      #"{"in":\#(channels),"kind":"linear","name":"fc","out":10}"#,
    ])
  }

  /// An architecture JSON around `layers` (each a JSON object), 10 classes, 1×28×28 input.
  static func architecture(layers: [String], classes: Int = 10, target: String = "relu1") -> String {
    #"{"classes":\#(classes),"format":"i2x.architecture/1","input":[1,28,28],"layers":[\#(layers.joined(separator: ","))],"name":"hand-built","target":"\#(target)"}"#
  }

  /// The probe set: `probeImages` seeded U8 images with labels cycling through the classes.
  var probe: [UInt8] {
    var generator = SeededGenerator(seed: 7)
    let pixels = (0..<(probeImages * 784)).map { _ in UInt8.random(in: 0...255, using: &generator) }
    // Safe: the tensors are built with matching shapes.
    return
      (try? SafetensorsFile(tensors: [
        "images": TensorRecord(bytes: pixels, shape: [probeImages, 1, 28, 28]),
        "labels": TensorRecord(int64s: (0..<probeImages).map { Int64($0 % 10) }, shape: [probeImages]),
      ]).serialized()) ?? []
  }

  /// The tensors of a checkpoint with seeded weights (different for every `seed`).
  func tensors(seed: UInt64) -> [String: TensorRecord] {
    var generator = SeededGenerator(seed: seed)
    func values(_ count: Int) -> [Float] { (0..<count).map { _ in Float.random(in: -0.3...0.3, using: &generator) } }
    return [
      "conv1.weight": TensorRecord(floats: values(channels * 9), shape: [channels, 1, 3, 3]),
      "conv1.bias": TensorRecord(floats: values(channels), shape: [channels]),
      "fc.weight": TensorRecord(floats: values(10 * channels), shape: [10, channels]),
      "fc.bias": TensorRecord(floats: values(10), shape: [10]),
    ]
  }

  /// A checkpoint file's bytes.
  func checkpoint(seed: UInt64, editing edit: (inout [String: TensorRecord]) -> Void = { _ in }) -> [UInt8] {
    var tensors = tensors(seed: seed)
    edit(&tensors)
    return (try? SafetensorsFile(tensors: tensors).serialized()) ?? []
  }

  /// The `register-run` message.
  func registerMessage(name: String? = nil, architecture: String? = nil, probe: [UInt8]? = nil) throws
    -> WireMessage
  {
    let payload = probe ?? self.probe
    return try WireMessage(
      type: .registerRun,
      header: RegisterRunHeader(
        run: name ?? self.name, architecture: architecture ?? self.architecture, classes: Self.classes,
        sha256: SHA256.hex(payload)),
      payload: payload)
  }

  /// A `checkpoint` message carrying `payload` for `step`.
  func checkpointMessage(step: Int, payload: [UInt8]) throws -> WireMessage {
    try WireMessage(
      type: .checkpoint,
      header: CheckpointHeader(run: name, step: step, epoch: 0, sha256: SHA256.hex(payload), metrics: ["loss": 1]),
      payload: payload)
  }
}

/// A safetensors file from a raw header string and data, with the 8-byte length prefix
/// (`claimed` overrides the length).
func rawSafetensors(header: String, data: [UInt8] = [], claimed: UInt64? = nil) -> [UInt8] {
  var out: [UInt8] = []
  out.reserveCapacity(8 + header.utf8.count + data.count)
  withUnsafeBytes(of: (claimed ?? UInt64(header.utf8.count)).littleEndian) { out.append(contentsOf: $0) }
  out.append(contentsOf: header.utf8)
  out.append(contentsOf: data)
  return out
}

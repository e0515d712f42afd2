import Checkpoints
import Engine
import Foundation
import Models
import Testing

@Suite struct ModelCheckpointTests {
  func trainedBN() throws -> ModelCheckpoint {
    let architecture = try #require(Architecture.reference("smallcnn-bn"))
    let network = try architecture.build(seed: 4)
    var generator = SplitMix64(seed: 77)
    // One training forward moves the BatchNorm running statistics away from their defaults.
    _ = network.forward(Tensor.uniform(shape: [4, 1, 28, 28], bound: 1, using: &generator), training: true)
    return ModelCheckpoint(
      architecture: architecture, network: network,
      metadata: CheckpointMetadata(run: "r1", step: 12, epoch: 1, classes: ["a", "b"], metrics: ["loss": 0.5]))
  }

  @Test func roundTripKeepsWeightsBuffersAndMetadata() throws {
    let original = try trainedBN()
    let bytes = try original.file.serialized()
    let loaded = try ModelCheckpoint(file: try SafetensorsFile(bytes: bytes))
    #expect(loaded.architecture == original.architecture)
    #expect(loaded.metadata == original.metadata)
    let input = Tensor(shape: [2, 1, 28, 28], repeating: 0.5)
    #expect(
      loaded.network.forward(input, training: false).logits == original.network.forward(input, training: false).logits)
    let tracked = try SafetensorsFile(bytes: bytes).tensor("bn1.num_batches_tracked")
    #expect(tracked.dtype == .i64)
    #expect(try tracked.int64s() == [1])
  }

  @Test func missingArchitectureAsksForArch() throws {
    var file = try trainedBN().file
    file.metadata = [:]
    #expect(throws: ModelCheckpointError.missingArchitecture) { try ModelCheckpoint(file: file) }
    #expect(throws: ModelCheckpointError.unknownArchitecture("resnet")) {
      try ModelCheckpoint(file: file, architectureName: "resnet")
    }
  }

  @Test func wrongShapeNamesTheTensor() throws {
    var file = try trainedBN().file
    file.tensors["conv2.weight"] = TensorRecord(floats: [Float](repeating: 0, count: 10), shape: [10])
    #expect {
      try ModelCheckpoint(file: file)
    } throws: { error in
      (error as? StateDictError)?.tensor == "conv2.weight"
    }
  }

  @Test func missingAndUnexpectedTensorsAreErrors() throws {
    var missing = try trainedBN().file
    missing.tensors["fc.bias"] = nil
    #expect { try ModelCheckpoint(file: missing) } throws: { ($0 as? StateDictError)?.tensor == "fc.bias" }
    var extra = try trainedBN().file
    extra.tensors["head.weight"] = TensorRecord(floats: [1], shape: [1])
    #expect { try ModelCheckpoint(file: extra) } throws: { ($0 as? StateDictError)?.tensor == "head.weight" }
  }

  @Test func nonFiniteWeightsAreRejected() throws {
    var file = try trainedBN().file
    var values = try file.tensor("fc.bias").floats()
    values[3] = .nan
    file.tensors["fc.bias"] = TensorRecord(floats: values, shape: [10])
    #expect {
      try ModelCheckpoint(file: file)
    } throws: { error in
      let e = error as? StateDictError
      return e?.tensor == "fc.bias" && e?.message.contains("non-finite") == true
    }
  }

  @Test func fixtureLoadsWithArchOverride() throws {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("shared/fixtures/smallcnn-fmnist/model.safetensors")
    let checkpoint = try ModelCheckpoint(contentsOf: url, architectureName: "smallcnn")
    #expect(checkpoint.network.parameterCount == 23946)
    #expect(throws: StateDictError.self) { try ModelCheckpoint(contentsOf: url, architectureName: "smallcnn-bn") }
  }
}

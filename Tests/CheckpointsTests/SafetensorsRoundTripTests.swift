import Checkpoints
import Foundation
import Testing

@Suite struct SafetensorsRoundTripTests {
  @Test func writesAndReadsF32I64U8WithMetadata() throws {
    let file = SafetensorsFile(
      tensors: [
        "conv1.weight": TensorRecord(floats: [1.5, -2, 0, .infinity], shape: [2, 2]),
        "labels": TensorRecord(int64s: [0, -7, 1 << 40], shape: [3]),
        "images": TensorRecord(bytes: [0, 128, 255], shape: [1, 3]),
        "empty": TensorRecord(floats: [], shape: [0, 4]),
      ],
      metadata: ["i2x.run": "demo \"quoted\"\n", "unicode": "Ünïcode ✓"])
    let parsed = try SafetensorsFile(bytes: try file.serialized())
    #expect(parsed == file)
    #expect(try parsed.tensor("conv1.weight").floats() == [1.5, -2, 0, .infinity])
    #expect(try parsed.tensor("labels").int64s() == [0, -7, 1 << 40])
    #expect(try parsed.tensor("images").uint8s() == [0, 128, 255])
  }

  /// Golden bytes: one F32 tensor "a" of shape [1] holding 1.0, no metadata.
  /// Header `{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}` is 54 bytes, padded with
  /// two spaces to 56 = 0x38 (little-endian length); 1.0f = 0x3F800000 → 00 00 80 3F.
  @Test func serializesGoldenBytes() throws {
    let bytes = try SafetensorsFile(tensors: ["a": TensorRecord(floats: [1], shape: [1])]).serialized()
    let header = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
    #expect(header.utf8.count == 54)
    let expected: [UInt8] =
      [0x38, 0, 0, 0, 0, 0, 0, 0] + Array(header.utf8) + [0x20, 0x20] + [0x00, 0x00, 0x80, 0x3F]
    #expect(bytes == expected)
  }

  @Test func headerIsPaddedWithSpacesToEightBytes() throws {
    let bytes = try SafetensorsFile(tensors: ["ab": TensorRecord(floats: [1], shape: [1])]).serialized()
    let length = Int(bytes[0])
    #expect(length % 8 == 0)
    #expect(bytes[8 + length - 1] == 0x20)
  }

  /// F16: 0x3C00 = 1, 0xC000 = −2, 0x7C00 = +∞, 0x0001 = 2⁻²⁴ (smallest subnormal).
  /// BF16: 0x3F80 = 1, 0xC040 = −3. I32: −5.
  @Test func readsHalfBFloatAndInt32() throws {
    let header = """
      {"h":{"dtype":"F16","shape":[4],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[8,12]},\
      "i":{"dtype":"I32","shape":[1],"data_offsets":[12,16]}}
      """
    let data: [UInt8] = [
      0x00, 0x3C, 0x00, 0xC0, 0x00, 0x7C, 0x01, 0x00, 0x80, 0x3F, 0x40, 0xC0, 0xFB, 0xFF, 0xFF, 0xFF,
    ]
    let file = try SafetensorsFile(bytes: safetensorsBytes(header: header, data: data))
    #expect(try file.tensor("h").floats() == [1, -2, .infinity, 0x1p-24])
    #expect(try file.tensor("b").floats() == [1, -3])
    #expect(try file.tensor("i").int64s() == [-5])
    #expect(try file.tensor("i").floats() == [-5])
  }

  @Test func refusesToWriteF16() {
    let file = SafetensorsFile(tensors: ["h": TensorRecord(dtype: .f16, shape: [1], data: [0, 0x3C])])
    #expect(throws: SafetensorsError.self) { try file.serialized() }
  }

  @Test func readsThePyTorchFixtureModel() throws {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("shared/fixtures/smallcnn-fmnist/model.safetensors")
    let file = try SafetensorsFile(contentsOf: url)
    let weight = try file.tensor("conv1.weight")
    #expect(weight.shape == [16, 1, 3, 3])
    #expect(try weight.floats().count == 144)
    #expect(try weight.floats().allSatisfy(\.isFinite))
    #expect(file.metadata["architecture"] == "SmallCNN")
  }

  @Test func atomicWriteReplacesTheFileAndLeavesNoTemporary() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("st-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("x.safetensors")
    try SafetensorsFile(tensors: ["a": TensorRecord(floats: [1], shape: [1])]).write(to: url)
    try SafetensorsFile(tensors: ["a": TensorRecord(floats: [2], shape: [1])]).write(to: url)
    #expect(try SafetensorsFile(contentsOf: url).tensor("a").floats() == [2])
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["x.safetensors"])
  }

  @Test func missingTensorErrorListsWhatExists() throws {
    let file = SafetensorsFile(tensors: ["conv1.weight": TensorRecord(floats: [1], shape: [1])])
    #expect {
      try file.tensor("fc.weight")
    } throws: { error in
      let e = error as? SafetensorsError
      return e?.rule == .missingTensor && e?.tensor == "fc.weight" && e?.message.contains("conv1.weight") == true
    }
  }
}

import Checkpoints
import Foundation
import Testing

/// The writer: round trips, golden bytes, the layout rules, atomic writes and lookups.
@Suite struct SafetensorsRoundTripTests {
  @Test func writesAndReadsF32I64U8WithMetadata() throws {
    let file = SafetensorsFile(
      tensors: [
        "conv1.weight": TensorRecord(
          floats: [1.5, -2, 0, .infinity, -0.0, 0x1p-149], shape: [2, 3]),
        "labels": TensorRecord(int64s: [0, -7, 1 << 40, .min, .max], shape: [5]),
        "images": TensorRecord(bytes: [0, 128, 255], shape: [1, 3]),
        "empty": TensorRecord(floats: [], shape: [0, 4]),
        "scalar": TensorRecord(floats: [3], shape: []),
        "naïve \"name\"\n": TensorRecord(bytes: [1], shape: [1]),
      ],
      metadata: ["i2x.run": "demo \"quoted\"\n\u{1}", "unicode": "Ünïcode ✓ 𝄞", "": ""])
    let parsed = try SafetensorsFile(bytes: try file.serialized())
    #expect(parsed == file)
    let weights = try parsed.tensor("conv1.weight").floats()
    let expected: [Float] = [1.5, -2, 0, .infinity, -0.0, 0x1p-149]
    #expect(weights.map(\.bitPattern) == expected.map(\.bitPattern))
    #expect(try parsed.tensor("labels").int64s() == [0, -7, 1 << 40, .min, .max])
    #expect(try parsed.tensor("images").uint8s() == [0, 128, 255])
    #expect(try parsed["empty"].shape == [0, 4])
    #expect(parsed.metadata["unicode"] == "Ünïcode ✓ 𝄞")
  }

  /// An empty file is `{}` padded to 8 bytes, and reads back empty.
  @Test func writesAndReadsAnEmptyFile() throws {
    let bytes = try SafetensorsFile().serialized()
    #expect(bytes == [8, 0, 0, 0, 0, 0, 0, 0] + Array("{}      ".utf8))
    #expect(try SafetensorsFile(bytes: bytes) == SafetensorsFile())
  }

  /// One F32 tensor "a" of shape [1] holding 1.0, no metadata.
  /// Header `{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}` is 54 bytes, padded with
  /// two spaces to 56 = 0x38 (the little-endian length); 1.0f = 0x3F80_0000 → 00 00 80 3F.
  @Test func serializesGoldenBytesOfOneTensor() throws {
    let bytes = try SafetensorsFile(tensors: ["a": TensorRecord(floats: [1], shape: [1])])
      .serialized()
    let header = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
    #expect(header.utf8.count == 54)
    let expected: [UInt8] =
      [0x38, 0, 0, 0, 0, 0, 0, 0] + Array(header.utf8) + [0x20, 0x20] + [0x00, 0x00, 0x80, 0x3F]
    #expect(bytes == expected)
  }

  /// Metadata {"k": "v"}, U8 "a" = [7, 9] and I64 "b" = [2], given out of order.
  /// Header pieces: `{"__metadata__":{"k":"v"},` = 1 + 14 + 1 + 9 + 1 = 26 bytes;
  /// `"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},` = 52;
  /// `"b":{"dtype":"I64","shape":[1],"data_offsets":[2,10]}` = 53; `}` = 1. Total 132,
  /// padded with 4 spaces to 136 = 0x88. Data: a = 07 09, then b = 2 as 8 little-endian bytes
  /// (names sorted, contiguous, no alignment padding).
  @Test func serializesGoldenBytesWithMetadataSortedByName() throws {
    let file = SafetensorsFile(
      tensors: [
        "b": TensorRecord(int64s: [2], shape: [1]),
        "a": TensorRecord(bytes: [7, 9], shape: [2]),
      ],
      metadata: ["k": "v"])
    let header =
      #"{"__metadata__":{"k":"v"},"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"#
      + #""b":{"dtype":"I64","shape":[1],"data_offsets":[2,10]}}"#
    #expect(header.utf8.count == 132)
    let expected: [UInt8] =
      [0x88, 0, 0, 0, 0, 0, 0, 0] + Array(header.utf8) + [0x20, 0x20, 0x20, 0x20]
      + [0x07, 0x09] + [0x02, 0, 0, 0, 0, 0, 0, 0]
    #expect(try file.serialized() == expected)
  }

  @Test func headerIsPaddedWithSpacesToAMultipleOfEight() throws {
    for name in ["a", "ab", "abc", "abcd", "abcde", "abcdef", "abcdefg", "abcdefgh"] {
      let bytes = try SafetensorsFile(tensors: [name: TensorRecord(floats: [1], shape: [1])])
        .serialized()
      let length = Int(bytes[0]) | Int(bytes[1]) << 8
      #expect(length % 8 == 0, "name \(name)")
      #expect(bytes.count == 8 + length + 4)
      let header = bytes[8..<(8 + length)]
      let close = try #require(header.lastIndex(of: UInt8(ascii: "}")))
      #expect(header[(close + 1)...].allSatisfy { $0 == 0x20 })
      #expect(header.distance(from: close, to: header.endIndex) <= 8)
    }
  }

  /// The PyTorch fixture (written by the Python library) read, checked, and written back byte
  /// for byte: same key order, same compact JSON, same padding.
  @Test func readsAndRewritesThePyTorchFixtureModel() throws {
    let url = sharedFixture("smallcnn-fmnist/model.safetensors")
    let file = try SafetensorsFile(contentsOf: url)
    let weight = try file.tensor("conv1.weight")
    #expect(weight.dtype == .f32)
    #expect(weight.shape == [16, 1, 3, 3])
    let values = try weight.floats()
    #expect(values.count == 144)
    #expect(values.allSatisfy { $0.isFinite })
    #expect(values.contains { $0 != 0 })
    #expect(try file.tensor("fc.weight").shape == [10, 64])
    #expect(file.metadata == ["architecture": "SmallCNN"])
    #expect(try file.serialized() == [UInt8](try Data(contentsOf: url)))
  }

  @Test func refusesToWriteF16() {
    let file = SafetensorsFile(
      tensors: ["h": TensorRecord(dtype: .f16, shape: [1], data: [0x00, 0x3C])])
    #expect {
      try file.serialized()
    } throws: { error in
      let error = error as? SafetensorsError
      return error?.rule == .wrongDType && error?.tensor == "h"
        && error?.message.contains("'h'") == true
    }
  }

  @Test func refusesToWriteATensorNamedMetadata() {
    let file = SafetensorsFile(tensors: ["__metadata__": TensorRecord(bytes: [1], shape: [1])])
    #expect(
      throws: SafetensorsError(
        .reservedName, tensor: "__metadata__",
        "a tensor cannot be named '__metadata__' (the format reserves that key); rename it")
    ) { try file.serialized() }
  }

  @Test func refusesToWriteARecordWhoseDataNoLongerFitsItsShape() {
    var record = TensorRecord(floats: [1, 2], shape: [2])
    record.shape = [3]
    let file = SafetensorsFile(tensors: ["w": record])
    #expect {
      try file.serialized()
    } throws: { error in
      (error as? SafetensorsError)?.rule == .byteCountMismatch
        && (error as? SafetensorsError)?.tensor == "w"
    }
  }

  @Test func atomicWriteReplacesTheFileAndLeavesNoTemporary() throws {
    let directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("ckpt-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("x.safetensors")
    try SafetensorsFile(tensors: ["a": TensorRecord(floats: [1], shape: [1])]).write(to: url)
    try SafetensorsFile(tensors: ["a": TensorRecord(floats: [2], shape: [1])]).write(to: url)
    #expect(try SafetensorsFile(contentsOf: url).tensor("a").floats() == [2])
    let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
    #expect(names == ["x.safetensors"])
  }

  @Test func writingIntoAMissingDirectoryIsAnIOError() {
    let url = URL(fileURLWithPath: "/nonexistent-\(UUID().uuidString)/x.safetensors")
    #expect {
      try SafetensorsFile().write(to: url)
    } throws: { error in
      (error as? SafetensorsError)?.rule == .io
        && (error as? SafetensorsError)?.message.contains("nonexistent") == true
    }
    #expect { try SafetensorsFile(contentsOf: url) } throws: {
      ($0 as? SafetensorsError)?.rule == .io
    }
  }

  @Test func missingTensorErrorListsWhatExists() throws {
    let file = SafetensorsFile(tensors: ["conv1.weight": TensorRecord(floats: [1], shape: [1])])
    #expect {
      try file.tensor("fc.weight")
    } throws: { error in
      let error = error as? SafetensorsError
      return error?.rule == .missingTensor && error?.tensor == "fc.weight"
        && error?.message.contains("no tensor named 'fc.weight'") == true
        && error?.message.contains("conv1.weight") == true
    }
    #expect(throws: SafetensorsError.self) { try file["fc.weight"] }
    #expect(try file["conv1.weight"].floats() == [1])
  }
}

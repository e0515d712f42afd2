import Checkpoints
import Foundation
import Testing

/// `SafetensorsFile.Limits`: the header byte cap and the tensor cap refuse hostile headers
/// quickly and with bounded memory, and the defaults accept real checkpoints.
@Suite struct SafetensorsLimitsTests {
  /// A header of `count` zero-size F32 entries `t0`, `t1`, … (all at [0, 0)), optionally with
  /// a `__metadata__` member first; about 55 bytes per entry.
  static func zeroSizeHeader(count: Int, metadata: Bool = false) -> String {
    var header = metadata ? #"{"__metadata__":{"k":"v"}"# : "{"
    header.reserveCapacity(count * 60)
    for index in 0..<count {
      if index > 0 || metadata { header += "," }
      header += #""t\#(index)":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}"#
    }
    return header + "}"
  }

  @Test func defaultsAreTheDocumentedValues() {
    #expect(SafetensorsFile.Limits.default.maximumHeaderBytes == 16 * 1024 * 1024)
    #expect(SafetensorsFile.Limits.default.maximumTensors == 65_536)
    #expect(SafetensorsFile.maximumHeaderLength == 16_777_216)
  }

  /// 70,000 entries (a 4.2 MB header, under the byte cap) stop at entry 65,537 while parsing.
  @Test func seventyThousandZeroSizeEntriesHitTheTensorCapQuickly() {
    let bytes = safetensorsBytes(header: Self.zeroSizeHeader(count: 70_000), data: [])
    #expect(bytes.count < SafetensorsFile.Limits.default.maximumHeaderBytes)
    let start = ContinuousClock.now
    let error = expectRejection(bytes, .tooManyTensors)
    let elapsed = ContinuousClock.now - start
    #expect(elapsed < .seconds(1), "took \(elapsed)")
    #expect(error?.message.contains("more than 65536 tensors") == true, "\(String(describing: error))")
    #expect(error?.message.contains("SafetensorsFile.Limits.maximumTensors") == true)
  }

  /// Exactly at the cap passes, one over fails; `__metadata__` is not a tensor.
  @Test func tensorCapBoundary() throws {
    let limits = SafetensorsFile.Limits(maximumTensors: 3)
    let three = safetensorsBytes(header: Self.zeroSizeHeader(count: 3, metadata: true), data: [])
    let file = try SafetensorsFile(bytes: three, limits: limits)
    #expect(file.tensors.count == 3)
    #expect(file.metadata == ["k": "v"])
    let four = safetensorsBytes(header: Self.zeroSizeHeader(count: 4), data: [])
    #expect {
      try SafetensorsFile(bytes: four, limits: limits)
    } throws: { error in
      (error as? SafetensorsError)?.rule == .tooManyTensors
    }
  }

  /// The pre-parse count skips `:`, braces and escaped quotes inside strings and nested values.
  @Test func tensorCountIgnoresPunctuationInsideNamesAndEntries() throws {
    let header =
      #"{"__metadata__":{"a:b":"{:}"},"x:{\":[":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"#
      + #""y}":{"dtype":"U8","shape":[0],"data_offsets":[0,0],"extra":{"p:":"q"}}}"#
    let file = try SafetensorsFile(
      bytes: safetensorsBytes(header: header, data: []), limits: SafetensorsFile.Limits(maximumTensors: 2))
    #expect(file.tensors.keys.sorted() == ["x:{\":[", "y}"])
  }

  /// The byte cap is checked from the 8-byte length: a header one byte over is refused
  /// before it is parsed, even though it is valid JSON; at the cap it is accepted.
  @Test func headerByteCapBoundary() throws {
    let header = Self.zeroSizeHeader(count: 2)
    let bytes = safetensorsBytes(header: header, data: [])
    let atCap = SafetensorsFile.Limits(maximumHeaderBytes: header.utf8.count)
    #expect(try SafetensorsFile(bytes: bytes, limits: atCap).tensors.count == 2)
    let under = SafetensorsFile.Limits(maximumHeaderBytes: header.utf8.count - 1)
    #expect {
      try SafetensorsFile(bytes: bytes, limits: under)
    } throws: { error in
      let error = error as? SafetensorsError
      return error?.rule == .headerTooLarge
        && error?.message.contains("\(header.utf8.count) bytes, over the \(header.utf8.count - 1)-byte cap") == true
    }
  }

  /// A header of 17 MB: over the default byte cap, refused without parsing (it is not even
  /// JSON past the first byte, so a parse would report `invalidJSON` instead).
  @Test func headerOverTheDefaultByteCapIsRefusedBeforeParsing() {
    let header = "{" + String(repeating: "x", count: 17_000_000)
    expectRejection(safetensorsBytes(header: header, data: []), .headerTooLarge)
  }

  @Test(arguments: ["smallcnn-fmnist/model.safetensors", "smallcnn-fmnist/reference.safetensors"])
  func defaultsAcceptTheSharedFixtures(path: String) throws {
    let file = try SafetensorsFile(contentsOf: sharedFixture(path))
    #expect(!file.tensors.isEmpty)
    #expect(file.tensors.count <= SafetensorsFile.Limits.default.maximumTensors)
  }
}

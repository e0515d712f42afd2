import Checkpoints
import Testing

/// One test per reader rule: each hostile file breaks exactly one rule and is rejected with
/// that rule, naming the tensor when there is one.
@Suite struct SafetensorsValidationTests {
  /// A valid file: F32 "w" of shape [2] = 8 bytes at [0, 8).
  let good = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
  let eight = [UInt8](repeating: 0, count: 8)

  /// `"name":{"dtype":dtype,"shape":shape,"data_offsets":[begin,end]}` for building headers.
  func entry(_ name: String, _ dtype: String, _ shape: String, _ offsets: String) -> String {
    #""\#(name)":{"dtype":"\#(dtype)","shape":\#(shape),"data_offsets":\#(offsets)}"#
  }

  @Test func acceptsTheBaselinePaddingAndZeroSizeTensors() throws {
    #expect(rejection(safetensorsBytes(header: good, data: eight)) == nil)
    #expect(rejection(safetensorsBytes(header: good + "      ", data: eight)) == nil)
    // Zero-size tensors (begin == end) at the start, in the middle and at the end.
    let header =
      "{" + entry("a", "F32", "[0]", "[0,0]") + "," + entry("b", "U8", "[2]", "[0,2]") + ","
      + entry("c", "I64", "[0,3]", "[2,2]") + "," + entry("d", "F16", "[1]", "[2,4]") + ","
      + entry("e", "BF16", "[2,0]", "[4,4]") + "}"
    let file = try SafetensorsFile(bytes: safetensorsBytes(header: header, data: [1, 2, 3, 4]))
    #expect(file.tensors.count == 5)
    #expect(try file.tensor("b").uint8s() == [1, 2])
    #expect(try file.tensor("c").int64s() == [])
  }

  @Test func acceptsEscapedNamesAndKeysThatRepeatOnlyInsideEntries() throws {
    let header =
      #"{"__metadata__":{"w":"x","note":"tab\there \u00e9 \ud834\udd1e"},"#
      + #""w\"\u0041":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":{"w":1}}}"#
    let file = try SafetensorsFile(bytes: safetensorsBytes(header: header, data: eight))
    #expect(file.tensors.keys.sorted() == ["w\"A"])
    #expect(file.metadata["note"] == "tab\there é 𝄞")
  }

  // MARK: truncated

  @Test func fileShorterThanEightBytes() {
    expectRejection([], .truncated)
    expectRejection([0x38, 0, 0], .truncated)
  }

  @Test func dataSectionShorterThanTheLargestEndOffset() {
    expectRejection(safetensorsBytes(header: good, data: [0, 0, 0, 0]), .truncated, tensor: "w")
    // Cut at a tensor boundary: "b" starts exactly where the data ends.
    let two =
      "{" + entry("a", "F32", "[1]", "[0,4]") + "," + entry("b", "F32", "[1]", "[4,8]") + "}"
    expectRejection(safetensorsBytes(header: two, data: [0, 0, 0, 0]), .truncated, tensor: "b")
  }

  @Test func fileEndsInsideItsHeader() {
    let whole = safetensorsBytes(header: good, data: eight)
    let error = expectRejection(Array(whole.prefix(30)), .truncated)
    #expect(error?.message.contains("inside its 54-byte header") == true)
  }

  // MARK: header framing

  @Test func headerLengthPastTheEndOfTheFile() {
    var bytes = safetensorsBytes(header: "", data: Array("PK\u{3}\u{4} not a header".utf8))
    bytes[0] = 0xE8  // claims 1000 bytes
    bytes[1] = 0x03
    expectRejection(bytes, .headerPastEnd)
    expectRejection(safetensorsBytes(header: "", data: []), .invalidJSON)  // N = 0, empty header
  }

  /// Claims of 2⁶³ − 1 and cap + 1 bytes on a 71-byte file: the reader must refuse from the
  /// 8-byte length alone, without allocating or reading that much (the test would not finish).
  @Test func headerLengthOverTheSixteenMebibyteCap() {
    for claim in [UInt64(Int64.max), UInt64.max, 100_000_001, 16_777_217] {
      let bytes = safetensorsBytes(header: good, data: eight, claimedLength: claim)
      let error = expectRejection(bytes, .headerTooLarge)
      #expect(error?.message.contains("\(claim)") == true)
      #expect(error?.message.contains("16777216-byte cap") == true)
    }
    // Exactly at the cap (16 MiB) is allowed by this rule; it then fails as running past the end.
    let atCap = safetensorsBytes(header: good, data: eight, claimedLength: 16_777_216)
    expectRejection(atCap, .truncated)
  }

  @Test func headerNotUTF8() {
    var bytes = safetensorsBytes(header: good, data: eight)
    bytes[10] = 0xFF  // inside the name "w"
    expectRejection(bytes, .headerNotUTF8)
  }

  // MARK: JSON

  @Test func headerNotValidJSON() {
    for header in [
      #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#, "{not json}",
      #"{"w":1,}"#, #"{"w":01}"#, "{}x", #"{"a\u12"}"#, String(repeating: "[", count: 100_000),
    ] {
      let error = expectRejection(safetensorsBytes(header: header, data: []), .invalidJSON)
      #expect(error?.message.contains("not valid JSON") == true, "\(header.prefix(40))")
    }
  }

  @Test func headerNotAJSONObject() {
    expectRejection(safetensorsBytes(header: "[1,2]", data: []), .invalidJSON)
    expectRejection(safetensorsBytes(header: #""w""#, data: []), .invalidJSON)
  }

  @Test func entryWithMissingOrIllTypedFields() {
    let cases = [
      #"{"w":{"dtype":"F32","data_offsets":[0,8]}}"#,
      #"{"w":{"shape":[2],"data_offsets":[0,8]}}"#,
      #"{"w":{"dtype":"F32","shape":[2]}}"#,
      #"{"w":{"dtype":32,"shape":[2],"data_offsets":[0,8]}}"#,
      #"{"w":{"dtype":"F32","shape":2,"data_offsets":[0,8]}}"#,
      #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8,16]}}"#,
      #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8.0]}}"#,
      #"{"w":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
      #"{"w":[0,8]}"#,
    ]
    for header in cases {
      expectRejection(safetensorsBytes(header: header, data: eight), .invalidJSON, tensor: "w")
    }
  }

  @Test func unknownDType() {
    let header = "{" + entry("w", "F64", "[1]", "[0,8]") + "}"
    let error = expectRejection(
      safetensorsBytes(header: header, data: eight), .unknownDType, tensor: "w")
    #expect(error?.message.contains("F64") == true)
  }

  // MARK: shapes

  @Test func negativeShapeEntry() {
    let header = "{" + entry("w", "F32", "[-2]", "[0,8]") + "}"
    expectRejection(safetensorsBytes(header: header, data: eight), .invalidShape, tensor: "w")
  }

  @Test func nonIntegerShapeEntry() {
    for shape in [
      "[1.5]", "[2.0]", "[2e0]", #"["2"]"#, "[true]", "[null]", "[99999999999999999999]",
    ] {
      let header = "{" + entry("w", "F32", shape, "[0,8]") + "}"
      expectRejection(safetensorsBytes(header: header, data: eight), .invalidShape, tensor: "w")
    }
  }

  /// 2³² · 2³² · 16 elements overflow Int64: an error, not a trap.
  @Test func shapeProductOverflowIsAnErrorNotATrap() {
    let header = "{" + entry("w", "F32", "[4294967296,4294967296,16]", "[0,8]") + "}"
    expectRejection(safetensorsBytes(header: header, data: eight), .invalidShape, tensor: "w")
  }

  // MARK: offsets

  @Test func offsetsOutOfBounds() {
    let reversed = "{" + entry("w", "F32", "[0]", "[8,0]") + "}"
    expectRejection(
      safetensorsBytes(header: reversed, data: eight), .offsetsOutOfBounds, tensor: "w")
    let pastEnd = "{" + entry("w", "F32", "[2]", "[16,24]") + "}"
    expectRejection(
      safetensorsBytes(header: pastEnd, data: eight), .offsetsOutOfBounds, tensor: "w")
    let negative = "{" + entry("w", "F32", "[2]", "[-8,0]") + "}"
    expectRejection(
      safetensorsBytes(header: negative, data: eight), .offsetsOutOfBounds, tensor: "w")
    let huge = "{" + entry("w", "F32", "[2]", "[0,99999999999999999999]") + "}"
    expectRejection(safetensorsBytes(header: huge, data: eight), .offsetsOutOfBounds, tensor: "w")
  }

  @Test func overlappingOffsets() {
    let header =
      "{" + entry("a", "F32", "[2]", "[0,8]") + "," + entry("b", "F32", "[1]", "[4,8]") + "}"
    let error = expectRejection(
      safetensorsBytes(header: header, data: eight), .offsetsNotContiguous, tensor: "b")
    #expect(error?.message.contains("'a'") == true)
  }

  @Test func gapBetweenTensors() {
    let header =
      "{" + entry("a", "F32", "[1]", "[0,4]") + "," + entry("b", "F32", "[1]", "[8,12]") + "}"
    let data = [UInt8](repeating: 0, count: 12)
    expectRejection(
      safetensorsBytes(header: header, data: data), .offsetsNotContiguous, tensor: "b")
  }

  @Test func bytesAfterTheLastTensor() {
    expectRejection(
      safetensorsBytes(header: good, data: eight + [1, 2]), .offsetsNotContiguous, tensor: "w")
  }

  @Test func byteCountDisagreesWithShape() {
    let header = "{" + entry("w", "F32", "[3]", "[0,8]") + "}"
    let error = expectRejection(
      safetensorsBytes(header: header, data: eight), .byteCountMismatch, tensor: "w")
    #expect(error?.message.contains("needs 12") == true)
  }

  // MARK: names and metadata

  @Test func duplicateTensorNames() {
    let header =
      "{" + entry("w", "F32", "[1]", "[0,4]") + "," + entry("w", "F32", "[1]", "[4,8]") + "}"
    expectRejection(safetensorsBytes(header: header, data: eight), .duplicateName, tensor: "w")
    // The same name spelled with an escape is still the same name.
    let escaped =
      "{" + entry("w", "F32", "[1]", "[0,4]") + "," + entry(#"\u0077"#, "F32", "[1]", "[4,8]") + "}"
    expectRejection(safetensorsBytes(header: escaped, data: eight), .duplicateName, tensor: "w")
  }

  @Test func metadataValuesThatAreNotStrings() {
    for metadata in [#"{"step":3}"#, #"{"tags":["a"]}"#, #"{"x":null}"#, #""text""#, "[]"] {
      let header = #"{"__metadata__":\#(metadata),"# + good.dropFirst()
      let error = expectRejection(safetensorsBytes(header: header, data: eight), .invalidMetadata)
      #expect(error?.message.contains("__metadata__") == true)
    }
  }
}

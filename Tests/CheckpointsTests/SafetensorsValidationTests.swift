import Checkpoints
import Testing

/// One test per reader rule: each hostile file is rejected with that rule, naming the tensor.
@Suite struct SafetensorsValidationTests {
  let good = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
  let eight = [UInt8](repeating: 0, count: 8)

  @Test func acceptsTheBaseline() {
    #expect(rejection(safetensorsBytes(header: good, data: eight)) == nil)
  }

  @Test func fileShorterThanEightBytes() {
    #expect(rejection([1, 2, 3])?.rule == .truncated)
  }

  @Test func truncatedDataSection() {
    let error = rejection(safetensorsBytes(header: good, data: [0, 0, 0, 0]))
    #expect(error?.rule == .truncated)
    #expect(error?.tensor == "w")
  }

  @Test func headerLengthPastTheEnd() {
    #expect(rejection(safetensorsBytes(header: good, data: eight, claimedLength: 5000))?.rule == .headerPastEnd)
  }

  @Test func headerLengthOverTheCapIsRejectedBeforeAllocating() {
    // Claims ~2^63 bytes; the reader must refuse without trying to allocate that.
    let error = rejection(safetensorsBytes(header: good, data: eight, claimedLength: UInt64(Int64.max)))
    #expect(error?.rule == .headerTooLarge)
    #expect(rejection(safetensorsBytes(header: good, data: eight, claimedLength: 100_000_001))?.rule == .headerTooLarge)
  }

  @Test func headerNotUTF8() {
    var bytes = safetensorsBytes(header: good, data: eight)
    bytes[10] = 0xFF
    #expect(rejection(bytes)?.rule == .headerNotUTF8)
  }

  @Test func headerNotJSON() {
    #expect(rejection(safetensorsBytes(header: "{not json", data: []))?.rule == .invalidJSON)
    #expect(rejection(safetensorsBytes(header: "[1,2]", data: []))?.rule == .invalidJSON)
    let missingShape = #"{"w":{"dtype":"F32","data_offsets":[0,8]}}"#
    let error = rejection(safetensorsBytes(header: missingShape, data: eight))
    #expect(error?.rule == .invalidJSON)
    #expect(error?.tensor == "w")
  }

  @Test func unknownDType() {
    let header = #"{"w":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}"#
    let error = rejection(safetensorsBytes(header: header, data: eight))
    #expect(error?.rule == .unknownDType)
    #expect(error?.tensor == "w")
    #expect(error?.description.contains("F64") == true)
  }

  @Test func negativeOrFractionalShape() {
    let negative = #"{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#
    #expect(rejection(safetensorsBytes(header: negative, data: eight))?.rule == .invalidShape)
    let fractional = #"{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,8]}}"#
    #expect(rejection(safetensorsBytes(header: fractional, data: eight))?.rule == .invalidShape)
  }

  @Test func shapeProductOverflowIsAnErrorNotATrap() {
    let header = #"{"w":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}}"#
    let error = rejection(safetensorsBytes(header: header, data: eight))
    #expect(error?.rule == .invalidShape)
    #expect(error?.tensor == "w")
  }

  @Test func offsetsOutOfBounds() {
    let reversed = #"{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}"#
    let error = rejection(safetensorsBytes(header: reversed, data: eight))
    #expect(error?.rule == .offsetsOutOfBounds)
    #expect(error?.tensor == "w")
    let beyond =
      #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#
    // "b" starts past the 4 data bytes that exist after "a" was cut short: out of bounds.
    let cut = rejection(safetensorsBytes(header: beyond, data: [0, 0, 0, 0]))
    #expect(cut?.rule == .truncated || cut?.rule == .offsetsOutOfBounds)
  }

  @Test func overlappingOffsets() {
    let header =
      #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
    let error = rejection(safetensorsBytes(header: header, data: eight))
    #expect(error?.rule == .offsetsNotContiguous)
    #expect(error?.tensor == "b")
  }

  @Test func gapBetweenTensors() {
    let header =
      #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#
    let error = rejection(safetensorsBytes(header: header, data: [UInt8](repeating: 0, count: 12)))
    #expect(error?.rule == .offsetsNotContiguous)
    #expect(error?.tensor == "b")
  }

  @Test func trailingBytesNotDescribed() {
    #expect(rejection(safetensorsBytes(header: good, data: eight + [1, 2]))?.rule == .offsetsNotContiguous)
  }

  @Test func byteCountDisagreesWithShape() {
    let header = #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#
    let error = rejection(safetensorsBytes(header: header, data: eight))
    #expect(error?.rule == .byteCountMismatch)
    #expect(error?.tensor == "w")
  }

  @Test func duplicateTensorNames() {
    let header =
      #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
    let error = rejection(safetensorsBytes(header: header, data: eight))
    #expect(error?.rule == .duplicateName)
    #expect(error?.tensor == "w")
  }

  @Test func nestedKeysWithTheSameNameAreNotDuplicates() {
    let header = #"{"__metadata__":{"w":"x"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
    #expect(rejection(safetensorsBytes(header: header, data: eight)) == nil)
  }

  @Test func metadataValuesMustBeStrings() {
    let header = #"{"__metadata__":{"step":3},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
    #expect(rejection(safetensorsBytes(header: header, data: eight))?.rule == .invalidMetadata)
  }

  @Test func integerAccessorRejectsFloatTensors() {
    #expect(throws: SafetensorsError.self) { try TensorRecord(floats: [1], shape: [1]).int64s() }
  }
}

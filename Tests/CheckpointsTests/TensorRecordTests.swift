import Checkpoints
import Testing

/// Element conversions from hand-crafted bytes with known values, and the exhaustive binary16
/// table checked against the standard library's `Float16`.
@Suite struct TensorRecordTests {
  /// F16: 0x3C00 = 1 (exponent 15 − 15 = 0), 0xC000 = −2 (sign, exponent 16), 0x7C00 = +∞,
  /// 0x0001 = 2⁻²⁴ ≈ 5.960464e-8 (smallest subnormal), 0x8000 = −0,
  /// 0x7BFF = 65504 (largest finite).
  /// BF16: 0x3F80 = 1, 0xC040 = −3 (top halves of 0x3F80_0000 and 0xC040_0000).
  /// I32: 0xFFFF_FFFB = −5, 0x0000_0100 = 256. Header built by hand, contiguous offsets.
  @Test func readsF16BF16AndI32FromHandcraftedBytes() throws {
    let header =
      #"{"h":{"dtype":"F16","shape":[6],"data_offsets":[0,12]},"#
      + #""b":{"dtype":"BF16","shape":[2],"data_offsets":[12,16]},"#
      + #""i":{"dtype":"I32","shape":[2],"data_offsets":[16,24]}}"#
    let data: [UInt8] = [
      0x00, 0x3C, 0x00, 0xC0, 0x00, 0x7C, 0x01, 0x00, 0x00, 0x80, 0xFF, 0x7B,  // h
      0x80, 0x3F, 0x40, 0xC0,  // b
      0xFB, 0xFF, 0xFF, 0xFF, 0x00, 0x01, 0x00, 0x00,  // i
    ]
    let file = try SafetensorsFile(bytes: safetensorsBytes(header: header, data: data))
    let halves = try file.tensor("h").floats()
    #expect(halves == [1, -2, .infinity, 0x1p-24, 0, 65504])
    #expect(abs(halves[3] - 5.960464e-8) < 1e-14)
    #expect(halves[4].sign == .minus)
    #expect(try file.tensor("b").floats() == [1, -3])
    #expect(try file.tensor("i").int64s() == [-5, 256])
    #expect(try file.tensor("i").floats() == [-5, 256])
  }

  /// Every one of the 65 536 binary16 patterns converts exactly as `Float(Float16)` does
  /// (bit for bit, except that NaNs are compared by kind and sign).
  @Test func everyHalfConvertsExactly() throws {
    let patterns = (0...UInt16.max).map { $0 }
    let bytes = patterns.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
    let values = try TensorRecord(dtype: .f16, shape: [patterns.count], data: bytes).floats()
    for (pattern, value) in zip(patterns, values) {
      let reference = Float(Float16(bitPattern: pattern))
      if reference.isNaN {
        #expect(value.isNaN && value.sign == reference.sign, "0x\(String(pattern, radix: 16))")
      } else if value.bitPattern != reference.bitPattern {
        Issue.record("0x\(String(pattern, radix: 16)): \(value) != \(reference)")
      }
    }
    // Quiet NaN 0x7E00 keeps its payload: binary32 0x7FC0_0000.
    let nan = try TensorRecord(dtype: .f16, shape: [1], data: [0x00, 0x7E]).floats()
    #expect(nan.map(\.bitPattern) == [0x7FC0_0000])
  }

  @Test func bfloat16IsTheTopHalfOfAFloat() throws {
    let samples: [Float] = [0, -0.0, 1, -3, .infinity, -.infinity, 0x1p-133, 3.140625, .nan]
    let bytes = samples.flatMap { value -> [UInt8] in
      let top = UInt16(value.bitPattern >> 16)
      return [UInt8(top & 0xFF), UInt8(top >> 8)]
    }
    let values = try TensorRecord(dtype: .bf16, shape: [samples.count], data: bytes).floats()
    #expect(values.map(\.bitPattern) == samples.map(\.bitPattern))
  }

  @Test func integerTensorsConvertToFloatsAndInt64s() throws {
    let i64 = TensorRecord(int64s: [-1, 1 << 24, (1 << 53) + 1], shape: [3])
    #expect(try i64.floats() == [-1, 16_777_216, 9_007_199_254_740_992])
    let u8 = TensorRecord(bytes: [0, 7, 255], shape: [3])
    #expect(try u8.floats() == [0, 7, 255])
    #expect(try u8.int64s() == [0, 7, 255])
    #expect(u8.count == 3)
  }

  @Test func integerAccessorsRejectFloatTensors() {
    let record = TensorRecord(floats: [1], shape: [1])
    #expect { try record.int64s() } throws: { ($0 as? SafetensorsError)?.rule == .wrongDType }
    #expect { try record.uint8s() } throws: { ($0 as? SafetensorsError)?.rule == .wrongDType }
    let labels = TensorRecord(int64s: [1], shape: [1])
    #expect { try labels.uint8s() } throws: {
      ($0 as? SafetensorsError)?.message.contains("int64s()") == true
    }
  }

  @Test func accessorsRefuseDataThatNoLongerFitsTheShape() {
    var record = TensorRecord(floats: [1, 2], shape: [2])
    record.data.removeLast()
    #expect { try record.floats() } throws: {
      ($0 as? SafetensorsError)?.rule == .byteCountMismatch
    }
  }

  @Test func byteCountChecksOverflowAndNegativeDimensions() {
    #expect(DType.f32.byteCount(of: [2, 3]) == 24)
    #expect(DType.i64.byteCount(of: []) == 8)
    #expect(DType.f16.byteCount(of: [0, Int.max]) == 0)
    #expect(DType.f32.byteCount(of: [Int.max / 2]) == nil)
    #expect(DType.u8.byteCount(of: [-1]) == nil)
  }
}

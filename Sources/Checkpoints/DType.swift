/// Element types of safetensors tensors that i2x reads (it writes F32, I64 and U8).
public enum DType: String, Sendable, CaseIterable {
  /// IEEE 754 binary32.
  case f32 = "F32"
  /// IEEE 754 binary16.
  case f16 = "F16"
  /// bfloat16: the top 16 bits of a binary32.
  case bf16 = "BF16"
  /// Signed 64-bit integer.
  case i64 = "I64"
  /// Signed 32-bit integer.
  case i32 = "I32"
  /// Unsigned 8-bit integer.
  case u8 = "U8"

  /// Bytes per element.
  public var byteSize: Int {
    switch self {
    case .f32, .i32: return 4
    case .f16, .bf16: return 2
    case .i64: return 8
    case .u8: return 1
    }
  }

  /// Whether `SafetensorsFile.serialized()` writes this type (F32, I64 and U8).
  public var isWritable: Bool { self == .f32 || self == .i64 || self == .u8 }

  /// The byte size of `shape` elements of this type, or nil if a dimension is negative or
  /// the product overflows `Int`.
  public func byteCount(of shape: [Int]) -> Int? {
    var product = byteSize
    for dimension in shape {
      guard dimension >= 0 else { return nil }
      let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
      guard !overflow else { return nil }
      product = next
    }
    return product
  }
}

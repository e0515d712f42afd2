/// One tensor of a safetensors file: element type, shape and raw little-endian bytes.
public struct TensorRecord: Sendable, Equatable {
  /// Element type.
  public var dtype: DType
  /// Extent of each dimension (empty for a scalar).
  public var shape: [Int]
  /// `shape.product × dtype.byteSize` little-endian bytes.
  public var data: [UInt8]

  /// Creates a record from raw bytes; the caller guarantees the byte count.
  public init(dtype: DType, shape: [Int], data: [UInt8]) {
    precondition(
      shape.reduce(1, *) * dtype.byteSize == data.count,
      "TensorRecord \(dtype.rawValue)\(shape) needs \(shape.reduce(1, *) * dtype.byteSize) bytes, got \(data.count)")
    self.dtype = dtype
    self.shape = shape
    self.data = data
  }

  /// An F32 tensor.
  public init(floats: [Float], shape: [Int]) {
    var bytes = [UInt8](repeating: 0, count: floats.count * 4)
    for (i, value) in floats.enumerated() {
      let bits = value.bitPattern.littleEndian
      withUnsafeBytes(of: bits) { for b in 0..<4 { bytes[i * 4 + b] = $0[b] } }
    }
    self.init(dtype: .f32, shape: shape, data: bytes)
  }

  /// An I64 tensor.
  public init(int64s: [Int64], shape: [Int]) {
    var bytes = [UInt8](repeating: 0, count: int64s.count * 8)
    for (i, value) in int64s.enumerated() {
      withUnsafeBytes(of: value.littleEndian) { for b in 0..<8 { bytes[i * 8 + b] = $0[b] } }
    }
    self.init(dtype: .i64, shape: shape, data: bytes)
  }

  /// A U8 tensor.
  public init(bytes: [UInt8], shape: [Int]) {
    self.init(dtype: .u8, shape: shape, data: bytes)
  }

  /// Number of elements.
  public var count: Int { shape.reduce(1, *) }

  /// Elements converted to Float (F16/BF16 exactly, integers rounded to nearest).
  public func floats() throws(SafetensorsError) -> [Float] {
    let n = count
    return data.withUnsafeBytes { raw -> [Float] in
      switch dtype {
      case .f32:
        return (0..<n).map {
          Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
        }
      case .f16:
        return (0..<n).map {
          Self.halfToFloat(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self)))
        }
      case .bf16:
        return (0..<n).map {
          Float(
            bitPattern: UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) << 16)
        }
      case .i64:
        return (0..<n).map { Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self))) }
      case .i32:
        return (0..<n).map { Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self))) }
      case .u8: return raw.map { Float($0) }
      }
    }
  }

  /// Elements as Int64 (integer types only).
  public func int64s() throws(SafetensorsError) -> [Int64] {
    let n = count
    switch dtype {
    case .i64:
      return data.withUnsafeBytes { raw in
        (0..<n).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
      }
    case .i32:
      return data.withUnsafeBytes { raw in
        (0..<n).map { Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self))) }
      }
    case .u8: return data.map { Int64($0) }
    default:
      throw SafetensorsError(
        .wrongDType, tensor: nil, "expected an integer tensor (I64, I32 or U8), got \(dtype.rawValue)")
    }
  }

  /// Elements as bytes (U8 only).
  public func uint8s() throws(SafetensorsError) -> [UInt8] {
    guard dtype == .u8 else {
      throw SafetensorsError(.wrongDType, tensor: nil, "expected a U8 tensor, got \(dtype.rawValue)")
    }
    return data
  }

  /// IEEE binary16 → binary32, exact for every value (subnormals, infinities, NaN).
  static func halfToFloat(_ h: UInt16) -> Float {
    let sign: Float = (h & 0x8000) != 0 ? -1 : 1
    let exponent = Int((h >> 10) & 0x1F)
    let mantissa = Float(h & 0x3FF)
    switch exponent {
    case 0: return sign * mantissa * 0x1p-24
    case 31: return mantissa == 0 ? sign * .infinity : .nan
    default: return sign * (1 + mantissa / 1024) * Float(sign: .plus, exponent: exponent - 15, significand: 1)
    }
  }
}

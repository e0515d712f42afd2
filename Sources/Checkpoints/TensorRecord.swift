/// One tensor of a safetensors file: element type, shape and raw little-endian bytes.
///
/// The initialisers check that `data` holds exactly `shape`'s element count × `dtype.byteSize`
/// bytes; the element accessors (`floats()`, `int64s()`, `uint8s()`) check it again, since the
/// stored properties are mutable.
public struct TensorRecord: Sendable, Equatable {
  /// Element type.
  public var dtype: DType
  /// Extent of each dimension (empty for a scalar).
  public var shape: [Int]
  /// The elements as little-endian bytes, row-major.
  public var data: [UInt8]

  /// Creates a record from raw little-endian bytes.
  ///
  /// - Precondition: `data.count == dtype.byteCount(of: shape)` (no negative dimensions).
  public init(dtype: DType, shape: [Int], data: [UInt8]) {
    let expected = dtype.byteCount(of: shape)
    precondition(
      expected == data.count,
      "TensorRecord \(dtype.rawValue)\(shape) needs "
        + "\(expected.map { "\($0) bytes" } ?? "non-negative dimensions"), got \(data.count) bytes")
    self.dtype = dtype
    self.shape = shape
    self.data = data
  }

  /// An F32 tensor of `floats` (row-major).
  ///
  /// - Precondition: `floats.count` is the element count of `shape`.
  public init(floats: [Float], shape: [Int]) {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(floats.count * 4)
    for value in floats {
      withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }
    self.init(dtype: .f32, shape: shape, data: bytes)
  }

  /// An I64 tensor of `int64s` (row-major).
  ///
  /// - Precondition: `int64s.count` is the element count of `shape`.
  public init(int64s: [Int64], shape: [Int]) {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(int64s.count * 8)
    for value in int64s {
      withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
    self.init(dtype: .i64, shape: shape, data: bytes)
  }

  /// A U8 tensor of `bytes` (row-major).
  ///
  /// - Precondition: `bytes.count` is the element count of `shape`.
  public init(bytes: [UInt8], shape: [Int]) {
    self.init(dtype: .u8, shape: shape, data: bytes)
  }

  /// Number of elements held in `data`.
  public var count: Int { data.count / dtype.byteSize }

  /// Throws unless `data` holds exactly the bytes `shape` and `dtype` call for.
  /// - Throws: `SafetensorsError` with rule `byteCountMismatch`.
  public func validate() throws(SafetensorsError) {
    guard let expected = dtype.byteCount(of: shape), expected == data.count else {
      throw SafetensorsError(
        .byteCountMismatch, tensor: nil,
        "a \(dtype.rawValue) tensor of shape \(shape) holds \(data.count) bytes, which does not "
          + "match its shape; set `shape` and `data` together")
    }
  }
}

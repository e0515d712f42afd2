extension TensorRecord {
  /// The elements converted to `Float`.
  ///
  /// F32 is returned bit for bit; F16 and BF16 convert exactly (subnormals, infinities and NaN
  /// payloads included); I64, I32 and U8 round to the nearest `Float` (exact up to 2^24).
  /// - Throws: `SafetensorsError` with rule `byteCountMismatch` if `data` does not fit `shape`.
  public func floats() throws(SafetensorsError) -> [Float] {
    try validate()
    switch dtype {
    case .f32: return elements(UInt32.self) { Float(bitPattern: $0) }
    case .f16: return elements(UInt16.self) { HalfPrecision.float(binary16: $0) }
    case .bf16: return elements(UInt16.self) { HalfPrecision.float(bfloat16: $0) }
    case .i64: return elements(UInt64.self) { Float(Int64(bitPattern: $0)) }
    case .i32: return elements(UInt32.self) { Float(Int32(bitPattern: $0)) }
    case .u8: return data.map { Float($0) }
    }
  }

  /// The elements as `Int64` (I64, I32 or U8 tensors).
  /// - Throws: `SafetensorsError` with rule `wrongDType` for floating-point tensors, or
  ///   `byteCountMismatch` if `data` does not fit `shape`.
  public func int64s() throws(SafetensorsError) -> [Int64] {
    try validate()
    switch dtype {
    case .i64: return elements(UInt64.self) { Int64(bitPattern: $0) }
    case .i32: return elements(UInt32.self) { Int64(Int32(bitPattern: $0)) }
    case .u8: return data.map { Int64($0) }
    case .f32, .f16, .bf16:
      throw SafetensorsError(
        .wrongDType, tensor: nil,
        "expected an integer tensor (I64, I32 or U8) but this one is \(dtype.rawValue); "
          + "read it with floats() instead")
    }
  }

  /// The elements as bytes (U8 tensors).
  /// - Throws: `SafetensorsError` with rule `wrongDType` for other dtypes, or
  ///   `byteCountMismatch` if `data` does not fit `shape`.
  public func uint8s() throws(SafetensorsError) -> [UInt8] {
    try validate()
    guard dtype == .u8 else {
      throw SafetensorsError(
        .wrongDType, tensor: nil,
        "expected a U8 tensor but this one is \(dtype.rawValue); read it with "
          + "\(dtype == .i64 || dtype == .i32 ? "int64s()" : "floats()") instead")
    }
    return data
  }

  /// Decodes `data` as little-endian `Word`s and maps each one.
  private func elements<Word: FixedWidthInteger>(
    _: Word.Type, _ transform: (Word) -> Float
  ) -> [Float] {
    decode(Word.self).map(transform)
  }

  private func elements<Word: FixedWidthInteger>(
    _: Word.Type, _ transform: (Word) -> Int64
  ) -> [Int64] {
    decode(Word.self).map(transform)
  }

  /// `data` read as little-endian `Word`s (a trailing partial word is ignored).
  private func decode<Word: FixedWidthInteger>(_: Word.Type) -> [Word] {
    let size = MemoryLayout<Word>.size
    return data.withUnsafeBytes { raw in
      (0..<(raw.count / size)).map {
        Word(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * size, as: Word.self))
      }
    }
  }
}

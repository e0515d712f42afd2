extension SafetensorsFile {
  /// The file's bytes: tensors sorted by name, laid out contiguously in that order, metadata
  /// first in the header (keys sorted), header padded with spaces to a multiple of 8 bytes.
  ///
  /// Only F32, I64 and U8 tensors are written (the types i2x produces).
  /// - Throws: `SafetensorsError` with rule `wrongDType` for other dtypes, `reservedName` for a
  ///   tensor named `__metadata__`, `byteCountMismatch` if a record's data does not fit its shape.
  public func serialized() throws(SafetensorsError) -> [UInt8] {
    var entries: [String] = []
    if !metadata.isEmpty {
      let pairs = metadata.sorted { $0.key < $1.key }.map {
        JSONValue.quote($0.key) + ":" + JSONValue.quote($0.value)
      }
      entries.append("\"__metadata__\":{" + pairs.joined(separator: ",") + "}")
    }
    let records = tensors.sorted { $0.key < $1.key }
    var offset = 0
    for (name, record) in records {
      try Self.checkWritable(name, record)
      let shape = record.shape.map(String.init).joined(separator: ",")
      let end = offset + record.data.count
      entries.append(
        JSONValue.quote(name) + ":{\"dtype\":\"\(record.dtype.rawValue)\",\"shape\":[\(shape)],"
          + "\"data_offsets\":[\(offset),\(end)]}")
      offset = end
    }
    var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
    header.append(contentsOf: repeatElement(0x20, count: (8 - header.count % 8) % 8))
    var out: [UInt8] = []
    out.reserveCapacity(8 + header.count + offset)
    withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
    out.append(contentsOf: header)
    for (_, record) in records { out.append(contentsOf: record.data) }
    return out
  }

  private static func checkWritable(
    _ name: String, _ record: TensorRecord
  ) throws(SafetensorsError) {
    guard name != "__metadata__" else {
      throw SafetensorsError(
        .reservedName, tensor: name,
        "a tensor cannot be named '__metadata__' (the format reserves that key); rename it")
    }
    guard record.dtype.isWritable else {
      throw SafetensorsError(
        .wrongDType, tensor: name,
        "tensor '\(name)' is \(record.dtype.rawValue) but only F32, I64 and U8 are written; "
          + "convert it with TensorRecord(floats:shape:) first")
    }
    do {
      try record.validate()
    } catch {
      throw SafetensorsError(error.rule, tensor: name, "tensor '\(name)': " + error.message)
    }
  }
}

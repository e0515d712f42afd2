import Foundation

/// A safetensors file: named tensors plus a `__metadata__` string map.
///
/// Layout: 8-byte little-endian header length N, N bytes of UTF-8 JSON
/// (`{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {…}}`),
/// then the data section; offsets are relative to it. The reader validates every rule in
/// `SafetensorsError.Rule`; the writer orders tensors by name, lays them out contiguously
/// and pads the header with spaces to a multiple of 8.
public struct SafetensorsFile: Sendable, Equatable {
  /// Largest header the reader accepts (100 MB).
  public static let maximumHeaderLength = 100_000_000

  /// Tensors by name.
  public var tensors: [String: TensorRecord]
  /// The `__metadata__` map.
  public var metadata: [String: String]

  /// Creates a file in memory.
  public init(tensors: [String: TensorRecord] = [:], metadata: [String: String] = [:]) {
    self.tensors = tensors
    self.metadata = metadata
  }

  /// Reads and validates a file from disk.
  /// - Throws: `SafetensorsError` (rule `io` when the file cannot be read).
  public init(contentsOf url: URL) throws(SafetensorsError) {
    let data: Data
    do { data = try Data(contentsOf: url) } catch {
      throw SafetensorsError(.io, tensor: nil, "cannot read \(url.path): \(error.localizedDescription)")
    }
    try self.init(bytes: [UInt8](data))
  }

  /// The tensor `name`.
  /// - Throws: `SafetensorsError.Rule.missingTensor`, listing some names that exist.
  public func tensor(_ name: String) throws(SafetensorsError) -> TensorRecord {
    guard let record = tensors[name] else {
      let known = tensors.keys.sorted().prefix(8).joined(separator: ", ")
      throw SafetensorsError(
        .missingTensor, tensor: name, "no tensor named '\(name)' (the file has: \(known.isEmpty ? "none" : known))")
    }
    return record
  }

  /// The file's bytes (F32, I64 and U8 tensors only).
  /// - Throws: `SafetensorsError.Rule.wrongDType` for other element types.
  public func serialized() throws(SafetensorsError) -> [UInt8] {
    var header = "{"
    var entries: [String] = []
    if !metadata.isEmpty {
      let pairs = metadata.keys.sorted().map { "\(JSONText.quote($0)):\(JSONText.quote(metadata[$0] ?? ""))" }
      entries.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
    }
    var offset = 0
    let names = tensors.keys.sorted()
    for name in names {
      guard let record = tensors[name] else { continue }
      guard record.dtype.isWritable else {
        throw SafetensorsError(
          .wrongDType, tensor: name,
          "i2x writes F32, I64 and U8 tensors; convert '\(name)' (\(record.dtype.rawValue)) first")
      }
      let shape = record.shape.map(String.init).joined(separator: ",")
      entries.append(
        "\(JSONText.quote(name)):{\"dtype\":\"\(record.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + record.data.count)]}"
      )
      offset += record.data.count
    }
    header += entries.joined(separator: ",") + "}"
    var headerBytes = Array(header.utf8)
    while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
    var out = [UInt8]()
    out.reserveCapacity(8 + headerBytes.count + offset)
    withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { out.append(contentsOf: $0) }
    out.append(contentsOf: headerBytes)
    for name in names { out.append(contentsOf: tensors[name]?.data ?? []) }
    return out
  }

  /// Writes the file atomically: a temporary file in the same directory, fsync, rename.
  /// - Throws: `SafetensorsError` (rule `io` or `wrongDType`).
  public func write(to url: URL) throws(SafetensorsError) {
    try AtomicFile.write(try serialized(), to: url)
  }
}

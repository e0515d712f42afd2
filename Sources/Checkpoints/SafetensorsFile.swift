import Foundation

/// A safetensors file: named tensors plus a `__metadata__` string map.
///
/// Layout (https://github.com/huggingface/safetensors): an 8-byte little-endian header length
/// N; N bytes of UTF-8 JSON mapping each tensor name to
/// `{"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}` (offsets relative to the
/// data section), plus an optional `"__metadata__"` string map; then the data section.
///
/// `init(bytes:)` validates every rule in `SafetensorsError.Rule` before it copies any tensor.
/// `serialized()` orders tensors by name, lays them out contiguously in that order and pads
/// the header with spaces to a multiple of 8 bytes, as the Python library does.
public struct SafetensorsFile: Sendable, Equatable {
  /// Largest header `init(bytes:)` accepts by default (`Limits.default.maximumHeaderBytes`).
  public static var maximumHeaderLength: Int { Limits.default.maximumHeaderBytes }

  /// Tensors by name.
  public var tensors: [String: TensorRecord]
  /// The `__metadata__` map (written only when non-empty).
  public var metadata: [String: String]

  /// Creates a file in memory.
  /// - Parameters:
  ///   - tensors: Tensors by name; `__metadata__` is reserved and cannot be written.
  ///   - metadata: Free-form string pairs stored under `__metadata__`.
  public init(tensors: [String: TensorRecord] = [:], metadata: [String: String] = [:]) {
    self.tensors = tensors
    self.metadata = metadata
  }

  /// Reads and validates the file at `url`.
  /// - Parameter limits: Caps on the header (see `init(bytes:limits:)`).
  /// - Throws: `SafetensorsError` with rule `io` when the file cannot be read, otherwise the
  ///   rule the contents break (see `init(bytes:limits:)`).
  public init(contentsOf url: URL, limits: Limits = .default) throws(SafetensorsError) {
    let data: Data
    do {
      data = try Data(contentsOf: url)
    } catch {
      throw SafetensorsError(
        .io, tensor: nil,
        "cannot read \(url.path): \(error.localizedDescription); check the path and permissions")
    }
    try self.init(bytes: [UInt8](data), limits: limits)
  }

  /// The tensor `name`.
  /// - Throws: `SafetensorsError` with rule `missingTensor`, listing a few names that exist.
  public func tensor(_ name: String) throws(SafetensorsError) -> TensorRecord {
    guard let record = tensors[name] else {
      let names = tensors.keys.sorted()
      var known = names.prefix(8).map { "'\($0)'" }.joined(separator: ", ")
      if names.count > 8 { known += " and \(names.count - 8) more" }
      throw SafetensorsError(
        .missingTensor, tensor: name,
        "no tensor named '\(name)'; the file has \(names.isEmpty ? "no tensors" : known)")
    }
    return record
  }

  /// The tensor `name`, as `tensor(_:)`.
  /// - Throws: `SafetensorsError` with rule `missingTensor`, listing a few names that exist.
  public subscript(_ name: String) -> TensorRecord {
    get throws(SafetensorsError) { try tensor(name) }
  }

  /// Writes the file to `url` atomically: a temporary file in the same directory, fsync,
  /// rename over `url`, fsync of the directory.
  /// - Throws: `SafetensorsError` with the rule `serialized()` throws, or `io`.
  public func write(to url: URL) throws(SafetensorsError) {
    try AtomicFile.write(try serialized(), to: url)
  }
}

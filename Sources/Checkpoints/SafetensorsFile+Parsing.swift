import Foundation

extension SafetensorsFile {
  /// Parses and validates a file's bytes.
  /// - Throws: `SafetensorsError` naming the rule and, where there is one, the tensor.
  public init(bytes: [UInt8]) throws(SafetensorsError) {
    guard bytes.count >= 8 else {
      throw SafetensorsError(
        .truncated, tensor: nil, "file has \(bytes.count) bytes, fewer than the 8-byte header length")
    }
    let claimed = bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    guard claimed <= UInt64(Self.maximumHeaderLength) else {
      throw SafetensorsError(
        .headerTooLarge, tensor: nil, "header length \(claimed) exceeds the \(Self.maximumHeaderLength)-byte cap")
    }
    let headerLength = Int(claimed)
    guard 8 + headerLength <= bytes.count else {
      throw SafetensorsError(
        .headerPastEnd, tensor: nil,
        "header length \(headerLength) runs past the end of the \(bytes.count)-byte file; is it truncated?")
    }
    guard let text = String(validating: bytes[8..<(8 + headerLength)], as: UTF8.self) else {
      throw SafetensorsError(.headerNotUTF8, tensor: nil, "header is not valid UTF-8")
    }
    let keys = try JSONText.topLevelKeys(text)
    var seen = Set<String>()
    for key in keys where !seen.insert(key).inserted {
      throw SafetensorsError(.duplicateName, tensor: key, "tensor name '\(key)' appears twice in the header")
    }
    guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
      throw SafetensorsError(.invalidJSON, tensor: nil, "header is not a JSON object")
    }
    let dataStart = 8 + headerLength
    let dataLength = bytes.count - dataStart
    var metadata: [String: String] = [:]
    var layout: [(name: String, dtype: DType, shape: [Int], begin: Int, end: Int)] = []
    for (name, value) in object {
      if name == "__metadata__" {
        guard let map = value as? [String: Any] else {
          throw SafetensorsError(.invalidMetadata, tensor: nil, "__metadata__ must be an object of strings")
        }
        for (key, item) in map {
          guard let string = item as? String else {
            throw SafetensorsError(.invalidMetadata, tensor: nil, "__metadata__ value for '\(key)' is not a string")
          }
          metadata[key] = string
        }
        continue
      }
      layout.append(try Self.entry(name, value))
    }
    for item in layout {
      guard item.begin >= 0, item.begin <= item.end else {
        throw SafetensorsError(
          .offsetsOutOfBounds, tensor: item.name,
          "data_offsets [\(item.begin), \(item.end)] are not an ordered pair of non-negative offsets")
      }
      let (elements, overflow1) = item.shape.reduce((1, false)) { acc, d in
        let r = acc.0.multipliedReportingOverflow(by: d)
        return (r.partialValue, acc.1 || r.overflow)
      }
      let (expected, overflow2) = elements.multipliedReportingOverflow(by: item.dtype.byteSize)
      guard !overflow1, !overflow2 else {
        throw SafetensorsError(.invalidShape, tensor: item.name, "shape \(item.shape) is too large")
      }
      guard item.end - item.begin == expected else {
        throw SafetensorsError(
          .byteCountMismatch, tensor: item.name,
          "holds \(item.end - item.begin) bytes but shape \(item.shape) of \(item.dtype.rawValue) needs \(expected)")
      }
    }
    var cursor = 0
    for item in layout.sorted(by: { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }) {
      if item.begin < cursor {
        throw SafetensorsError(
          .offsetsNotContiguous, tensor: item.name,
          "data_offsets [\(item.begin), \(item.end)] overlap the previous tensor (which ends at \(cursor))")
      }
      if item.begin > cursor {
        throw SafetensorsError(
          .offsetsNotContiguous, tensor: item.name,
          "data_offsets start at \(item.begin), leaving a gap after byte \(cursor)")
      }
      if item.end > dataLength {
        let rule: SafetensorsError.Rule = item.begin > dataLength ? .offsetsOutOfBounds : .truncated
        throw SafetensorsError(
          rule, tensor: item.name, "data ends at byte \(item.end) but the file has only \(dataLength) data bytes")
      }
      cursor = item.end
    }
    guard cursor == dataLength else {
      throw SafetensorsError(
        .offsetsNotContiguous, tensor: nil,
        "\(dataLength - cursor) bytes after the last tensor are not described by the header")
    }
    var tensors: [String: TensorRecord] = [:]
    for item in layout {
      tensors[item.name] = TensorRecord(
        dtype: item.dtype, shape: item.shape, data: Array(bytes[(dataStart + item.begin)..<(dataStart + item.end)]))
    }
    self.init(tensors: tensors, metadata: metadata)
  }

  private static func entry(
    _ name: String, _ value: Any
  ) throws(SafetensorsError) -> (name: String, dtype: DType, shape: [Int], begin: Int, end: Int) {
    guard let fields = value as? [String: Any] else {
      throw SafetensorsError(.invalidJSON, tensor: name, "entry is not an object with dtype, shape and data_offsets")
    }
    guard let dtypeName = fields["dtype"] as? String else {
      throw SafetensorsError(.invalidJSON, tensor: name, "missing string field 'dtype'")
    }
    guard let dtype = DType(rawValue: dtypeName) else {
      throw SafetensorsError(
        .unknownDType, tensor: name,
        "dtype '\(dtypeName)' is not one of \(DType.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    guard let shapeValues = fields["shape"] as? [Any] else {
      throw SafetensorsError(.invalidJSON, tensor: name, "missing array field 'shape'")
    }
    var shape: [Int] = []
    for item in shapeValues {
      guard let number = JSONText.integer(item), number >= 0 else {
        throw SafetensorsError(.invalidShape, tensor: name, "shape \(shapeValues) must hold non-negative integers")
      }
      shape.append(number)
    }
    guard let offsets = fields["data_offsets"] as? [Any], offsets.count == 2,
      let begin = JSONText.integer(offsets[0]), let end = JSONText.integer(offsets[1])
    else {
      throw SafetensorsError(.invalidJSON, tensor: name, "'data_offsets' must be [begin, end] integers")
    }
    return (name, dtype, shape, begin, end)
  }
}

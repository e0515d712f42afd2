extension SafetensorsFile {
  /// Parses and validates a file's bytes.
  ///
  /// Checks, in order: the 8-byte length (`truncated`), the header byte cap (`headerTooLarge`,
  /// before anything of that size is touched), the header lying inside the file (`truncated`
  /// when the bytes present start a JSON object, else `headerPastEnd`), UTF-8
  /// (`headerNotUTF8`), the tensor cap (`tooManyTensors`: a scan counts the top-level members
  /// before the JSON is parsed, so far too many are refused before any entry is built), JSON
  /// (`invalidJSON`), the exact tensor count (`tooManyTensors`), unique names (`duplicateName`),
  /// `__metadata__` (`invalidMetadata`), each entry (`invalidJSON`, `unknownDType`,
  /// `invalidShape`), then the layout of the data section (see `HeaderLayout`). Tensors are
  /// copied only after every check has passed.
  /// - Parameters:
  ///   - bytes: The whole file.
  ///   - limits: Caps on the header size and tensor count; the defaults admit any real checkpoint.
  /// - Throws: `SafetensorsError` naming the rule and, where there is one, the tensor.
  public init(bytes: [UInt8], limits: Limits = .default) throws(SafetensorsError) {
    guard bytes.count >= 8 else {
      throw SafetensorsError(
        .truncated, tensor: nil,
        "the file has \(bytes.count) bytes, fewer than the 8-byte header length; it is truncated "
          + "or not a safetensors file")
    }
    let claimed = bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    guard claimed <= UInt64(max(0, limits.maximumHeaderBytes)) else {
      throw SafetensorsError(
        .headerTooLarge, tensor: nil,
        "the header length is \(claimed) bytes, over the \(limits.maximumHeaderBytes)-byte cap "
          + "(SafetensorsFile.Limits.maximumHeaderBytes); the file is corrupt or not a safetensors file")
    }
    let headerLength = Int(claimed)
    let available = bytes.count - 8
    guard headerLength <= available else {
      if available > 0 && bytes[8] == UInt8(ascii: "{") {
        throw SafetensorsError(
          .truncated, tensor: nil,
          "the file ends inside its \(headerLength)-byte header (only \(available) bytes follow "
            + "the length); it is truncated, write or download it again")
      }
      throw SafetensorsError(
        .headerPastEnd, tensor: nil,
        "the header length \(headerLength) runs past the end of the \(bytes.count)-byte file and "
          + "no JSON header follows it; check that this is a safetensors file")
    }
    let headerBytes = Array(bytes[8..<(8 + headerLength)])
    guard String(validating: headerBytes, as: UTF8.self) != nil else {
      throw SafetensorsError(
        .headerNotUTF8, tensor: nil,
        "the header is not valid UTF-8; the file is corrupt or not a safetensors file")
    }
    let members = try Self.headerMembers(headerBytes, maximumTensors: limits.maximumTensors)
    var metadata: [String: String] = [:]
    var entries: [HeaderEntry] = []
    for (key, value) in members {
      if key == "__metadata__" {
        metadata = try Self.metadata(value)
      } else {
        entries.append(try HeaderEntry(name: key, value: value))
      }
    }
    let dataStart = 8 + headerLength
    try HeaderLayout.validate(entries, dataLength: bytes.count - dataStart)
    var tensors: [String: TensorRecord] = [:]
    for entry in entries {
      tensors[entry.name] = TensorRecord(
        dtype: entry.dtype, shape: entry.shape,
        data: Array(bytes[(dataStart + entry.begin)..<(dataStart + entry.end)]))
    }
    self.init(tensors: tensors, metadata: metadata)
  }

  /// The header's top-level members in file order.
  /// - Throws: `tooManyTensors` when there are more than `maximumTensors` entries besides
  ///   `__metadata__` (decided by a scan before parsing when there are far more),
  ///   `invalidJSON` if it is not a JSON object, `duplicateName` if a key repeats.
  private static func headerMembers(
    _ header: [UInt8], maximumTensors: Int
  ) throws(SafetensorsError) -> [(key: String, value: JSONValue)] {
    func tooMany() -> SafetensorsError {
      SafetensorsError(
        .tooManyTensors, tensor: nil,
        "the header describes more than \(maximumTensors) tensors (the cap, "
          + "SafetensorsFile.Limits.maximumTensors; real checkpoints have at most a few thousand); the file "
          + "is corrupt or hostile, or raise the cap if it is genuine")
    }
    // One member may be __metadata__, so only more than maximumTensors + 1 is surely too many.
    guard !JSONParser.topLevelMembersExceed(min(maximumTensors, Int.max - 1) + 1, in: header) else {
      throw tooMany()
    }
    let root: JSONValue
    do {
      root = try JSONParser.parse(header)
    } catch {
      throw SafetensorsError(
        .invalidJSON, tensor: nil,
        "the header is not valid JSON (\(error.reason) at byte \(error.offset) of the header); "
          + "the file is corrupt")
    }
    guard case .object(let members) = root else {
      throw SafetensorsError(
        .invalidJSON, tensor: nil,
        "the header is \(root.kind), expected a JSON object of tensor entries")
    }
    guard members.count(where: { $0.key != "__metadata__" }) <= maximumTensors else { throw tooMany() }
    var seen = Set<String>()
    for member in members {
      guard seen.insert(member.key).inserted else {
        throw SafetensorsError(
          .duplicateName, tensor: member.key,
          "the header names '\(member.key)' twice; a file must give each tensor one entry")
      }
    }
    return members
  }

  /// The `__metadata__` value as a string map.
  /// - Throws: `invalidMetadata` unless it is an object of strings with distinct keys.
  private static func metadata(_ value: JSONValue) throws(SafetensorsError) -> [String: String] {
    guard case .object(let pairs) = value else {
      throw SafetensorsError(
        .invalidMetadata, tensor: nil,
        "__metadata__ is \(value.kind), expected an object of string values")
    }
    var metadata: [String: String] = [:]
    for (key, item) in pairs {
      guard case .string(let string) = item else {
        throw SafetensorsError(
          .invalidMetadata, tensor: nil,
          "__metadata__ value for '\(key)' is \(item.kind) (\(item.text)); metadata values must be "
            + "strings, so store numbers and lists as JSON text")
      }
      guard metadata.updateValue(string, forKey: key) == nil else {
        throw SafetensorsError(
          .invalidMetadata, tensor: nil, "__metadata__ has key '\(key)' twice; keep one")
      }
    }
    return metadata
  }
}

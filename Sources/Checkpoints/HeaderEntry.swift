/// One tensor's entry in a safetensors header, decoded and type-checked but not yet checked
/// against the data section.
struct HeaderEntry: Equatable {
  /// The tensor name (the header key).
  var name: String
  /// Element type.
  var dtype: DType
  /// Dimensions, each a non-negative integer.
  var shape: [Int]
  /// Start of the tensor's bytes, relative to the data section.
  var begin: Int
  /// End (exclusive) of the tensor's bytes, relative to the data section.
  var end: Int

  /// Decodes `{"dtype": .., "shape": [..], "data_offsets": [begin, end]}`; other fields are
  /// ignored, as the reference implementation does.
  /// - Throws: `SafetensorsError` with rule `invalidJSON` (missing, repeated or ill-typed
  ///   field), `unknownDType`, `invalidShape` or `offsetsOutOfBounds` (negative offset).
  init(name: String, value: JSONValue) throws(SafetensorsError) {
    func fail(_ rule: SafetensorsError.Rule, _ message: String) -> SafetensorsError {
      SafetensorsError(rule, tensor: name, "tensor '\(name)': \(message)")
    }
    guard case .object(let members) = value else {
      throw fail(
        .invalidJSON,
        "entry is \(value.kind), expected an object with dtype, shape and data_offsets")
    }
    var fields: [String: JSONValue] = [:]
    for member in members {
      guard fields.updateValue(member.value, forKey: member.key) == nil else {
        throw fail(.invalidJSON, "field '\(member.key)' appears twice; keep one")
      }
    }
    guard let dtypeField = fields["dtype"] else {
      throw fail(.invalidJSON, "missing field 'dtype'")
    }
    guard case .string(let dtypeName) = dtypeField else {
      throw fail(.invalidJSON, "'dtype' is \(dtypeField.kind), expected a string such as \"F32\"")
    }
    guard let dtype = DType(rawValue: dtypeName) else {
      let known = DType.allCases.map(\.rawValue).joined(separator: ", ")
      throw fail(
        .unknownDType,
        "dtype \"\(dtypeName)\" is not supported; convert the tensor to one of \(known)")
    }
    guard let shapeField = fields["shape"] else {
      throw fail(.invalidJSON, "missing field 'shape'")
    }
    guard case .array(let dimensions) = shapeField else {
      throw fail(.invalidJSON, "'shape' is \(shapeField.kind), expected an array of integers")
    }
    var shape: [Int] = []
    for dimension in dimensions {
      guard case .exact(let extent) = dimension.integer, extent >= 0 else {
        throw fail(
          .invalidShape,
          "shape \(shapeField.text) has entry \(dimension.text); dimensions must be non-negative "
            + "integers")
      }
      shape.append(extent)
    }
    guard let offsetsField = fields["data_offsets"] else {
      throw fail(.invalidJSON, "missing field 'data_offsets'")
    }
    guard case .array(let offsets) = offsetsField, offsets.count == 2 else {
      throw fail(.invalidJSON, "'data_offsets' is \(offsetsField.text), expected [begin, end]")
    }
    var bounds: [Int] = []
    for offset in offsets {
      switch offset.integer {
      case .exact(let value) where value >= 0: bounds.append(value)
      case .exact, .outOfRange:
        throw fail(
          .offsetsOutOfBounds,
          "data_offsets \(offsetsField.text) fall outside any file; the header is corrupt")
      case .notInteger:
        throw fail(.invalidJSON, "data_offsets \(offsetsField.text) must be two integers")
      }
    }
    self.name = name
    self.dtype = dtype
    self.shape = shape
    self.begin = bounds[0]
    self.end = bounds[1]
  }
}

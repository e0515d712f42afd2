/// Why a safetensors file was rejected: the rule it broke and the tensor it concerns.
public struct SafetensorsError: Error, CustomStringConvertible, Equatable {
  /// The validation rules of the reader (DESIGN §3).
  public enum Rule: String, Sendable {
    /// Shorter than its 8-byte header length or than its header/data claim.
    case truncated
    /// Header length runs past the end of the file.
    case headerPastEnd
    /// Header length over the 100 MB cap.
    case headerTooLarge
    /// Header bytes are not UTF-8.
    case headerNotUTF8
    /// Header is not a JSON object of well-formed entries.
    case invalidJSON
    /// A tensor's dtype is not one of F32, F16, BF16, I64, I32, U8.
    case unknownDType
    /// A shape entry is negative, not an integer, or the product overflows.
    case invalidShape
    /// `data_offsets` point outside the data section or begin > end.
    case offsetsOutOfBounds
    /// Tensors overlap or leave gaps in the data section.
    case offsetsNotContiguous
    /// Byte count ≠ shape product × dtype size.
    case byteCountMismatch
    /// The same tensor name appears twice.
    case duplicateName
    /// `__metadata__` is not a map of strings.
    case invalidMetadata
    /// A tensor the caller needs is absent.
    case missingTensor
    /// A tensor has a dtype the operation does not support.
    case wrongDType
    /// The file could not be read or written.
    case io
  }

  /// The rule broken.
  public var rule: Rule
  /// The tensor concerned, if any.
  public var tensor: String?
  /// A sentence naming the problem and what to do.
  public var message: String

  /// Creates an error.
  public init(_ rule: Rule, tensor: String?, _ message: String) {
    self.rule = rule
    self.tensor = tensor
    self.message = message
  }

  public var description: String {
    "invalid safetensors (\(rule.rawValue))\(tensor.map { " in tensor '\($0)'" } ?? ""): \(message)"
  }
}

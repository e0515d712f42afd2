/// Why a safetensors file was rejected or could not be read or written: the rule it broke,
/// the tensor it concerns, and a message saying what went wrong and what to do.
public struct SafetensorsError: Error, CustomStringConvertible, Equatable {
  /// The rules the reader and writer enforce (DESIGN.md, "Checkpoint file").
  public enum Rule: String, Sendable, CaseIterable {
    /// The file ends early: fewer than 8 bytes, inside the header that the bytes present begin,
    /// or before the end of a tensor whose offsets otherwise tile the data section.
    case truncated
    /// The header length runs past the end of the file and no JSON header follows it.
    case headerPastEnd
    /// The header length is over the cap (`SafetensorsFile.Limits.maximumHeaderBytes`).
    case headerTooLarge
    /// The header describes more tensors than the cap (`SafetensorsFile.Limits.maximumTensors`).
    case tooManyTensors
    /// The header bytes are not valid UTF-8.
    case headerNotUTF8
    /// The header is not JSON, not a JSON object, or an entry's fields are missing or ill-typed.
    case invalidJSON
    /// A tensor's dtype is not one of F32, F16, BF16, I64, I32, U8.
    case unknownDType
    /// A shape entry is negative or not an integer, or the shape's byte size overflows.
    case invalidShape
    /// `data_offsets` has begin > end, or a tensor starts past the end of the data section.
    case offsetsOutOfBounds
    /// Tensors overlap, leave a gap, or leave bytes after the last tensor undescribed.
    case offsetsNotContiguous
    /// A tensor's byte count is not its shape's element count × its dtype's size.
    case byteCountMismatch
    /// The same tensor name appears twice in the header.
    case duplicateName
    /// `__metadata__` is not an object of string values.
    case invalidMetadata
    /// A tensor is named `__metadata__`, which the format reserves (writer).
    case reservedName
    /// A tensor the caller asked for is absent.
    case missingTensor
    /// A tensor's dtype is not supported by the operation (conversion or writing).
    case wrongDType
    /// The file could not be read or written.
    case io
  }

  /// The rule broken.
  public var rule: Rule
  /// The tensor concerned, if there is one.
  public var tensor: String?
  /// What went wrong and what to do about it.
  public var message: String

  /// Creates an error.
  /// - Parameters:
  ///   - rule: The rule broken.
  ///   - tensor: The tensor concerned, if any.
  ///   - message: What went wrong and what to do; it should name the tensor when there is one.
  public init(_ rule: Rule, tensor: String?, _ message: String) {
    self.rule = rule
    self.tensor = tensor
    self.message = message
  }

  /// The message, prefixed with the tensor when the message does not name it, and the rule.
  public var description: String {
    var text = message
    if let tensor, !message.contains("'\(tensor)'") {
      text = "tensor '\(tensor)': " + text
    }
    return "safetensors: \(text) [rule: \(rule.rawValue)]"
  }
}

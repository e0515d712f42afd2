/// A dataset that cannot be read, with what to do about it.
public struct DatasetError: Error, CustomStringConvertible, Equatable {
  /// The file or dataset concerned.
  public var source: String
  /// What is wrong and what to do.
  public var message: String
  /// Whether the data is absent (exit 66) rather than malformed (exit 65).
  public var isMissing: Bool

  /// Creates an error.
  public init(source: String, _ message: String, isMissing: Bool = false) {
    self.source = source
    self.message = message
    self.isMissing = isMissing
  }

  public var description: String { "\(source): \(message)" }
}

/// A request the daemon refuses; sent back as an `error` message, never fatal.
public struct DaemonError: Error, CustomStringConvertible, Equatable {
  /// Machine-readable codes of `error` replies.
  public enum Code: String, Sendable {
    /// The message or its payload is malformed.
    case badData = "bad-data"
    /// The run is not registered.
    case unknownRun = "unknown-run"
    /// A re-send that contradicts what is stored.
    case conflict
    /// A query the daemon does not know.
    case unknownQuery = "unknown-query"
    /// A message type the daemon does not accept.
    case unknownType = "unknown-type"
    /// Another protocol version.
    case unsupportedVersion = "unsupported-version"
    /// The answer does not exist yet (analysis still queued).
    case notReady = "not-ready"
    /// The analysis of the checkpoint asked for failed for good; the message says why.
    case analysisFailed = "analysis-failed"
    /// The daemon failed (disk full, database error); retry later.
    case internalError = "internal"
  }

  /// Code.
  public var code: Code
  /// What went wrong and what to do.
  public var message: String

  /// Creates an error.
  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  public var description: String { message }
}

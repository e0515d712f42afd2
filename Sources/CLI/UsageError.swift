/// A command line that cannot be run: printed as `error: <message>` plus a hint; exit 64.
public struct UsageError: Error, CustomStringConvertible, ExitCodeProviding, Equatable {
  /// What is wrong.
  public var message: String
  /// What to do about it (e.g. `see 'i2x-train train --help'`).
  public var hint: String?

  /// Creates a usage error.
  public init(_ message: String, hint: String? = nil) {
    self.message = message
    self.hint = hint
  }

  public var description: String { message }
  public var exitCode: ExitCode { .usage }
}

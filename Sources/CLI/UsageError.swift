/// A command line that cannot be run: printed as `error: <message>` plus `hint: <hint>` on
/// stderr, exit code 64 (`ExitCode.usage`).
public struct UsageError: Error, CustomStringConvertible, ExitCodeProviding, Equatable {
  /// What is wrong (`'--epochs' expects an integer, got 'x'`).
  public var message: String
  /// What to do about it (`see 'i2x-train train --help'`); nil lets `Tool` point at the
  /// subcommand's help.
  public var hint: String?

  /// Creates a usage error.
  /// - Parameters:
  ///   - message: What is wrong, without the `error: ` prefix.
  ///   - hint: What to do about it, without the `hint: ` prefix.
  public init(_ message: String, hint: String? = nil) {
    self.message = message
    self.hint = hint
  }

  /// The message alone, as printed after `error: `.
  public var description: String { message }

  /// Always `ExitCode.usage` (64, EX_USAGE).
  public var exitCode: ExitCode { .usage }
}

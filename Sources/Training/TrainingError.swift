import CLI

/// Failures of a training or evaluation job that a user can act on.
public struct TrainingError: Error, CustomStringConvertible, ExitCodeProviding {
  /// What went wrong and what to do.
  public var description: String
  /// Process exit code (65 for bad data by default).
  public var exitCode: ExitCode

  /// Creates an error.
  public init(_ description: String, exitCode: ExitCode = .dataError) {
    self.description = description
    self.exitCode = exitCode
  }
}

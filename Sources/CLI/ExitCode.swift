/// Process exit codes (BSD sysexits, as the Unix tools we imitate use them).
public enum ExitCode: Int32, Sendable {
  /// Success.
  case success = 0
  /// Generic failure.
  case failure = 1
  /// Bad command line (EX_USAGE).
  case usage = 64
  /// Bad input data (EX_DATAERR).
  case dataError = 65
  /// An input file does not exist (EX_NOINPUT).
  case noInput = 66
  /// A service is unavailable (EX_UNAVAILABLE).
  case unavailable = 69
  /// Internal error (EX_SOFTWARE).
  case software = 70
  /// An output file or directory cannot be created (EX_CANTCREAT).
  case cannotCreate = 73
  /// I/O error (EX_IOERR).
  case ioError = 74
}

/// Errors that know which exit code they deserve.
public protocol ExitCodeProviding: Error {
  /// The process exit code for this error.
  var exitCode: ExitCode { get }
}

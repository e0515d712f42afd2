import CLI
import Checkpoints
import Datasets
import Models

// Library errors mapped to sysexits codes at the tool boundary.

extension DatasetError: ExitCodeProviding {
  /// 66 when the dataset is absent, 65 when it is malformed.
  public var exitCode: ExitCode { isMissing ? .noInput : .dataError }
}

extension SafetensorsError: ExitCodeProviding {
  /// 74 for I/O failures, 65 for malformed files.
  public var exitCode: ExitCode { rule == .io ? .ioError : .dataError }
}

extension ArchitectureError: ExitCodeProviding {
  /// 65: the architecture description is bad data.
  public var exitCode: ExitCode { .dataError }
}

extension StateDictError: ExitCodeProviding {
  /// 65: the weights do not fit.
  public var exitCode: ExitCode { .dataError }
}

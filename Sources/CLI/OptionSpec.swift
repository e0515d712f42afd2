/// One `--name` option of a command: a flag, or an option taking a value.
///
/// ```swift
/// .value("epochs", "N", "Passes over the training split.", default: "1")
/// .value("out", "DIR", "Output directory.", required: true)
/// .flag("json", "Print JSON.")
/// ```
public struct OptionSpec: Sendable, Equatable {
  /// Long name without dashes (`epochs` → `--epochs`).
  public var name: String
  /// Placeholder of the value in help (`N`, `DIR`); nil for a flag.
  public var valueName: String?
  /// One-line help.
  public var help: String
  /// Default shown in help as `(default: …)` and returned by the accessors when the option is
  /// absent.
  public var defaultValue: String?
  /// Whether the option must be given (a missing one is a usage error).
  public var required: Bool

  /// Creates an option; prefer `value(_:_:_:default:required:)` and `flag(_:_:)`.
  public init(name: String, valueName: String?, help: String, defaultValue: String?, required: Bool) {
    self.name = name
    self.valueName = valueName
    self.help = help
    self.defaultValue = defaultValue
    self.required = required
  }

  /// An option taking a value (`--name VALUE` or `--name=VALUE`).
  /// - Parameters:
  ///   - name: Long name without dashes.
  ///   - valueName: Placeholder shown in help (`N`, `DIR`, `FILE`).
  ///   - help: One-line help.
  ///   - defaultValue: Used when the option is absent; shown in help.
  ///   - required: Whether a missing option is a usage error.
  public static func value(
    _ name: String, _ valueName: String, _ help: String, default defaultValue: String? = nil,
    required: Bool = false
  ) -> OptionSpec {
    OptionSpec(
      name: name, valueName: valueName, help: help, defaultValue: defaultValue, required: required)
  }

  /// A boolean flag (`--name`), false when absent.
  /// - Parameters:
  ///   - name: Long name without dashes.
  ///   - help: One-line help.
  public static func flag(_ name: String, _ help: String) -> OptionSpec {
    OptionSpec(name: name, valueName: nil, help: help, defaultValue: nil, required: false)
  }

  /// Whether the option is a flag (takes no value).
  public var isFlag: Bool { valueName == nil }

  /// `--name <VALUE>` or `--name`, as in usage lines and error messages.
  var synopsis: String { "--\(name)" + (valueName.map { " <\($0)>" } ?? "") }
}

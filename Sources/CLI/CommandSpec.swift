/// One `--name` option of a command.
public struct OptionSpec: Sendable {
  /// Long name without dashes (`epochs` → `--epochs`).
  public var name: String
  /// Placeholder of the value in help (`N`, `DIR`); nil for a flag.
  public var valueName: String?
  /// One-line help.
  public var help: String
  /// Default shown in help and returned when the option is absent.
  public var defaultValue: String?
  /// Whether the option must be given.
  public var required: Bool

  /// An option taking a value.
  public static func value(
    _ name: String, _ valueName: String, _ help: String, default defaultValue: String? = nil,
    required: Bool = false
  ) -> OptionSpec {
    OptionSpec(name: name, valueName: valueName, help: help, defaultValue: defaultValue, required: required)
  }

  /// A boolean flag.
  public static func flag(_ name: String, _ help: String) -> OptionSpec {
    OptionSpec(name: name, valueName: nil, help: help, defaultValue: nil, required: false)
  }
}

/// A command's options and help text (swift-argument-parser's layout).
public struct CommandSpec: Sendable {
  /// Full command name (`i2x-train train`).
  public var name: String
  /// One-line summary.
  public var abstract: String
  /// Options in help order (`--help` is implicit).
  public var options: [OptionSpec]
  /// Extra paragraphs after the options.
  public var discussion: String?
  /// Required positional arguments, in order (name, help).
  public var arguments: [(name: String, help: String)]

  /// Creates a command description.
  public init(
    name: String, abstract: String, arguments: [(name: String, help: String)] = [], options: [OptionSpec],
    discussion: String? = nil
  ) {
    self.name = name
    self.abstract = abstract
    self.arguments = arguments
    self.options = options
    self.discussion = discussion
  }

  /// `OVERVIEW:`, `USAGE:` and `OPTIONS:` sections.
  public var helpText: String {
    var usage = name
    for argument in arguments { usage += " <\(argument.name)>" }
    for option in options {
      let part = "--\(option.name)" + (option.valueName.map { " <\($0)>" } ?? "")
      usage += option.required ? " \(part)" : " [\(part)]"
    }
    var lines = ["OVERVIEW: \(abstract)", "", "USAGE: \(usage)", ""]
    if !arguments.isEmpty {
      lines.append("ARGUMENTS:")
      for argument in arguments { lines.append("  <\(argument.name)>  \(argument.help)") }
      lines.append("")
    }
    lines.append("OPTIONS:")
    let rows =
      options.map { option -> (String, String) in
        let left = "--\(option.name)" + (option.valueName.map { " <\($0)>" } ?? "")
        var right = option.help
        if let value = option.defaultValue { right += " (default: \(value))" }
        return (left, right)
      } + [("-h, --help", "Show help information.")]
    let width = min(28, (rows.map(\.0.count).max() ?? 0) + 2)
    for (left, right) in rows {
      let padded = left.count < width ? left + String(repeating: " ", count: width - left.count) : left + "  "
      lines.append("  \(padded)\(right)")
    }
    if let discussion { lines += ["", discussion] }
    return lines.joined(separator: "\n")
  }

  /// The hint printed under a usage error.
  public var hint: String { "see '\(name) --help'" }
}

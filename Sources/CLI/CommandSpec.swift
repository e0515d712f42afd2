/// A command's positional arguments, options and help text, laid out as in
/// swift-argument-parser (`OVERVIEW:`, `USAGE:`, `ARGUMENTS:`, `OPTIONS:`).
///
/// `-h`/`--help` is implicit. Parse a command line with `ParsedOptions(_:spec:)`.
public struct CommandSpec: Sendable {
  /// Full command name as typed (`i2x-train train`).
  public var name: String
  /// One-line summary.
  public var abstract: String
  /// Options in help order.
  public var options: [OptionSpec]
  /// Extra paragraphs printed after the options, as written (not re-wrapped).
  public var discussion: String?
  /// Required positional arguments, in order: name (shown as `<name>`) and help.
  public var arguments: [(name: String, help: String)]

  /// Creates a command description.
  ///
  /// Traps on a malformed spec (a programmer error): an empty, dashed, repeated or reserved
  /// (`help`) option name, a required flag, or a repeated argument name.
  /// - Parameters:
  ///   - name: Full command name (`i2x-train train`).
  ///   - abstract: One-line summary.
  ///   - arguments: Required positional arguments (name, help), in order.
  ///   - options: Options in help order.
  ///   - discussion: Extra paragraphs after the options.
  public init(
    name: String, abstract: String, arguments: [(name: String, help: String)] = [],
    options: [OptionSpec],
    discussion: String? = nil
  ) {
    var seen: Set<String> = ["help"]
    for option in options {
      precondition(
        !option.name.isEmpty && !option.name.hasPrefix("-") && !option.name.contains("="),
        "\(name): option name '\(option.name)' must be non-empty, without leading dashes or '='")
      precondition(
        seen.insert(option.name).inserted,
        "\(name): option '--\(option.name)' declared twice or reserved")
      precondition(
        !(option.isFlag && option.required), "\(name): flag '--\(option.name)' cannot be required")
    }
    precondition(
      Set(arguments.map(\.name)).count == arguments.count,
      "\(name): positional argument names must be unique")
    self.name = name
    self.abstract = abstract
    self.arguments = arguments
    self.options = options
    self.discussion = discussion
  }

  /// The option called `name`, if declared.
  public func option(named name: String) -> OptionSpec? {
    options.first { $0.name == name }
  }

  /// The hint printed under a usage error: `see '<name> --help'`.
  public var hint: String { "see '\(name) --help'" }
}

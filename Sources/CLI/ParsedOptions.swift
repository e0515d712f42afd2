/// A command line parsed against a `CommandSpec`: option values, flags and positional
/// arguments, read through typed accessors (`ParsedOptions+Values.swift`) that throw
/// `UsageError`s naming the option.
///
/// Accepted syntax, as in swift-argument-parser: `--name value`, `--name=value`, `--flag`,
/// positional arguments anywhere, and `--` to end options (everything after it is positional).
public struct ParsedOptions: Sendable {
  /// The command they were parsed for (defaults, hints).
  public let spec: CommandSpec
  /// Values given on the command line, by option name; flags map to "true".
  public let values: [String: String]
  /// Positional arguments, in order (exactly `spec.arguments.count` of them).
  public let positionals: [String]

  /// Parses `arguments` (the words after the command name).
  /// - Throws: `HelpRequested` if `-h`/`--help` appears before `--`. `UsageError` for an
  ///   unknown option (with a "did you mean" suggestion), a repeated option, an option missing
  ///   its value, a value given to a flag, a stray or missing positional argument, or a
  ///   missing required option.
  public init(_ arguments: [String], spec: CommandSpec) throws {
    let optionPart = arguments.prefix { $0 != "--" }
    if optionPart.contains(where: { $0 == "-h" || $0 == "--help" }) {
      throw HelpRequested(text: spec.helpText)
    }
    self.spec = spec
    var values: [String: String] = [:]
    var positionals: [String] = []
    var remaining = arguments[...]
    var optionsEnded = false
    while let argument = remaining.popFirst() {
      if argument == "--" && !optionsEnded {
        optionsEnded = true
      } else if optionsEnded || !Self.looksLikeOption(argument) {
        guard positionals.count < spec.arguments.count else {
          throw UsageError("unexpected argument '\(argument)'", hint: spec.hint)
        }
        positionals.append(argument)
      } else {
        let (option, inline) = try Self.option(for: argument, in: spec)
        guard values[option.name] == nil else {
          throw UsageError("option '--\(option.name)' given twice", hint: spec.hint)
        }
        values[option.name] = try Self.value(
          of: option, inline: inline, remaining: &remaining, spec: spec)
      }
    }
    for option in spec.options where option.required && values[option.name] == nil {
      throw UsageError("missing required option '\(option.synopsis)'", hint: spec.hint)
    }
    if positionals.count < spec.arguments.count {
      throw UsageError(
        "missing argument <\(spec.arguments[positionals.count].name)>", hint: spec.hint)
    }
    self.values = values
    self.positionals = positionals
  }

  /// Whether `argument` is meant as an option: it starts with `-` but is not `-` (stdin by
  /// convention) or a negative number.
  static func looksLikeOption(_ argument: String) -> Bool {
    argument.hasPrefix("-") && argument != "-" && Double(argument) == nil
  }

  /// The declared option `argument` (`--name` or `--name=value`) names, and its inline value.
  private static func option(for argument: String, in spec: CommandSpec) throws(UsageError) -> (
    OptionSpec, inline: String?
  ) {
    let body = argument.hasPrefix("--") ? argument.dropFirst(2) : argument.dropFirst()
    let name = String(body.prefix { $0 != "=" })
    let inline = body.firstIndex(of: "=").map { String(body[body.index(after: $0)...]) }
    if argument.hasPrefix("--"), let option = spec.option(named: name) { return (option, inline) }
    let shown = argument.prefix { $0 != "=" }
    let guess = Suggestion.closest(to: name, among: spec.options.map(\.name) + ["help"])
    throw UsageError(
      "unknown option '\(shown)'" + (guess.map { "; did you mean '--\($0)'?" } ?? ""),
      hint: spec.hint)
  }

  /// The value for `option`: "true" for a flag, else the inline value or the next argument
  /// (consumed from `remaining`).
  private static func value(
    of option: OptionSpec, inline: String?, remaining: inout ArraySlice<String>, spec: CommandSpec
  ) throws(UsageError) -> String {
    if option.isFlag {
      guard inline == nil else {
        throw UsageError("flag '--\(option.name)' takes no value", hint: spec.hint)
      }
      return "true"
    }
    if let inline { return inline }
    guard let next = remaining.first, !looksLikeOption(next), next != "--" else {
      throw UsageError("option '\(option.synopsis)' needs a value", hint: spec.hint)
    }
    remaining.removeFirst()
    return next
  }
}

/// Options parsed against a `CommandSpec`, with typed accessors that throw `UsageError`s.
public struct ParsedOptions: Sendable {
  /// The command they were parsed for.
  public let spec: CommandSpec
  /// Values by option name (flags map to "true").
  public let values: [String: String]
  /// Positional arguments, in order.
  public let positionals: [String]

  /// Parses `arguments` (`--name value`, `--name=value`, flags).
  /// - Throws: `HelpRequested` for `-h`/`--help`; `UsageError` for unknown, repeated or
  ///   value-less options, stray arguments and missing required options.
  public init(_ arguments: [String], spec: CommandSpec) throws {
    self.spec = spec
    var values: [String: String] = [:]
    var positionals: [String] = []
    var index = 0
    while index < arguments.count {
      let argument = arguments[index]
      index += 1
      if argument == "-h" || argument == "--help" { throw HelpRequested(text: spec.helpText) }
      guard argument.hasPrefix("--"), argument.count > 2 else {
        guard positionals.count < spec.arguments.count, !argument.hasPrefix("-") else {
          throw UsageError("unexpected argument '\(argument)'", hint: spec.hint)
        }
        positionals.append(argument)
        continue
      }
      var name = String(argument.dropFirst(2))
      var inline: String?
      if let equals = name.firstIndex(of: "=") {
        inline = String(name[name.index(after: equals)...])
        name = String(name[..<equals])
      }
      guard let option = spec.options.first(where: { $0.name == name }) else {
        let guess = Suggestion.closest(to: name, among: spec.options.map(\.name))
        throw UsageError(
          "unknown option '--\(name)'" + (guess.map { "; did you mean '--\($0)'?" } ?? ""), hint: spec.hint)
      }
      guard values[name] == nil else { throw UsageError("option '--\(name)' given twice", hint: spec.hint) }
      if option.valueName == nil {
        guard inline == nil else { throw UsageError("flag '--\(name)' takes no value", hint: spec.hint) }
        values[name] = "true"
      } else if let inline {
        values[name] = inline
      } else {
        guard index < arguments.count, !arguments[index].hasPrefix("--") else {
          throw UsageError("option '--\(name)' needs a value <\(option.valueName ?? "value")>", hint: spec.hint)
        }
        values[name] = arguments[index]
        index += 1
      }
    }
    for option in spec.options where option.required && values[option.name] == nil {
      throw UsageError("missing required option '--\(option.name) <\(option.valueName ?? "value")>'", hint: spec.hint)
    }
    if positionals.count < spec.arguments.count {
      throw UsageError("missing argument <\(spec.arguments[positionals.count].name)>", hint: spec.hint)
    }
    self.values = values
    self.positionals = positionals
  }

  /// The value of `name`, else its default.
  public func string(_ name: String) -> String? {
    values[name] ?? spec.options.first { $0.name == name }?.defaultValue
  }

  /// The value of `name` (given or default), or a usage error if there is none.
  public func requiredString(_ name: String) throws(UsageError) -> String {
    guard let value = string(name) else { throw UsageError("missing required option '--\(name)'", hint: spec.hint) }
    return value
  }

  /// Whether the flag `name` was given.
  public func flag(_ name: String) -> Bool { values[name] == "true" }

  /// An integer option (≥ `minimum`).
  public func int(_ name: String, minimum: Int = .min) throws(UsageError) -> Int? {
    guard let text = string(name) else { return nil }
    guard let value = Int(text), value >= minimum else {
      throw UsageError(
        "'--\(name)' expects an integer\(minimum > .min ? " ≥ \(minimum)" : ""), got '\(text)'", hint: spec.hint)
    }
    return value
  }

  /// A floating-point option (finite, ≥ `minimum`).
  public func double(_ name: String, minimum: Double = -.infinity) throws(UsageError) -> Double? {
    guard let text = string(name) else { return nil }
    guard let value = Double(text), value.isFinite, value >= minimum else {
      throw UsageError(
        "'--\(name)' expects a number\(minimum > -.infinity ? " ≥ \(minimum)" : ""), got '\(text)'", hint: spec.hint)
    }
    return value
  }

  /// A value that must be one of `choices`.
  public func choice(_ name: String, in choices: [String]) throws(UsageError) -> String? {
    guard let text = string(name) else { return nil }
    guard choices.contains(text) else {
      throw UsageError("'--\(name)' must be one of \(choices.joined(separator: ", ")), got '\(text)'", hint: spec.hint)
    }
    return text
  }
}

/// `-h`/`--help` was given: print `text` to stdout and exit 0.
public struct HelpRequested: Error {
  /// The help to print.
  public var text: String
}

extension ParsedOptions {
  /// The value of `name` as given, else its default, else nil.
  ///
  /// Traps if `name` is not declared in the spec (a programmer error).
  public func string(_ name: String) -> String? {
    guard let option = spec.option(named: name) else {
      preconditionFailure("\(spec.name): option '--\(name)' is not declared in its CommandSpec")
    }
    return values[name] ?? option.defaultValue
  }

  /// The value of `name` (given or default).
  /// - Throws: `UsageError` "missing required option '--name'" if there is none.
  public func requiredString(_ name: String) throws(UsageError) -> String {
    guard let value = string(name) else {
      throw UsageError("missing required option '--\(name)'", hint: spec.hint)
    }
    return value
  }

  /// Whether the flag `name` was given.
  ///
  /// Traps if `name` is not declared in the spec (a programmer error).
  public func flag(_ name: String) -> Bool {
    string(name) == "true"
  }

  /// An integer option (given or default), nil if absent without default.
  /// - Parameter minimum: The smallest accepted value.
  /// - Throws: `UsageError` "'--name' expects an integer[ ≥ minimum], got 'x'".
  public func int(_ name: String, minimum: Int = .min) throws(UsageError) -> Int? {
    try convert(name, "an integer", minimum: minimum > .min ? minimum : nil) { Int($0) }
  }

  /// Like `int(_:minimum:)`, but an absent option is a usage error.
  /// - Throws: `UsageError` for a missing or malformed value.
  public func requiredInt(_ name: String, minimum: Int = .min) throws(UsageError) -> Int {
    guard let value = try int(name, minimum: minimum) else {
      throw UsageError("missing required option '--\(name)'", hint: spec.hint)
    }
    return value
  }

  /// A non-negative 64-bit integer option (seeds, byte counts), nil if absent without default.
  /// - Throws: `UsageError` "'--name' expects an integer 0...18446744073709551615, got 'x'".
  public func uint64(_ name: String) throws(UsageError) -> UInt64? {
    try convert(name, "an integer 0...\(UInt64.max)", minimum: nil) { UInt64($0) }
  }

  /// A finite floating-point option (given or default), nil if absent without default.
  /// - Parameter minimum: The smallest accepted value.
  /// - Throws: `UsageError` "'--name' expects a number[ ≥ minimum], got 'x'".
  public func double(_ name: String, minimum: Double = -.infinity) throws(UsageError) -> Double? {
    try convert(name, "a number", minimum: minimum > -.infinity ? minimum : nil) { text in
      Double(text).flatMap { $0.isFinite ? $0 : nil }
    }
  }

  /// A value that must be one of `choices` (given or default), nil if absent without default.
  /// - Throws: `UsageError` "'--name' must be one of a, b, got 'x'".
  public func choice(_ name: String, in choices: [String]) throws(UsageError) -> String? {
    guard let text = string(name) else { return nil }
    guard choices.contains(text) else {
      throw UsageError(
        "'--\(name)' must be one of \(choices.joined(separator: ", ")), got '\(text)'",
        hint: spec.hint)
    }
    return text
  }

  /// The value of `name` converted by `parse` and checked against `minimum`.
  private func convert<Value: Comparable>(
    _ name: String, _ expected: String, minimum: Value?, _ parse: (String) -> Value?
  ) throws(UsageError) -> Value? {
    guard let text = string(name) else { return nil }
    guard let value = parse(text), minimum.map({ value >= $0 }) ?? true else {
      let bound = minimum.map { " ≥ \($0)" } ?? ""
      throw UsageError("'--\(name)' expects \(expected)\(bound), got '\(text)'", hint: spec.hint)
    }
    return value
  }
}

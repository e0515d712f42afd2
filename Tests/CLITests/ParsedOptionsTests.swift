import CLI
import Testing

@Suite struct ParsedOptionsTests {
  let spec = CommandSpec(
    name: "tool run", abstract: "Runs.",
    options: [
      .value("epochs", "N", "Passes.", default: "1"),
      .value("out", "DIR", "Output.", required: true),
      .value("optimizer", "NAME", "sgd or adam.", default: "sgd"),
      .value("lr", "RATE", "Learning rate."),
      .value("seed", "S", "Seed."),
      .flag("json", "JSON output."),
    ])

  /// The message of the `UsageError` that parsing `arguments` throws, or nil.
  func usageMessage(_ arguments: [String]) -> String? {
    do {
      _ = try ParsedOptions(arguments, spec: spec)
      return nil
    } catch {
      return (error as? UsageError)?.message
    }
  }

  @Test func parsesBothSyntaxesFlagsAndDefaults() throws {
    let options = try ParsedOptions(["--epochs", "3", "--out=/tmp/x", "--json"], spec: spec)
    #expect(try options.int("epochs") == 3)
    #expect(options.string("out") == "/tmp/x")
    #expect(options.flag("json"))
    #expect(options.string("optimizer") == "sgd")
    #expect(options.string("lr") == nil)
    #expect(options.values == ["epochs": "3", "out": "/tmp/x", "json": "true"])
    let other = try ParsedOptions(["--out", "o", "--epochs=7"], spec: spec)
    #expect(try other.int("epochs") == 7)
    #expect(!other.flag("json"))
  }

  @Test func inlineValuesKeepEqualsSignsAndMayBeEmpty() throws {
    let options = try ParsedOptions(["--out=a=b", "--optimizer="], spec: spec)
    #expect(options.string("out") == "a=b")
    #expect(options.string("optimizer") == "")
  }

  @Test func negativeNumbersAreValuesNotOptions() throws {
    let options = try ParsedOptions(["--out", "o", "--lr", "-0.5", "--epochs", "-2"], spec: spec)
    #expect(try options.double("lr") == -0.5)
    #expect(try options.int("epochs") == -2)
  }

  @Test func unknownOptionSuggestsTheClosest() {
    #expect(
      usageMessage(["--epoch", "3", "--out", "x"])
        == "unknown option '--epoch'; did you mean '--epochs'?")
    #expect(
      usageMessage(["--out", "x", "--jsno"]) == "unknown option '--jsno'; did you mean '--json'?")
    #expect(
      usageMessage(["-epochs", "3", "--out", "x"])
        == "unknown option '-epochs'; did you mean '--epochs'?")
    #expect(usageMessage(["--out", "x", "--zzzzzz=1"]) == "unknown option '--zzzzzz'")
  }

  @Test func missingValueMissingRequiredDuplicateAndStray() {
    #expect(usageMessage(["--out"]) == "option '--out <DIR>' needs a value")
    #expect(usageMessage(["--out", "--json"]) == "option '--out <DIR>' needs a value")
    #expect(usageMessage([]) == "missing required option '--out <DIR>'")
    #expect(usageMessage(["--out", "a", "--out", "b"]) == "option '--out' given twice")
    #expect(usageMessage(["--out", "a", "--json", "--json"]) == "option '--json' given twice")
    #expect(usageMessage(["--out", "a", "extra"]) == "unexpected argument 'extra'")
    #expect(usageMessage(["--out", "a", "--json=yes"]) == "flag '--json' takes no value")
  }

  @Test func usageErrorsCarryTheCommandsHint() throws {
    let error = #expect(throws: UsageError.self) { try ParsedOptions([], spec: spec) }
    #expect(error?.hint == "see 'tool run --help'")
    #expect(error?.exitCode == .usage)
  }

  @Test func typedAccessorsRejectBadValues() throws {
    let options = try ParsedOptions(
      ["--epochs", "x", "--out", "o", "--optimizer", "rmsprop", "--lr", "inf", "--seed", "-1"],
      spec: spec)
    #expect(
      throws: UsageError("'--epochs' expects an integer, got 'x'", hint: "see 'tool run --help'")
    ) {
      try options.int("epochs")
    }
    #expect(
      throws: UsageError("'--optimizer' must be one of sgd, adam, got 'rmsprop'", hint: spec.hint)
    ) {
      try options.choice("optimizer", in: ["sgd", "adam"])
    }
    #expect(throws: UsageError("'--lr' expects a number, got 'inf'", hint: spec.hint)) {
      try options.double("lr")
    }
    #expect(
      throws: UsageError(
        "'--seed' expects an integer 0...18446744073709551615, got '-1'", hint: spec.hint)
    ) {
      try options.uint64("seed")
    }
  }

  @Test func minimumsAreEnforcedAndNamedInTheMessage() throws {
    let low = try ParsedOptions(["--epochs", "0", "--out", "o", "--lr", "0.5"], spec: spec)
    #expect(throws: UsageError("'--epochs' expects an integer ≥ 1, got '0'", hint: spec.hint)) {
      try low.int("epochs", minimum: 1)
    }
    #expect(try low.int("epochs", minimum: 0) == 0)
    #expect(throws: UsageError("'--lr' expects a number ≥ 1.0, got '0.5'", hint: spec.hint)) {
      try low.double("lr", minimum: 1)
    }
  }

  @Test func typedAccessorsReadValuesAndDefaults() throws {
    let options = try ParsedOptions(
      ["--out", "o", "--seed", "18446744073709551615", "--lr", "1e-3"], spec: spec)
    #expect(try options.uint64("seed") == .max)
    #expect(try options.double("lr") == 0.001)
    #expect(try options.requiredInt("epochs") == 1)
    #expect(try options.choice("optimizer", in: ["sgd", "adam"]) == "sgd")
    #expect(try options.requiredString("out") == "o")
    let bare = try ParsedOptions(["--out", "o"], spec: spec)
    #expect(try bare.int("seed") == nil)
    #expect(throws: UsageError("missing required option '--seed'", hint: spec.hint)) {
      try bare.requiredInt("seed")
    }
    #expect(throws: UsageError("missing required option '--lr'", hint: spec.hint)) {
      try bare.requiredString("lr")
    }
  }

  @Test func helpWinsAnywhereBeforeDoubleDash() {
    #expect(throws: HelpRequested(text: spec.helpText)) {
      try ParsedOptions(["--bogus", "-h"], spec: spec)
    }
    #expect(throws: HelpRequested(text: spec.helpText)) {
      try ParsedOptions(["--out", "o", "--help"], spec: spec)
    }
  }
}

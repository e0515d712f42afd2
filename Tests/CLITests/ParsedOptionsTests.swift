import CLI
import Testing

@Suite struct ParsedOptionsTests {
  let spec = CommandSpec(
    name: "tool run", abstract: "Runs.",
    options: [
      .value("epochs", "N", "Passes.", default: "1"),
      .value("out", "DIR", "Output.", required: true),
      .value("optimizer", "NAME", "sgd or adam.", default: "sgd"),
      .flag("json", "JSON output."),
    ])

  @Test func parsesBothSyntaxesFlagsAndDefaults() throws {
    let options = try ParsedOptions(["--epochs", "3", "--out=/tmp/x", "--json"], spec: spec)
    #expect(try options.int("epochs") == 3)
    #expect(options.string("out") == "/tmp/x")
    #expect(options.flag("json"))
    #expect(options.string("optimizer") == "sgd")
  }

  @Test func unknownOptionSuggestsTheClosest() {
    #expect {
      try ParsedOptions(["--epoch", "3", "--out", "x"], spec: spec)
    } throws: { error in
      (error as? UsageError)?.message == "unknown option '--epoch'; did you mean '--epochs'?"
    }
  }

  @Test func missingValueMissingRequiredDuplicateAndStray() {
    #expect { try ParsedOptions(["--out"], spec: spec) } throws: {
      ($0 as? UsageError)?.message.contains("needs a value") == true
    }
    #expect { try ParsedOptions([], spec: spec) } throws: {
      ($0 as? UsageError)?.message.contains("missing required option '--out") == true
    }
    #expect { try ParsedOptions(["--out", "a", "--out", "b"], spec: spec) } throws: {
      ($0 as? UsageError)?.message.contains("twice") == true
    }
    #expect { try ParsedOptions(["--out", "a", "extra"], spec: spec) } throws: {
      ($0 as? UsageError)?.message.contains("unexpected argument 'extra'") == true
    }
  }

  @Test func typedAccessorsRejectBadValues() throws {
    let options = try ParsedOptions(["--epochs", "x", "--out", "o", "--optimizer", "rmsprop"], spec: spec)
    #expect { try options.int("epochs") } throws: {
      ($0 as? UsageError)?.message == "'--epochs' expects an integer, got 'x'"
    }
    #expect { try options.choice("optimizer", in: ["sgd", "adam"]) } throws: {
      ($0 as? UsageError)?.message.contains("sgd, adam") == true
    }
    let low = try ParsedOptions(["--epochs", "0", "--out", "o"], spec: spec)
    #expect(throws: UsageError.self) { try low.int("epochs", minimum: 1) }
  }

  @Test func helpListsUsageOptionsAndDefaults() {
    #expect { try ParsedOptions(["--help"], spec: spec) } throws: { error in
      guard let help = (error as? HelpRequested)?.text else { return false }
      return help.contains("USAGE: tool run") && help.contains("OPTIONS:") && help.contains("--epochs <N>")
        && help.contains("(default: 1)") && help.contains("--out <DIR>") && help.contains("-h, --help")
    }
  }
}

@Suite struct PositionalArgumentTests {
  let spec = CommandSpec(
    name: "i2x checkpoints", abstract: "Lists checkpoints.", arguments: [("run", "Run name.")],
    options: [.flag("json", "JSON output.")])

  @Test func positionalsAreCollectedInOrder() throws {
    let options = try ParsedOptions(["demo", "--json"], spec: spec)
    #expect(options.positionals == ["demo"])
    #expect(options.flag("json"))
  }

  @Test func missingAndExtraPositionalsAreUsageErrors() {
    #expect { try ParsedOptions(["--json"], spec: spec) } throws: {
      ($0 as? UsageError)?.message == "missing argument <run>"
    }
    #expect { try ParsedOptions(["a", "b"], spec: spec) } throws: {
      ($0 as? UsageError)?.message == "unexpected argument 'b'"
    }
  }

  @Test func helpShowsArguments() {
    #expect { try ParsedOptions(["-h"], spec: spec) } throws: { error in
      let text = (error as? HelpRequested)?.text ?? ""
      return text.contains("USAGE: i2x checkpoints <run>") && text.contains("ARGUMENTS:")
    }
  }
}

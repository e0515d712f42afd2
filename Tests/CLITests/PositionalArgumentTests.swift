import CLI
import Testing

@Suite struct PositionalArgumentTests {
  let spec = CommandSpec(
    name: "i2x checkpoints", abstract: "Lists checkpoints.", arguments: [("run", "Run name.")],
    options: [.flag("json", "JSON output.")])

  @Test func positionalsAreCollectedInOrderAroundOptions() throws {
    #expect(try ParsedOptions(["demo", "--json"], spec: spec).positionals == ["demo"])
    let after = try ParsedOptions(["--json", "demo"], spec: spec)
    #expect(after.positionals == ["demo"])
    #expect(after.flag("json"))
    let pair = CommandSpec(
      name: "cp", abstract: "Copies.", arguments: [("from", "Source."), ("to", "Target.")],
      options: [])
    #expect(try ParsedOptions(["a", "b"], spec: pair).positionals == ["a", "b"])
  }

  @Test func doubleDashEndsOptions() throws {
    let options = try ParsedOptions(["--", "--json"], spec: spec)
    #expect(options.positionals == ["--json"])
    #expect(!options.flag("json"))
    #expect(try ParsedOptions(["--", "-h"], spec: spec).positionals == ["-h"])
    #expect(try ParsedOptions(["-"], spec: spec).positionals == ["-"])
  }

  @Test func missingAndExtraPositionalsAreUsageErrors() {
    #expect(throws: UsageError("missing argument <run>", hint: "see 'i2x checkpoints --help'")) {
      try ParsedOptions(["--json"], spec: spec)
    }
    #expect(throws: UsageError("unexpected argument 'b'", hint: "see 'i2x checkpoints --help'")) {
      try ParsedOptions(["a", "b"], spec: spec)
    }
  }

  @Test func helpShowsArguments() throws {
    let help = #expect(throws: HelpRequested.self) { try ParsedOptions(["-h"], spec: spec) }
    let text = help?.text ?? ""
    #expect(text.contains("USAGE: i2x checkpoints <run> [--json]"))
    #expect(text.contains("ARGUMENTS:\n  <run>       Run name."))
  }
}

import CLI
import Testing

@Suite struct ToolTests {
  struct Unavailable: Error, ExitCodeProviding, CustomStringConvertible {
    var exitCode: ExitCode { .unavailable }
    var description: String { "daemon unreachable; start it with 'i2xd'" }
  }

  struct Plain: Error, CustomStringConvertible {
    var description: String { "disk on fire" }
  }

  static let trainSpec = CommandSpec(
    name: "demo train", abstract: "Trains.",
    options: [.value("epochs", "N", "Passes.", default: "1")])

  func makeTool() -> Tool {
    Tool(
      name: "demo", abstract: "Demo tool.", version: "demo 1.0",
      subcommands: [
        .init(name: "ok", abstract: "Succeeds.") { arguments in
          arguments == ["--x"] ? .success : .failure
        },
        .init(name: "train", abstract: "Parses options.") { arguments in
          let options = try ParsedOptions(arguments, spec: Self.trainSpec)
          return try options.int("epochs", minimum: 1) == 2 ? .success : .failure
        },
        .init(name: "usage", abstract: "Usage error.") { _ in throw UsageError("bad flag") },
        .init(name: "down", abstract: "Unavailable.") { _ in throw Unavailable() },
        .init(name: "plain", abstract: "Plain error.") { _ in throw Plain() },
        .init(name: "data", abstract: "Data error.") { _ in .dataError },
      ])
  }

  func run(_ arguments: [String]) -> (code: Int32, out: [String], err: [String]) {
    var out: [String] = []
    var err: [String] = []
    let code = makeTool().run(arguments, out: { out.append($0) }, err: { err.append($0) })
    return (code, out, err)
  }

  @Test func dispatchesToTheSubcommandWithTheRemainingArguments() {
    #expect(run(["ok", "--x"]).code == 0)
    #expect(run(["ok"]).code == 1)
    #expect(run(["train", "--epochs=2"]).code == 0)
    #expect(run(["data"]).code == 65)
  }

  @Test func parseErrorsInASubcommandExit64WithItsHint() {
    let result = run(["train", "--epochs", "x"])
    #expect(result.code == 64)
    #expect(
      result.err == [
        "error: '--epochs' expects an integer ≥ 1, got 'x'", "hint: see 'demo train --help'",
      ])
    #expect(result.out.isEmpty)
  }

  @Test func usageErrorWithoutHintPointsAtTheSubcommandHelp() {
    let result = run(["usage"])
    #expect(result.code == 64)
    #expect(result.err == ["error: bad flag", "hint: see 'demo usage --help'"])
  }

  @Test func unknownSubcommandOrOptionSuggestsOne() {
    let result = run(["uasge"])
    #expect(result.code == 64)
    #expect(
      result.err == [
        "error: unknown subcommand 'uasge'; did you mean 'usage'?", "hint: see 'demo --help'",
      ])
    #expect(
      run(["--verison"]).err.first == "error: unknown option '--verison'; did you mean '--version'?"
    )
    #expect(run(["zzzzzz"]).err.first == "error: unknown subcommand 'zzzzzz'")
  }

  @Test func errorsCarryTheirExitCode() {
    let down = run(["down"])
    #expect(down.code == 69)
    #expect(down.err == ["error: daemon unreachable; start it with 'i2xd'"])
    let plain = run(["plain"])
    #expect(plain.code == 1)
    #expect(plain.err == ["error: disk on fire"])
  }

  @Test func helpAndVersionGoToStdout() {
    let help = run(["--help"])
    #expect(help.code == 0)
    #expect(help.out == [makeTool().helpText])
    #expect(help.err.isEmpty)
    #expect(run(["-h"]).out == help.out)
    #expect(run(["help"]).out == help.out)
    #expect(run(["--version"]).out == ["demo 1.0"])
    let bare = run([])
    #expect(bare.code == 64)
    #expect(bare.out == help.out)
  }

  @Test func subcommandHelpBothWays() {
    let direct = run(["train", "--help"])
    #expect(direct.code == 0)
    #expect(direct.out == [Self.trainSpec.helpText])
    #expect(run(["help", "train"]).out == direct.out)
    #expect(run(["help", "trian"]).code == 64)
  }
}

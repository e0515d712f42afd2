import CLI
import Testing

@Suite struct ToolTests {
  struct Unavailable: Error, ExitCodeProviding, CustomStringConvertible {
    var exitCode: ExitCode { .unavailable }
    var description: String { "daemon unreachable" }
  }

  func makeTool() -> Tool {
    Tool(
      name: "demo", abstract: "Demo tool.", version: "demo 1.0",
      subcommands: [
        .init(name: "ok", abstract: "Succeeds.") { arguments in arguments == ["--x"] ? .success : .failure },
        .init(name: "usage", abstract: "Usage error.") { _ in
          throw UsageError("bad flag", hint: "see 'demo usage --help'")
        },
        .init(name: "down", abstract: "Unavailable.") { _ in throw Unavailable() },
      ])
  }

  func run(_ arguments: [String]) -> (code: Int32, out: [String], err: [String]) {
    var out: [String] = []
    var err: [String] = []
    let code = makeTool().run(arguments, out: { out.append($0) }, err: { err.append($0) })
    return (code, out, err)
  }

  @Test func dispatchesToTheSubcommand() {
    #expect(run(["ok", "--x"]).code == 0)
    #expect(run(["ok"]).code == 1)
  }

  @Test func usageErrorsExit64WithAHint() {
    let result = run(["usage"])
    #expect(result.code == 64)
    #expect(result.err == ["error: bad flag", "hint: see 'demo usage --help'"])
    #expect(result.out.isEmpty)
  }

  @Test func unknownSubcommandSuggestsOne() {
    let result = run(["uasge"])
    #expect(result.code == 64)
    #expect(result.err.first == "error: unknown subcommand 'uasge'; did you mean 'usage'?")
  }

  @Test func errorsCarryTheirExitCode() {
    let result = run(["down"])
    #expect(result.code == 69)
    #expect(result.err == ["error: daemon unreachable"])
  }

  @Test func helpAndVersionGoToStdout() {
    let help = run(["--help"])
    #expect(help.code == 0)
    #expect(help.out.first?.contains("SUBCOMMANDS:") == true)
    #expect(run(["--version"]).out == ["demo 1.0"])
    #expect(run([]).code == 64)
  }
}

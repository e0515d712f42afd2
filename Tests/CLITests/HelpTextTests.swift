import CLI
import Testing

@Suite struct HelpTextTests {
  let spec = CommandSpec(
    name: "i2x-train train", abstract: "Train a model.",
    options: [
      .value("epochs", "N", "Passes over the training split.", default: "1"),
      .value("optimizer", "NAME", "sgd or adam.", default: "sgd"),
      .value("out", "DIR", "Output directory.", required: true),
      .value(
        "publish", "ENDPOINT",
        "Publish every checkpoint to an i2x daemon listening on this ZeroMQ endpoint, for"
          + " example tcp://127.0.0.1:7070.",
        default: "tcp://127.0.0.1:7070"),
      .value("a-very-long-option-name", "PLACEHOLDER", "Long.", default: "x"),
      .flag("json", "JSON output."),
    ],
    discussion: "EXAMPLE:\n  i2x-train train --out runs/a")

  @Test func sectionsAndUsageLine() {
    let help = spec.helpText
    #expect(
      help.hasPrefix(
        "OVERVIEW: Train a model.\n\nUSAGE: i2x-train train [<options>] --out <DIR>\n\nOPTIONS:\n"))
    let short = CommandSpec(
      name: "tool run", abstract: "Runs.",
      options: [.value("epochs", "N", "Passes."), .value("out", "DIR", "Out.", required: true)])
    #expect(short.helpText.contains("\nUSAGE: tool run [--epochs <N>] --out <DIR>\n"))
    #expect(help.contains("\n\nOPTIONS:\n"))
    #expect(help.hasSuffix("\n\nEXAMPLE:\n  i2x-train train --out runs/a"))
    #expect(!help.contains("ARGUMENTS:"))
  }

  @Test func longUsageLinesCollapseOptionalOptions() {
    let wide = CommandSpec(
      name: "i2x-train train", abstract: "Train.", arguments: [("run", "Run.")],
      options: (1...8).map { .value("option-\($0)", "N", "Option \($0).") }
        + [.value("out", "DIR", "Output.", required: true)])
    #expect(wide.helpText.contains("\nUSAGE: i2x-train train <run> [<options>] --out <DIR>\n"))
  }

  @Test func everyOptionAppearsWithItsDefault() {
    let help = spec.helpText
    for option in spec.options {
      #expect(
        help.contains(
          "  \(option.name == "json" ? "--json" : "--\(option.name) <\(option.valueName ?? "")>")"))
      if let value = option.defaultValue { #expect(help.contains("(default: \(value))")) }
    }
    #expect(help.contains("  --epochs <N>"))
    #expect(help.contains("Passes over the training split. (default: 1)"))
    #expect(help.contains("  -h, --help"))
  }

  @Test func optionRowsAreAlignedAndWrappedTo80Columns() {
    let lines = spec.helpText.split(separator: "\n", omittingEmptySubsequences: false)
      .map(String.init)
    let options = Array(lines.drop { $0 != "OPTIONS:" }.dropFirst().prefix { !$0.isEmpty })
    #expect(options.allSatisfy { $0.count <= 80 })
    // The widest left entry, "--publish <ENDPOINT>" (20), sets the help column at 2 + 20 + 2.
    #expect(
      options.first == "  --epochs <N>" + String(repeating: " ", count: 10)
        + "Passes over the training split. (default: 1)")
    // The 37-character synopsis is wider than the 30-column limit: help goes on the next line.
    let long = options.firstIndex { $0.contains("--a-very-long-option-name") }
    #expect(
      long.map { options[$0 + 1] } == String(repeating: " ", count: 24) + "Long. (default: x)")
    // The wrapped default stays whole on a continuation line, indented to the help column.
    #expect(options.contains(String(repeating: " ", count: 24) + "(default: tcp://127.0.0.1:7070)"))
  }

  @Test func toolHelpListsOptionsAndSubcommands() {
    let tool = Tool(
      name: "demo", abstract: "Demo tool.", version: "1",
      subcommands: [.init(name: "train", abstract: "Train.") { _ in .success }])
    #expect(
      tool.helpText == """
        OVERVIEW: Demo tool.

        USAGE: demo <subcommand> [options]

        OPTIONS:
          --version   Show the version.
          -h, --help  Show help information.

        SUBCOMMANDS:
          train       Train.

          See 'demo help <subcommand>' for detailed help.
        """)
  }
}

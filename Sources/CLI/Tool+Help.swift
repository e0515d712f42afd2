extension Tool {
  /// Tool-level help: `OVERVIEW:`, `USAGE:`, `OPTIONS:` and `SUBCOMMANDS:`, wrapped to 80
  /// columns.
  public var helpText: String {
    let options = [
      (left: "--version", words: HelpLayout.words("Show the version.")),
      (left: "-h, --help", words: HelpLayout.words("Show help information.")),
    ]
    let rows = subcommands.map { (left: $0.name, words: HelpLayout.words($0.abstract)) }
    let leftWidth = HelpLayout.leftWidth(options + rows)
    let lines =
      ["OVERVIEW: \(abstract)", "", "USAGE: \(name) <subcommand> [options]", "", "OPTIONS:"]
      + HelpLayout.rows(options, leftWidth: leftWidth) + ["", "SUBCOMMANDS:"]
      + HelpLayout.rows(rows, leftWidth: leftWidth)
      + ["", "  See '\(name) help <subcommand>' for detailed help."]
    return lines.joined(separator: "\n")
  }
}

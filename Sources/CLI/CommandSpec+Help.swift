extension CommandSpec {
  /// The help printed for `-h`/`--help`: `OVERVIEW:`, `USAGE:`, `ARGUMENTS:` (if any),
  /// `OPTIONS:` (each with its `(default: …)`) and the discussion, wrapped to 80 columns.
  public var helpText: String {
    let argumentRows = arguments.map { (left: "<\($0.name)>", words: HelpLayout.words($0.help)) }
    let optionRows =
      options.map { option in
        // The default stays one word so wrapping never splits "(default: 1)".
        let suffix = option.defaultValue.map { ["(default: \($0))"] } ?? []
        return (left: option.synopsis, words: HelpLayout.words(option.help) + suffix)
      } + [(left: "-h, --help", words: HelpLayout.words("Show help information."))]
    let leftWidth = HelpLayout.leftWidth(argumentRows + optionRows)
    var lines = ["OVERVIEW: \(abstract)", "", "USAGE: \(usage)", ""]
    if !arguments.isEmpty {
      lines += ["ARGUMENTS:"] + HelpLayout.rows(argumentRows, leftWidth: leftWidth) + [""]
    }
    lines += ["OPTIONS:"] + HelpLayout.rows(optionRows, leftWidth: leftWidth)
    if let discussion { lines += ["", discussion] }
    return lines.joined(separator: "\n")
  }

  /// `name <arg> … --required <V> [--optional <V>] [--flag]` on one line; past 80 columns the
  /// optional options collapse to `[<options>]`, as swift-argument-parser does.
  var usage: String {
    let required = [name] + arguments.map { "<\($0.name)>" }
    let full = required + options.map { $0.required ? $0.synopsis : "[\($0.synopsis)]" }
    guard "USAGE: ".count + full.joined(separator: " ").count > HelpLayout.width else {
      return full.joined(separator: " ")
    }
    let short = required + ["[<options>]"] + options.filter(\.required).map(\.synopsis)
    return short.joined(separator: " ")
  }
}

/// Two-column help rows (`  --epochs <N>   Passes over the data. (default: 1)`) wrapped to a
/// fixed width, shared by command and tool help.
enum HelpLayout {
  /// Total line width of help text.
  static let width = 80
  /// Widest left column before the help text moves to the next line.
  static let maximumLeftColumn = 30

  /// The words of `text`, split on spaces (the units `rows` wraps on).
  static func words(_ text: String) -> [String] {
    text.split(separator: " ").map(String.init)
  }

  /// The left column width for `rows`: the widest left entry that fits `maximumLeftColumn`
  /// (wider ones get a line of their own rather than pushing every row right).
  static func leftWidth(_ rows: [(left: String, words: [String])]) -> Int {
    rows.map(\.left.count).filter { $0 <= maximumLeftColumn }.max() ?? 0
  }

  /// Lines for `rows` of (left, words): left indented by 2, words wrapped in a column that
  /// starts `leftWidth` + 2 spaces later. A left entry wider than `leftWidth` gets a line of
  /// its own.
  static func rows(_ rows: [(left: String, words: [String])], leftWidth: Int? = nil) -> [String] {
    let leftWidth = leftWidth ?? Self.leftWidth(rows)
    let indent = String(repeating: " ", count: 2 + leftWidth + 2)
    var lines: [String] = []
    for (left, words) in rows {
      let wrapped = wrap(words, width: max(20, width - indent.count))
      if left.count > leftWidth {
        lines.append("  " + left)
        lines += wrapped.map { indent + $0 }
        continue
      }
      let first =
        "  " + left + String(repeating: " ", count: leftWidth - left.count + 2)
        + (wrapped.first ?? "")
      lines.append(wrapped.isEmpty ? "  " + left : first)
      lines += wrapped.dropFirst().map { indent + $0 }
    }
    return lines
  }

  /// `words` joined by spaces into lines of at most `width` characters (a longer word gets a
  /// line of its own).
  static func wrap(_ words: [String], width: Int) -> [String] {
    var lines: [String] = []
    var line = ""
    for word in words {
      if line.isEmpty {
        line = word
      } else if line.count + 1 + word.count <= width {
        line += " " + word
      } else {
        lines.append(line)
        line = word
      }
    }
    if !line.isEmpty { lines.append(line) }
    return lines
  }
}

/// Text and numbers as they go into SVG and HTML: escaped, and short.
public enum SVGText {
  /// `text` with `&`, `<`, `>`, `"` and `'` replaced by entities, so it is safe in element
  /// content and in attribute values.
  public static func escape(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for character in text.unicodeScalars {
      switch character {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&#39;"
      default:
        // Control characters other than tab and newline are not allowed in XML 1.0.
        if character.value < 0x20 && character != "\t" && character != "\n" { continue }
        out.unicodeScalars.append(character)
      }
    }
    return out
  }

  /// A coordinate with at most two decimals and no trailing zeros ("12", "3.5", "-0.25").
  public static func number(_ value: Double) -> String {
    guard value.isFinite else { return "0" }
    let rounded = (value * 100).rounded() / 100
    if rounded == rounded.rounded() { return String(Int(rounded)) }
    var text = String(rounded)
    if let dot = text.firstIndex(of: "."), text.distance(from: dot, to: text.endIndex) > 3 {
      text = String(text[..<text.index(dot, offsetBy: 3)])
    }
    return text
  }
}

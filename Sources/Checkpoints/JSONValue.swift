/// A parsed JSON value, as the safetensors header needs it.
///
/// Objects keep their members in file order with duplicates included (Foundation's parser
/// silently keeps one of two equal keys), and numbers keep their literal text so integers are
/// read exactly instead of through `Double`.
enum JSONValue: Sendable {
  /// An object's members in file order, duplicates included.
  case object([(key: String, value: JSONValue)])
  /// An array's elements.
  case array([JSONValue])
  /// A string (escapes resolved).
  case string(String)
  /// A number's literal text, e.g. `-12`, `1.5e3`.
  case number(String)
  /// `true` or `false`.
  case bool(Bool)
  /// `null`.
  case null

  /// A short name of the value's kind for error messages ("an object", "a string", ...).
  var kind: String {
    switch self {
    case .object: return "an object"
    case .array: return "an array"
    case .string: return "a string"
    case .number: return "a number"
    case .bool: return "a boolean"
    case .null: return "null"
    }
  }

  /// The value written back as compact JSON text (for error messages).
  var text: String {
    switch self {
    case .object(let members):
      let body = members.map { "\(JSONValue.quote($0.key)):\($0.value.text)" }
      return "{" + body.joined(separator: ",") + "}"
    case .array(let items): return "[" + items.map(\.text).joined(separator: ",") + "]"
    case .string(let string): return JSONValue.quote(string)
    case .number(let literal): return literal
    case .bool(let flag): return flag ? "true" : "false"
    case .null: return "null"
    }
  }

  /// The integer a number literal spells exactly, or why it is not one.
  var integer: JSONInteger {
    guard case .number(let literal) = self else { return .notInteger }
    let digits = literal.hasPrefix("-") ? literal.dropFirst() : Substring(literal)
    guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
      return .notInteger
    }
    guard let value = Int(literal) else { return .outOfRange }
    return .exact(value)
  }

  /// A JSON string literal for `text` (quotes, backslashes and control characters escaped).
  static func quote(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _ where scalar.value < 0x20:
        let hex = String(scalar.value, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }
}

/// What a JSON number literal says as an `Int`.
enum JSONInteger: Equatable {
  /// An integer literal that fits `Int`.
  case exact(Int)
  /// An integer literal too large for `Int`.
  case outOfRange
  /// Not an integer literal (fraction, exponent, or not a number at all).
  case notInteger
}

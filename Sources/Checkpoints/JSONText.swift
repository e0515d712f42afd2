import Foundation

/// The bits of JSON the codec handles itself: quoting, integer checks and top-level keys
/// (Foundation's parser silently keeps one of two duplicate keys).
enum JSONText {
  /// A JSON string literal for `text`.
  static func quote(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }

  /// An exact integer from a parsed JSON number (not fractional, fits Int).
  static func integer(_ value: Any) -> Int? {
    guard let number = value as? NSNumber else { return nil }
    let double = number.doubleValue
    guard double.rounded() == double, abs(double) < 9.0e15 else { return nil }
    return number.intValue
  }

  /// Keys of the top-level object, in order, duplicates included.
  /// - Throws: `invalidJSON` when the text is not an object.
  static func topLevelKeys(_ text: String) throws(SafetensorsError) -> [String] {
    let bytes = Array(text.utf8)
    var keys: [String] = []
    var depth = 0
    var index = 0
    var expectingKey = false
    while index < bytes.count {
      let byte = bytes[index]
      switch byte {
      case UInt8(ascii: "{"), UInt8(ascii: "["):
        depth += 1
        expectingKey = depth == 1 && byte == UInt8(ascii: "{")
      case UInt8(ascii: "}"), UInt8(ascii: "]"):
        depth -= 1
      case UInt8(ascii: ","):
        expectingKey = depth == 1
      case UInt8(ascii: "\""):
        let start = index
        index += 1
        while index < bytes.count && bytes[index] != UInt8(ascii: "\"") {
          index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
        }
        guard index < bytes.count else {
          throw SafetensorsError(.invalidJSON, tensor: nil, "header has an unterminated string")
        }
        if expectingKey {
          let literal = Data(bytes[start...index])
          guard let key = try? JSONSerialization.jsonObject(with: literal, options: .fragmentsAllowed) as? String else {
            throw SafetensorsError(.invalidJSON, tensor: nil, "header has a malformed key")
          }
          keys.append(key)
          expectingKey = false
        }
      default:
        break
      }
      index += 1
    }
    return keys
  }
}

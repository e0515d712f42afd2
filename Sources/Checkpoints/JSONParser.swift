/// A small strict JSON parser (RFC 8259) for safetensors headers.
///
/// Strict: no trailing commas, comments, NaN or leading zeros; whitespace (including the
/// space padding writers add) is allowed around the value. Nesting is capped at
/// `maximumDepth` so a hostile header of many `[` cannot exhaust the stack.
struct JSONParser {
  /// Deepest nesting of arrays and objects accepted (safetensors headers need 3).
  static let maximumDepth = 64

  /// Why the text is not JSON, with the byte offset where the parser gave up.
  struct SyntaxError: Error, Equatable {
    /// What was wrong.
    var reason: String
    /// Byte offset into the text.
    var offset: Int
  }

  private let bytes: [UInt8]
  private var index = 0

  private init(_ bytes: [UInt8]) { self.bytes = bytes }

  /// Parses one JSON value filling all of `bytes` (UTF-8, already validated).
  static func parse(_ bytes: [UInt8]) throws(SyntaxError) -> JSONValue {
    var parser = JSONParser(bytes)
    parser.skipWhitespace()
    let value = try parser.value(depth: 0)
    parser.skipWhitespace()
    guard parser.index == bytes.count else {
      throw parser.failure("unexpected text after the value")
    }
    return value
  }

  private func failure(_ reason: String) -> SyntaxError {
    SyntaxError(reason: reason, offset: index)
  }

  private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

  private mutating func skipWhitespace() {
    while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
      index += 1
    }
  }

  private mutating func expect(_ byte: UInt8, _ what: String) throws(SyntaxError) {
    guard current == byte else { throw failure("expected \(what)") }
    index += 1
  }

  private mutating func value(depth: Int) throws(SyntaxError) -> JSONValue {
    guard depth < Self.maximumDepth else {
      throw failure("nesting deeper than \(Self.maximumDepth) levels")
    }
    switch current {
    case UInt8(ascii: "{"): return try object(depth: depth)
    case UInt8(ascii: "["): return try array(depth: depth)
    case UInt8(ascii: "\""): return .string(try string())
    case UInt8(ascii: "t"):
      try literal("true")
      return .bool(true)
    case UInt8(ascii: "f"):
      try literal("false")
      return .bool(false)
    case UInt8(ascii: "n"):
      try literal("null")
      return .null
    case .some(let byte) where byte == UInt8(ascii: "-") || (0x30...0x39).contains(byte):
      return .number(try number())
    case .some: throw failure("expected a value")
    case .none: throw failure("unexpected end of header")
    }
  }

  private mutating func literal(_ word: String) throws(SyntaxError) {
    for byte in word.utf8 { try expect(byte, "'\(word)'") }
  }

  private mutating func object(depth: Int) throws(SyntaxError) -> JSONValue {
    index += 1  // {
    var members: [(key: String, value: JSONValue)] = []
    skipWhitespace()
    if current == UInt8(ascii: "}") {
      index += 1
      return .object(members)
    }
    while true {
      skipWhitespace()
      guard current == UInt8(ascii: "\"") else { throw failure("expected a quoted key") }
      let key = try string()
      skipWhitespace()
      try expect(UInt8(ascii: ":"), "':' after a key")
      skipWhitespace()
      members.append((key, try value(depth: depth + 1)))
      skipWhitespace()
      if current == UInt8(ascii: ",") {
        index += 1
        continue
      }
      try expect(UInt8(ascii: "}"), "',' or '}' in an object")
      return .object(members)
    }
  }

  private mutating func array(depth: Int) throws(SyntaxError) -> JSONValue {
    index += 1  // [
    var items: [JSONValue] = []
    skipWhitespace()
    if current == UInt8(ascii: "]") {
      index += 1
      return .array(items)
    }
    while true {
      skipWhitespace()
      items.append(try value(depth: depth + 1))
      skipWhitespace()
      if current == UInt8(ascii: ",") {
        index += 1
        continue
      }
      try expect(UInt8(ascii: "]"), "',' or ']' in an array")
      return .array(items)
    }
  }

  /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, returned as its text.
  private mutating func number() throws(SyntaxError) -> String {
    let start = index
    if current == UInt8(ascii: "-") { index += 1 }
    if current == UInt8(ascii: "0") {
      index += 1
    } else {
      guard try digits() > 0 else { throw failure("expected a digit") }
    }
    if current == UInt8(ascii: ".") {
      index += 1
      guard try digits() > 0 else { throw failure("expected a digit after '.'") }
    }
    if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
      index += 1
      if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
      guard try digits() > 0 else { throw failure("expected a digit in the exponent") }
    }
    return String(decoding: bytes[start..<index], as: UTF8.self)
  }

  private mutating func digits() throws(SyntaxError) -> Int {
    let start = index
    while let byte = current, (0x30...0x39).contains(byte) { index += 1 }
    return index - start
  }

  private mutating func string() throws(SyntaxError) -> String {
    index += 1  // opening quote
    var out: [UInt8] = []
    while true {
      guard let byte = current else { throw failure("unterminated string") }
      index += 1
      switch byte {
      case UInt8(ascii: "\""):
        return String(decoding: out, as: UTF8.self)
      case UInt8(ascii: "\\"):
        try escape(into: &out)
      case 0..<0x20:
        index -= 1
        throw failure("control character in a string (escape it)")
      default:
        out.append(byte)
      }
    }
  }

  private mutating func escape(into out: inout [UInt8]) throws(SyntaxError) {
    guard let byte = current else { throw failure("unterminated escape") }
    index += 1
    switch byte {
    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(byte)
    case UInt8(ascii: "b"): out.append(0x08)
    case UInt8(ascii: "f"): out.append(0x0C)
    case UInt8(ascii: "n"): out.append(0x0A)
    case UInt8(ascii: "r"): out.append(0x0D)
    case UInt8(ascii: "t"): out.append(0x09)
    case UInt8(ascii: "u"):
      var scalar = try hexQuad()
      if (0xD800..<0xDC00).contains(scalar) {
        guard current == UInt8(ascii: "\\") else { throw failure("unpaired surrogate escape") }
        index += 1
        try expect(UInt8(ascii: "u"), "a low surrogate escape")
        let low = try hexQuad()
        guard (0xDC00..<0xE000).contains(low) else { throw failure("unpaired surrogate escape") }
        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
      }
      guard let unicode = Unicode.Scalar(scalar) else { throw failure("unpaired surrogate escape") }
      UTF8.encode(unicode) { out.append($0) }
    default:
      index -= 1
      throw failure("unknown escape")
    }
  }

  private mutating func hexQuad() throws(SyntaxError) -> UInt32 {
    var value: UInt32 = 0
    for _ in 0..<4 {
      guard let byte = current, let digit = Self.hexDigit(byte) else {
        throw failure("expected 4 hex digits after \\u")
      }
      value = value << 4 | digit
      index += 1
    }
    return value
  }

  private static func hexDigit(_ byte: UInt8) -> UInt32? {
    switch byte {
    case 0x30...0x39: return UInt32(byte - 0x30)
    case 0x41...0x46: return UInt32(byte - 0x41 + 10)
    case 0x61...0x66: return UInt32(byte - 0x61 + 10)
    default: return nil
    }
  }
}

/// The structure of JSON text from one pass over its bytes, outside strings: the deepest
/// nesting of objects and arrays, and the members of the top-level object (the `:` at depth
/// 1; in an object every member has exactly one). Allocates nothing, and stops counting once
/// the members pass `memberLimit`. Runs before a decoder, so a header of a million tiny entries
/// or an architecture nested thousands deep is refused before anything is built. On text that is
/// not JSON the answer means nothing, but the scan still ends without trapping.
public enum JSONShape {
  /// Deepest nesting and top-level members (at most `memberLimit + 1`, where the scan stops).
  public static func measure(_ bytes: some Sequence<UInt8>, memberLimit: Int = .max) -> (
    deepest: Int, members: Int
  ) {
    var depth = 0
    var deepest = 0
    var members = 0
    var inString = false
    var escaped = false
    for byte in bytes {
      if inString {
        if escaped {
          escaped = false
        } else if byte == UInt8(ascii: "\\") {
          escaped = true
        } else if byte == UInt8(ascii: "\"") {
          inString = false
        }
        continue
      }
      switch byte {
      case UInt8(ascii: "\""): inString = true
      case UInt8(ascii: "{"), UInt8(ascii: "["):
        depth += 1
        deepest = max(deepest, depth)
      case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
      case UInt8(ascii: ":") where depth == 1:
        members += 1
        if members > memberLimit { return (deepest, members) }
      default: break
      }
    }
    return (deepest, members)
  }
}

extension JSONParser {
  /// Whether the top-level object in `bytes` has more than `limit` members (`JSONShape`).
  static func topLevelMembersExceed(_ limit: Int, in bytes: [UInt8]) -> Bool {
    JSONShape.measure(bytes, memberLimit: limit).members > limit
  }
}

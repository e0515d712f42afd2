import Foundation
import XCTest

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// Parses `text` as XML with Foundation's XMLParser (libxml2) and fails the test with the
/// parser's message and line when it is not well-formed.
func assertWellFormedXML(_ text: String, file: StaticString = #filePath, line: UInt = #line) {
  let parser = XMLParser(data: Data(text.utf8))
  let ok = parser.parse()
  XCTAssertTrue(
    ok,
    "not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "?") at line \(parser.lineNumber), "
      + "column \(parser.columnNumber)", file: file, line: line)
}

/// Counts elements named `name` in well-formed XML.
func elementCount(_ name: String, in text: String) -> Int {
  final class Counter: NSObject, XMLParserDelegate {
    let name: String
    var count = 0
    init(_ name: String) { self.name = name }
    func parser(
      _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
      attributes: [String: String] = [:]
    ) {
      if elementName == name { count += 1 }
    }
  }
  let counter = Counter(name)
  let parser = XMLParser(data: Data(text.utf8))
  parser.delegate = counter
  _ = parser.parse()
  return counter.count
}

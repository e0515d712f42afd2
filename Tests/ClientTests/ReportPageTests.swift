import CZlib
import Charts
import ClientCore
import Foundation
import Testing

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// The HTML report on a synthetic run of 1,000 probes and 200 checkpoints: every section present
/// or explicitly absent, every image a decodable PNG, every SVG well-formed XML with at most 12
/// tick labels per axis, every in-page link resolving, nothing fetched from a network, and the
/// file under 10 MB.
@Suite struct ReportPageTests {
  static var findings: [[String: Any]] {
    [
      [
        "kind": "fixed-position-cue", "severity": "high", "classes": [3], "class_names": ["class 3"], "prototype": 3,
        "statement": "Prototype 3 is a fixed-position cue of class 3", "numbers": ["paste_flip_rate": 0.61],
        "command": "i2x prototypes synthetic --id 3",
      ],
      [
        "kind": "separated-by", "severity": "medium", "classes": [3, 6], "class_names": ["class 3", "class 6"],
        "prototype": 6, "statement": "class 3 and class 6 are told apart by prototype 6", "numbers": ["rho": 0.4],
        "command": "i2x pairs synthetic",
      ],
    ]
  }

  @Test func everySectionIsPresentAndFindingsLinkToTheirEvidence() throws {
    let inputs = try SyntheticRun().inputs(findings: Self.findings)
    let started = Date()
    let html = ReportPage(inputs).html()
    let seconds = Date().timeIntervalSince(started)
    for (id, heading) in ReportPage.sections {
      let section = try #require(Self.section(id, in: html), "section \(id) missing")
      #expect(section.contains("<h2>\(SVGText.escape(heading))</h2>"))
      #expect(section.contains("<figure") || section.contains("<table") || section.contains("<ol"), "\(id) is empty")
    }
    let findings = try #require(Self.section("findings", in: html))
    #expect(findings.contains("Prototype 3 is a fixed-position cue of class 3"))
    #expect(findings.contains("<a href=\"#prototype-3\">"))
    #expect(findings.contains("<a href=\"#pair-3-6\">"))
    #expect(!findings.contains("not available"))
    // Every in-page link has its target.
    let ids = Set(Self.matches(#"id="([^"]+)""#, in: html))
    let targets = Set(Self.matches(##"href="#([^"]+)""##, in: html))
    #expect(targets.subtracting(ids).isEmpty, "links without a target: \(targets.subtracting(ids).sorted())")
    // Self-contained: no script, every image inline, no URL but the SVG namespace.
    #expect(!html.contains("<script") && html.range(of: #" on[a-z]+=""#, options: .regularExpression) == nil)
    #expect(Self.matches(#"src="([^"]{0,5})"#, in: html).allSatisfy { $0 == "data:" })
    let urls = Self.matches(#"(https?://[^"' <]+)"#, in: html)
    #expect(urls.allSatisfy { $0 == "http://www.w3.org/2000/svg" }, "external URLs: \(Set(urls))")
    // Under 10 MB for a 1,000-probe, 200-checkpoint run; the size is printed for the README.
    let bytes = html.utf8.count
    print("report of the synthetic run (1,000 probes, 200 checkpoints): \(bytes) bytes, built in \(seconds) s")
    #expect(bytes < 10_000_000)
    #expect(bytes > 100_000, "a report this small has lost its images")
  }

  @Test func imagesDecodeAndSVGIsWellFormedWithAtMostTwelveLabelsPerAxis() throws {
    let html = ReportPage(try SyntheticRun().inputs(findings: nil)).html()
    let images = Self.matches(#"src="data:image/png;base64,([A-Za-z0-9+/=]+)""#, in: html)
    // 10 class overlays + 40 prototype strips (4 per class) + 32 table strips + the confused pair's
    // shared prototype + 1 flag + 2 explainer samples.
    #expect(images.count == 10 + 40 + 32 + 1 + 1 + 2)
    let pairs = try #require(Self.section("pairs", in: html))
    #expect(pairs.contains("Why the most confused pairs are confused"))
    #expect(pairs.contains("Prototypes attended in both: <a href=\"#prototype-3\">prototype 3</a> (ρ 0.90 in"))
    for base64 in images {
      let bytes = try #require(Data(base64Encoded: base64).map { [UInt8]($0) })
      try Self.decodePNG(bytes)
    }
    let svgs = Self.matches(#"(<svg[\s\S]*?</svg>)"#, in: html)
    // Trainer metrics (loss; lr), the class means, accuracy and confidence heat maps; 2 footprints;
    // 10 attention maps; the pair heat map;
    // the flag's signs and pair chart; the fine-tune's pair chart; faithfulness.
    #expect(svgs.count == 5 + 2 + 10 + 1 + 3 + 1)
    for svg in svgs {
      let parser = XMLParser(data: Data(svg.utf8))
      #expect(parser.parse(), "not well-formed: \(parser.parserError.map { "\($0)" } ?? "") in \(svg.prefix(200))")
      for axis in ["x-axis", "y-axis"] {
        for group in Self.matches(#"<g class="axis \#(axis)">([\s\S]*?)</g>"#, in: svg) {
          #expect(group.components(separatedBy: "class=\"tick\"").count - 1 <= NiceTicks.limit)
        }
      }
      // Heat map row labels (right-aligned ticks outside the axis groups).
      let outside = svg.replacingOccurrences(of: #"<g class="axis[\s\S]*?</g>"#, with: "", options: .regularExpression)
      #expect(outside.components(separatedBy: "text-anchor=\"end\" class=\"tick\"").count - 1 <= NiceTicks.limit)
    }
    // Footprints where the analysis has them (prototypes 0 and 1), a dash elsewhere, no absence note.
    let prototypes = try #require(Self.section("prototypes", in: html))
    #expect(
      Self.matches(#"aria-label="(footprint of prototype \d+)""#, in: prototypes) == [
        "footprint of prototype 0", "footprint of prototype 1",
      ])
    #expect(!prototypes.contains("does not measure them"))
    let findings = try #require(Self.section("findings", in: html))
    #expect(findings.contains("findings are not available from this daemon"))
    #expect(!findings.contains("<ol"))
  }

  @Test func aRunWithoutAnalysisStatesEveryAbsence() throws {
    var inputs = ReportInputs(run: "empty")
    inputs.runRow = ["name": "empty", "architecture": "smallcnn", "classes": ["a", "b"], "probe_count": 20]
    inputs.analysis = .failure(.init("run 'empty' has no analysis for any checkpoint yet"))
    inputs.probe = .failure(.init("no analysis, so no GradCAM maps to show"))
    inputs.directives = .success(["policy": "manual", "directives": [] as [Any]])
    inputs.explanations = .success(["explain_policy": "off", "explanations": [] as [Any]])
    inputs.findings = .failure(.init("findings are not available from this daemon"))
    let html = ReportPage(inputs).html()
    for id in ["prototypes", "attention", "pairs", "faithfulness"] {
      let section = try #require(Self.section(id, in: html))
      #expect(section.contains("Not shown:"), "\(id) does not say why it is empty")
      #expect(!section.contains("<svg"), "\(id) draws something without data")
    }
    #expect(html.contains("no analysis for any checkpoint yet"))
    #expect(try #require(Self.section("uncertain", in: html)).contains("No fine-tune directive was made"))
  }

  // MARK: helpers

  static func section(_ id: String, in html: String) -> String? {
    guard let start = html.range(of: "<section id=\"\(id)\">") else { return nil }
    guard let end = html.range(of: "</section>", range: start.upperBound..<html.endIndex) else { return nil }
    return String(html[start.lowerBound..<end.upperBound])
  }

  static func matches(_ pattern: String, in text: String) -> [String] {
    guard let regex = try? NSRegularExpression(pattern: pattern) else { return [] }
    let range = NSRange(text.startIndex..<text.endIndex, in: text)
    return regex.matches(in: text, range: range).compactMap { match in
      Range(match.range(at: 1), in: text).map { String(text[$0]) }
    }
  }

  /// Walks the PNG's chunks, checks each CRC, inflates the IDAT data and checks it holds one
  /// filter byte and width × 3 bytes per row (our encoder's RGB, depth 8).
  static func decodePNG(_ bytes: [UInt8]) throws {
    #expect(Array(bytes.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    var offset = 8
    var (width, height) = (0, 0)
    var idat: [UInt8] = []
    var sawEnd = false
    func be32(_ at: Int) -> Int {
      Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
    }
    while offset + 12 <= bytes.count {
      let length = be32(offset)
      let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
      try #require(offset + 12 + length <= bytes.count, "chunk \(type) runs past the end")
      let body = Array(bytes[(offset + 4)..<(offset + 8 + length)])
      let crc = body.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
      #expect(UInt32(be32(offset + 8 + length)) == UInt32(crc), "CRC of \(type)")
      let data = Array(body.dropFirst(4))
      if type == "IHDR" {
        width = Int(data[0]) << 24 | Int(data[1]) << 16 | Int(data[2]) << 8 | Int(data[3])
        height = Int(data[4]) << 24 | Int(data[5]) << 16 | Int(data[6]) << 8 | Int(data[7])
        #expect(data[8] == 8 && data[9] == 2)
      } else if type == "IDAT" {
        idat += data
      } else if type == "IEND" {
        sawEnd = true
      }
      offset += 12 + length
    }
    #expect(sawEnd && width > 0 && height > 0)
    let expected = height * (1 + 3 * width)
    var inflated = [UInt8](repeating: 0, count: expected + 1)
    var size = uLongf(inflated.count)
    #expect(uncompress(&inflated, &size, idat, uLong(idat.count)) == Z_OK)
    #expect(Int(size) == expected)
  }
}

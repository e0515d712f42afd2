import Datasets
import Foundation
import Testing

@Suite struct IDXReaderTests {
  /// 3 images of 2×2: 0, 20, 40, … 220.
  let pixels: [UInt8] = (0..<12).map { UInt8($0 * 20) }

  @Test(arguments: [false, true])
  func roundTrip(gzipped: Bool) throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    // Content decides, not the name: the raw file is also called .gz.
    let url = directory.appendingPathComponent("images.gz")
    let bytes = idxBytes(dimensions: [3, 2, 2], data: pixels)
    if gzipped { try writeGzip(bytes, to: url) } else { try writeRaw(bytes, to: url) }
    let (dims, data) = try IDXReader.read(url)
    #expect(dims == [3, 2, 2])
    #expect(data == pixels)
  }

  /// A larger gzipped file (1 MB of incompressible-ish data) and a file of two gzip members.
  @Test func largeAndMultiMemberGzip() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    var generator = SeededGenerator(seed: 1)
    let big = (0..<(1 << 20)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
    let url = directory.appendingPathComponent("big.gz")
    try writeGzip(idxBytes(dimensions: [1024, 32, 32], data: big), to: url)
    #expect(try IDXReader.read(url).bytes == big)
    let bytes = idxBytes(dimensions: [3, 2, 2], data: pixels)
    try writeGzip(Array(bytes[..<10]), to: url)
    try writeGzip(Array(bytes[10...]), to: url, append: true)
    #expect(try IDXReader.read(url).bytes == pixels)
  }

  @Test func pairBuildsLabeledImages() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let images = directory.appendingPathComponent("i.gz")
    let labels = directory.appendingPathComponent("l")
    try writeGzip(idxBytes(dimensions: [3, 2, 2], data: pixels), to: images)
    try writeRaw(idxBytes(dimensions: [3], data: [2, 0, 1]), to: labels)
    let set = try IDXReader.readPair(images: images, labels: labels, classNames: ["a", "b", "c"])
    #expect(set.count == 3 && set.channels == 1 && set.height == 2 && set.width == 2)
    #expect(set.labels == [2, 0, 1])
    #expect(set.pixels == pixels)

    try writeRaw(idxBytes(dimensions: [2], data: [2, 0]), to: labels)
    #expect(throws: DatasetError.self) {
      try IDXReader.readPair(images: images, labels: labels, classNames: ["a", "b", "c"])
    }
    try writeRaw(idxBytes(dimensions: [3], data: [2, 0, 3]), to: labels)
    #expect(throws: DatasetError.labelOutOfRange(path: labels.path, label: 3, classes: 3)) {
      try IDXReader.readPair(images: images, labels: labels, classNames: ["a", "b", "c"])
    }
  }

  /// 12 promised bytes, 5 present (raw file) or 13 present (one too many).
  @Test func truncatedOrOverlongDataIsAnError() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("short")
    try writeRaw(idxBytes(dimensions: [3, 2, 2], data: Array(pixels.prefix(5))), to: url)
    #expect(throws: DatasetError.sizeMismatch(path: url.path, expected: 12, actual: 5)) {
      try IDXReader.read(url)
    }
    #expect(
      DatasetError.sizeMismatch(path: "p", expected: 12, actual: 5).message.contains("truncated"))
    #expect(throws: DatasetError.sizeMismatch(path: "t", expected: 12, actual: 13)) {
      try IDXReader.parse(idxBytes(dimensions: [3, 2, 2], data: pixels + [0]), source: "t")
    }
    #expect(throws: DatasetError.self) { try IDXReader.parse([0, 0, 8, 3, 0, 0], source: "t") }
  }

  @Test func badMagicOrTypeIsAnError() {
    let magic = #expect(throws: DatasetError.self) {
      try IDXReader.parse([1, 2, 3, 4, 5], source: "t")
    }
    #expect(magic == .badIDXHeader(path: "t", problem: "bad magic (first two bytes are not 00 00)"))
    // Type 0x0D (float) is valid IDX but not what we read.
    let type = #expect(throws: DatasetError.self) {
      try IDXReader.parse([0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0], source: "t")
    }
    #expect(type?.message.contains("element type 0xd is not unsigned byte") == true)
  }

  @Test func corruptGzipIsAnError() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("x.gz")
    try writeGzip(idxBytes(dimensions: [3, 2, 2], data: pixels), to: url)
    var bytes = [UInt8](try Data(contentsOf: url))
    bytes.removeLast(12)  // cut into the deflate stream and the trailer
    try writeRaw(bytes, to: url)
    let error = #expect(throws: DatasetError.self) { try IDXReader.read(url) }
    #expect(error?.message.contains("corrupt or truncated") == true)
    #expect(error?.message.contains("re-download") == true)
  }

  @Test func missingFileIsMissing() {
    let url = URL(fileURLWithPath: "/nonexistent/i2x/images.gz")
    let error = #expect(throws: DatasetError.self) { try IDXReader.read(url) }
    #expect(error?.isMissing == true)
  }
}

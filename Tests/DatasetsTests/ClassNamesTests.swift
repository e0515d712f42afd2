import Datasets
import Foundation
import Testing

/// `--class-names FILE` and `classes.txt`: one distinct, non-empty name per class, in label
/// order; trailing blank lines are ignored; anything else is refused with what to write.
@Suite struct ClassNamesTests {
  func file(_ text: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("i2x-classes-\(UUID().uuidString).txt")
    try text.write(to: url, atomically: true, encoding: .utf8)
    return url
  }

  @Test func namesOnePerLineTrailingBlankLinesIgnored() throws {
    let url = try file("cat\n dog \nbird\n\n")
    defer { try? FileManager.default.removeItem(at: url) }
    #expect(try DatasetCatalog.classNames(url, expected: 3) == ["cat", "dog", "bird"])
  }

  @Test func wrongCountDuplicatesAndBlankNamesAreRefused() throws {
    for text in ["cat\ndog\n", "cat\ncat\nbird\n", "cat\n\nbird\n"] {
      let url = try file(text)
      defer { try? FileManager.default.removeItem(at: url) }
      let error = #expect(throws: DatasetError.self) { try DatasetCatalog.classNames(url, expected: 3) }
      #expect(error?.description.contains("one distinct, non-empty name per line") == true, "\(text)")
    }
  }

  /// A `classes.txt` beside synthetic-format IDX files names the classes of `mnist` data.
  @Test func classesTextInTheDataDirectoryNamesTheClasses() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("i2x-idx-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    func bigEndian(_ values: [Int]) -> [UInt8] {
      values.flatMap { v in [24, 16, 8, 0].map { UInt8((v >> $0) & 0xFF) } }
    }
    for stem in ["train", "t10k"] {
      try Data(bigEndian([0x803, 2, 28, 28]) + [UInt8](repeating: 7, count: 2 * 784)).write(
        to: directory.appendingPathComponent("\(stem)-images-idx3-ubyte"))
      try Data(bigEndian([0x801, 2]) + [0, 9]).write(to: directory.appendingPathComponent("\(stem)-labels-idx1-ubyte"))
    }
    let names = (0..<10).map { "n\($0)" }
    try (names.joined(separator: "\n") + "\n").write(
      to: directory.appendingPathComponent("classes.txt"), atomically: true, encoding: .utf8)
    let data = try DatasetCatalog.load(name: "mnist", dataDirectory: directory, seed: 1)
    #expect(data.train.classNames == names && data.test.classNames == names)
    let override = try file((0..<10).map { "m\($0)" }.joined(separator: "\n"))
    defer { try? FileManager.default.removeItem(at: override) }
    let overridden = try DatasetCatalog.load(name: "mnist", dataDirectory: directory, seed: 1, classNamesFile: override)
    #expect(overridden.train.classNames.first == "m0")
  }
}

import Datasets
import Foundation
import Testing

@Suite struct CIFARReaderTests {
  /// Record 1: label 3 (cat), every pixel 7. Record 2: label 9 (truck), pixel j = j mod 256.
  let record1 = [UInt8(3)] + [UInt8](repeating: 7, count: 3072)
  let record2 = [UInt8(9)] + (0..<3072).map { UInt8($0 % 256) }

  @Test func twoRecordBatch() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("data_batch_1.bin")
    try writeRaw(record1 + record2, to: url)
    let set = try CIFARReader.read(batchFiles: [url, url])
    #expect(set.count == 4 && set.labels == [3, 9, 3, 9])
    #expect(set.channels == 3 && set.height == 32 && set.width == 32)
    #expect(set.pixels.count == 4 * 3072)
    #expect(set.pixels[0] == 7 && set.pixels[3071] == 7)
    // Image 1, green plane (offset 1024), row 0, column 1: 1025 mod 256 = 1.
    #expect(set.pixels[3072 + 1024 + 1] == 1)
    #expect(set.classNames[3] == "cat" && set.classNames[9] == "truck")
  }

  @Test func sizeNotAMultipleOfTheRecordIsAnError() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("data_batch_1.bin")
    try writeRaw(record1 + record2.dropLast(), to: url)
    let error = #expect(throws: DatasetError.self) { try CIFARReader.read(batchFiles: [url]) }
    #expect(error == .badCIFARSize(path: url.path, size: 2 * 3073 - 1))
    #expect(error?.message.contains("3073") == true)
    try writeRaw([], to: url)
    #expect(throws: DatasetError.badCIFARSize(path: url.path, size: 0)) {
      try CIFARReader.read(batchFiles: [url])
    }
  }

  @Test func labelOverNineIsAnError() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("data_batch_1.bin")
    try writeRaw([10] + record1.dropFirst(), to: url)
    #expect(throws: DatasetError.labelOutOfRange(path: url.path, label: 10, classes: 10)) {
      try CIFARReader.read(batchFiles: [url])
    }
  }
}

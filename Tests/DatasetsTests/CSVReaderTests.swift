import Datasets
import Foundation
import Testing

@Suite struct CSVReaderTests {
  func read(_ text: String, classNames: [String]? = nil) throws -> LabeledImages {
    try CSVReader.parse(
      Array(text.utf8), source: "d.csv", channels: 1, height: 2, width: 2, classNames: classNames)
  }

  @Test func withHeader() throws {
    let set = try read("label,p1,p2,p3,p4\n1,0,10,20,255\n0,5,5,5,5\n")
    #expect(set.labels == [1, 0])
    #expect(set.pixels == [0, 10, 20, 255, 5, 5, 5, 5])
    #expect(set.classNames == ["0", "1"])
  }

  @Test func withoutHeaderCRLFBlankLinesAndSpaces() throws {
    let set = try read("1,0,10,20,255\r\n\r\n 2 , 1,2 ,3,4\r\n", classNames: ["a", "b", "c"])
    #expect(set.labels == [1, 2])
    #expect(set.pixels == [0, 10, 20, 255, 1, 2, 3, 4])
    #expect(set.classNames == ["a", "b", "c"])
  }

  /// Float files: 0.5·255 = 127.5 → 128, 0.2·255 = 51; `1` and `0` are 255 and 0 there.
  @Test func floatPixelsInUnitRangeAreScaled() throws {
    let set = try read("3,0.5,0.2,1,0\n0,1e-3,0.999,0.0,1.0\n")
    #expect(set.pixels == [128, 51, 255, 0, 0, 255, 0, 255])
    let error = #expect(throws: DatasetError.self) { try read("3,0.5,0.2,1,2\n") }
    #expect(
      error == .badCSVLine(path: "d.csv", line: 1, problem: "pixel 4 '2' is not a number in [0, 1]")
    )
  }

  @Test func wrongColumnCountNamesTheLine() throws {
    let error = #expect(throws: DatasetError.self) { try read("p,a,b,c,d\n1,0,10,20,255\n0,5,5\n") }
    #expect(error?.message.contains("line 3") == true)
    #expect(error?.message.contains("has 3 fields, expected 1 label + 4 pixels") == true)
    #expect(throws: DatasetError.self) { try read("1,0,10,20,255,7\n") }
    #expect(throws: DatasetError.self) { try read("1,0,10,20,255,\n") }
  }

  @Test func badValueNamesTheLine() throws {
    let pixel = #expect(throws: DatasetError.self) { try read("\n1,0,10,20,256\n") }
    #expect(
      pixel
        == .badCSVLine(
          path: "d.csv", line: 2, problem: "pixel 4 '256' is not an integer in 0…255"))
    let label = #expect(throws: DatasetError.self) { try read("1,0,10,20,25\n-1,0,0,0,0\n") }
    #expect(label?.message.contains("line 2: label '-1'") == true)
    #expect(throws: DatasetError.labelOutOfRange(path: "d.csv", label: 2, classes: 2)) {
      try read("2,0,0,0,0\n", classNames: ["a", "b"])
    }
  }

  @Test func readsGzippedFilesFromDisk() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("d.csv.gz")
    try writeGzip(Array("label,a,b,c,d\n1,0,10,20,255\n".utf8), to: url)
    let set = try CSVReader.read(url, channels: 1, height: 2, width: 2)
    #expect(set.count == 1 && set.pixels == [0, 10, 20, 255])
  }
}

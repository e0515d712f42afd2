import Datasets
import Foundation
import Testing

@Suite struct ReaderTests {
  let pixels: [UInt8] = (0..<(3 * 2 * 2)).map { UInt8($0 * 20) }

  @Test(arguments: [false, true])
  func idxRoundTrip(gzipped: Bool) throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent(gzipped ? "x.gz" : "x")
    let bytes = idxBytes(dimensions: [3, 2, 2], data: pixels)
    if gzipped { writeGzip(bytes, to: url) } else { try Data(bytes).write(to: url) }
    let (dimensions, data) = try IDXReader.read(url)
    #expect(dimensions == [3, 2, 2])
    #expect(data == pixels)
  }

  @Test func idxPairBuildsLabeledImages() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let images = directory.appendingPathComponent("i.gz")
    let labels = directory.appendingPathComponent("l.gz")
    writeGzip(idxBytes(dimensions: [3, 2, 2], data: pixels), to: images)
    writeGzip(idxBytes(dimensions: [3], data: [2, 0, 1]), to: labels)
    let set = try IDXReader.readPair(images: images, labels: labels, classNames: ["a", "b", "c"])
    #expect(set.count == 3 && set.height == 2 && set.width == 2 && set.channels == 1)
    #expect(set.labels == [2, 0, 1])
  }

  @Test func truncatedIDXIsAnError() {
    let bytes = idxBytes(dimensions: [3, 2, 2], data: Array(pixels.prefix(5)))
    #expect { try IDXReader.parse(bytes, source: "t") } throws: {
      ($0 as? DatasetError)?.message.contains("truncated") == true
    }
  }

  @Test func badMagicIsAnError() {
    #expect { try IDXReader.parse([1, 2, 3, 4, 5], source: "t") } throws: {
      ($0 as? DatasetError)?.message.contains("magic") == true
    }
    #expect { try IDXReader.parse([0, 0, 0x0D, 1, 0, 0, 0, 1, 0], source: "t") } throws: {
      ($0 as? DatasetError) != nil
    }
  }

  @Test func corruptGzipIsAnError() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("x.gz")
    writeGzip(idxBytes(dimensions: [3, 2, 2], data: pixels), to: url)
    var bytes = [UInt8](try Data(contentsOf: url))
    bytes.removeLast(12)
    try Data(bytes).write(to: url)
    #expect { try IDXReader.read(url) } throws: {
      ($0 as? DatasetError)?.message.contains("corrupt or truncated") == true
    }
  }

  @Test func cifarBatches() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("data_batch_1.bin")
    let record1 = [UInt8(3)] + [UInt8](repeating: 7, count: 3072)
    let record2 = [UInt8(9)] + (0..<3072).map { UInt8($0 % 256) }
    try Data(record1 + record2).write(to: url)
    let set = try CIFARReader.read(batchFiles: [url])
    #expect(set.labels == [3, 9])
    #expect(set.channels == 3 && set.height == 32)
    #expect(set.pixels[3072 + 257] == 1)
    #expect(set.classNames[3] == "cat")
    try Data(record1.dropLast()).write(to: url)
    #expect { try CIFARReader.read(batchFiles: [url]) } throws: {
      ($0 as? DatasetError)?.message.contains("3073") == true
    }
  }

  @Test func csvWithAndWithoutHeader() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("d.csv")
    try "label,p1,p2,p3,p4\n1,0,10,20,255\n0,5,5,5,5\n".write(to: url, atomically: true, encoding: .utf8)
    let set = try CSVReader.read(url, channels: 1, height: 2, width: 2)
    #expect(set.labels == [1, 0])
    #expect(set.pixels == [0, 10, 20, 255, 5, 5, 5, 5])
    #expect(set.classNames == ["0", "1"])
    try "1,0,10,20,255\n".write(to: url, atomically: true, encoding: .utf8)
    #expect(try CSVReader.read(url, channels: 1, height: 2, width: 2).count == 1)
  }

  @Test func csvBadLineNamesTheLine() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let url = directory.appendingPathComponent("d.csv")
    try "1,0,10,20,255\n0,5,5\n".write(to: url, atomically: true, encoding: .utf8)
    #expect { try CSVReader.read(url, channels: 1, height: 2, width: 2) } throws: {
      ($0 as? DatasetError)?.message.contains("line 2") == true
    }
    try "1,0,10,20,256\n".write(to: url, atomically: true, encoding: .utf8)
    #expect { try CSVReader.read(url, channels: 1, height: 2, width: 2) } throws: {
      ($0 as? DatasetError)?.message.contains("line 1") == true
    }
  }

  @Test func missingFashionMNISTSaysWhichPackageToInstall() {
    #expect {
      try DatasetCatalog.load(name: "fashion-mnist", dataDirectory: URL(fileURLWithPath: "/nonexistent"), seed: 1)
    } throws: { error in
      let e = error as? DatasetError
      return e?.isMissing == true && e?.message.contains("apt-get install dataset-fashion-mnist") == true
        && e?.message.contains("--data-dir") == true
    }
    #expect { try DatasetCatalog.load(name: "imagenet", dataDirectory: nil, seed: 1) } throws: {
      ($0 as? DatasetError)?.message.contains("fashion-mnist") == true
    }
  }

  /// The real dataset, when the Debian package is installed (CI installs it).
  @Test(
    .enabled(if: FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"))
  )
  func realFashionMNIST() throws {
    let (train, test) = try DatasetCatalog.load(name: "fashion-mnist", dataDirectory: nil, seed: 1)
    #expect(train.count == 60000 && test.count == 10000)
    #expect(train.height == 28 && train.width == 28)
    #expect(train.labels[0] == 9)  // the first training image is an ankle boot
  }
}

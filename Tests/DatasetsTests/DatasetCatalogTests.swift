import Datasets
import Foundation
import Testing

@Suite struct DatasetCatalogTests {
  @Test func missingFashionMNISTSaysWhichPackageToInstall() {
    let directory = URL(fileURLWithPath: "/nonexistent/i2x")
    let error = #expect(throws: DatasetError.self) {
      try DatasetCatalog.load(name: "fashion-mnist", dataDirectory: directory, seed: 1)
    }
    #expect(error?.isMissing == true)
    #expect(error?.source == "/nonexistent/i2x/train-images-idx3-ubyte.gz")
    #expect(error?.description.contains("apt-get install dataset-fashion-mnist") == true)
    #expect(error?.description.contains("--data-dir") == true)
  }

  @Test func mnistAndCIFARNeedADataDirectory() {
    for name in ["mnist", "cifar10"] {
      let error = #expect(throws: DatasetError.self) {
        try DatasetCatalog.load(name: name, dataDirectory: nil, seed: 1)
      }
      #expect(error?.isMissing == true)
      #expect(error?.message.contains("--data-dir") == true)
    }
    let cifar = #expect(throws: DatasetError.self) {
      try DatasetCatalog.load(
        name: "cifar10", dataDirectory: URL(fileURLWithPath: "/nonexistent"), seed: 1)
    }
    #expect(cifar?.source == "/nonexistent/data_batch_1.bin")
  }

  @Test func unknownNameListsTheKnownOnes() {
    let error = #expect(throws: DatasetError.self) {
      try DatasetCatalog.load(name: "imagenet", dataDirectory: nil, seed: 1)
    }
    #expect(error == .unknownDataset(name: "imagenet", known: DatasetCatalog.names))
    #expect(
      error?.description
        == "imagenet: unknown dataset; choose one of fashion-mnist, mnist, cifar10, synthetic")
  }

  /// Gzipped training files and uncompressed test files side by side, as `--data-dir` gets them.
  @Test func loadsIDXFilesFromADataDirectory() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    func url(_ name: String) -> URL { directory.appendingPathComponent(name) }
    let pixels = (0..<(4 * 28 * 28)).map { UInt8($0 % 251) }
    try writeGzip(
      idxBytes(dimensions: [4, 28, 28], data: pixels), to: url("train-images-idx3-ubyte.gz"))
    try writeGzip(
      idxBytes(dimensions: [4], data: [9, 0, 3, 3]), to: url("train-labels-idx1-ubyte.gz"))
    try writeRaw(
      idxBytes(dimensions: [1, 28, 28], data: Array(pixels[..<784])),
      to: url("t10k-images-idx3-ubyte"))
    try writeRaw(idxBytes(dimensions: [1], data: [7]), to: url("t10k-labels-idx1-ubyte"))
    let (train, test) = try DatasetCatalog.load(
      name: "fashion-mnist", dataDirectory: directory, seed: 1)
    #expect(train.count == 4 && train.labels == [9, 0, 3, 3] && train.pixels == pixels)
    #expect(test.count == 1 && test.labels == [7])
    #expect(train.classNames[9] == "Ankle boot" && train.classNames[0] == "T-shirt/top")
    let (mnist, _) = try DatasetCatalog.load(name: "mnist", dataDirectory: directory, seed: 1)
    #expect(mnist.classNames == (0..<10).map(String.init))
  }

  @Test func syntheticIsSeeded() throws {
    let (train, test) = try DatasetCatalog.load(name: "synthetic", dataDirectory: nil, seed: 4)
    #expect(train.count == DatasetCatalog.syntheticTrainCount && test.count == 500)
    #expect(train.pixels == SyntheticImages.make(count: train.count, seed: 4).pixels)
    #expect(test.pixels != train.subset(Array(0..<500)).pixels)
  }

  /// The real dataset, when the Debian package is installed (CI installs it).
  @Test(
    .enabled(
      if: FileManager.default.fileExists(
        atPath: "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"))
  )
  func realFashionMNIST() throws {
    let (train, test) = try DatasetCatalog.load(name: "fashion-mnist", dataDirectory: nil, seed: 1)
    #expect(train.count == 60000 && test.count == 10000)
    #expect(train.height == 28 && train.width == 28 && train.channels == 1)
    #expect(train.labels[0] == 9)  // the first training image is an ankle boot
    #expect(test.labels[0] == 9)
  }
}

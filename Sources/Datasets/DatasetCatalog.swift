import Foundation

/// Datasets by name, with their default locations.
public enum DatasetCatalog {
  /// Known names.
  public static let names = ["fashion-mnist", "mnist", "cifar10", "synthetic"]

  /// Fashion-MNIST class names.
  public static let fashionClasses = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
  ]

  /// Default directory of a dataset (Debian's location for Fashion-MNIST).
  public static func defaultDirectory(_ name: String) -> URL? {
    switch name {
    case "fashion-mnist": return URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist")
    case "mnist": return URL(fileURLWithPath: "/usr/share/datasets/mnist")
    default: return nil
    }
  }

  /// Loads the training source and the test set of a named dataset.
  /// - Parameters:
  ///   - dataDirectory: overrides the default directory.
  ///   - seed: seeds the synthetic dataset.
  /// - Throws: `DatasetError`; a missing dataset names the Debian package or `--data-dir`.
  public static func load(
    name: String, dataDirectory: URL?, seed: UInt64
  ) throws(DatasetError) -> (train: LabeledImages, test: LabeledImages) {
    switch name {
    case "fashion-mnist", "mnist":
      let classes = name == "mnist" ? (0..<10).map(String.init) : fashionClasses
      guard let directory = dataDirectory ?? defaultDirectory(name) else {
        preconditionFailure("IDX dataset has a directory")
      }
      func file(_ stem: String) throws(DatasetError) -> URL {
        for candidate in [stem + ".gz", stem] {
          let url = directory.appendingPathComponent(candidate)
          if FileManager.default.fileExists(atPath: url.path) { return url }
        }
        let install =
          name == "fashion-mnist"
          ? "install it with 'apt-get install dataset-fashion-mnist'"
          : "put the MNIST IDX files there"
        throw DatasetError(
          source: directory.appendingPathComponent(stem + ".gz").path,
          "\(name) not found; \(install), or pass --data-dir DIR", isMissing: true)
      }
      let train = try IDXReader.readPair(
        images: try file("train-images-idx3-ubyte"), labels: try file("train-labels-idx1-ubyte"), classNames: classes)
      let test = try IDXReader.readPair(
        images: try file("t10k-images-idx3-ubyte"), labels: try file("t10k-labels-idx1-ubyte"), classNames: classes)
      return (train, test)
    case "cifar10":
      guard let directory = dataDirectory else {
        throw DatasetError(
          source: "cifar10", "pass --data-dir DIR with the CIFAR-10 binary batches (data_batch_1.bin … test_batch.bin)",
          isMissing: true)
      }
      let train = try CIFARReader.read(
        batchFiles: (1...5).map { directory.appendingPathComponent("data_batch_\($0).bin") })
      let test = try CIFARReader.read(batchFiles: [directory.appendingPathComponent("test_batch.bin")])
      return (train, test)
    case "synthetic":
      return (SyntheticImages.make(count: 2400, seed: seed), SyntheticImages.make(count: 500, seed: seed &+ 1))
    default:
      throw DatasetError(source: name, "unknown dataset; choose one of \(names.joined(separator: ", "))")
    }
  }
}

import Foundation

/// Datasets by name (`fashion-mnist`, `mnist`, `cifar10`, `synthetic`) and where to find them.
public enum DatasetCatalog {
  /// Known dataset names; `fashion-mnist` is the default.
  public static let names = ["fashion-mnist", "mnist", "cifar10", "synthetic"]

  /// Fashion-MNIST class names, by label.
  public static let fashionClasses = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
    "Ankle boot",
  ]

  /// Images in the synthetic training source: 2000 remain for training after the trainer's
  /// default held-out splits (200 validation, 100 probe, 100 generator).
  public static let syntheticTrainCount = 2400
  /// Images in the synthetic test set.
  public static let syntheticTestCount = 500

  /// Where Debian's package puts a dataset: only Fashion-MNIST is packaged
  /// (`dataset-fashion-mnist` → `/usr/share/datasets/fashion-mnist`); others need `--data-dir`.
  public static func defaultDirectory(_ name: String) -> URL? {
    name == "fashion-mnist" ? URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist") : nil
  }

  /// Loads the training source and the separate test set of a named dataset.
  /// - Parameters:
  ///   - name: one of `names`.
  ///   - dataDirectory: overrides `defaultDirectory(name)`; required for `mnist` and `cifar10`.
  ///     IDX files may be gzipped (`train-images-idx3-ubyte.gz`) or not (no `.gz`).
  ///   - seed: seeds the synthetic dataset (the test set uses `seed &+ 1`).
  /// - Throws: `DatasetError`; a missing file names the file and says which Debian package to
  ///   install or to pass `--data-dir`; an unknown name lists the known ones.
  ///   - classNamesFile: class names, one per line; default: `classes.txt` in the data
  ///     directory when there is one, else the dataset's own names.
  public static func load(
    name: String, dataDirectory: URL?, seed: UInt64, classNamesFile: URL? = nil
  ) throws(DatasetError) -> (train: LabeledImages, test: LabeledImages) {
    var data = try loadNamed(name: name, dataDirectory: dataDirectory, seed: seed)
    let file =
      classNamesFile
      ?? (dataDirectory ?? defaultDirectory(name)).map { $0.appendingPathComponent("classes.txt") }.flatMap {
        FileManager.default.fileExists(atPath: $0.path) ? $0 : nil
      }
    if let file {
      let names = try classNames(file, expected: data.train.classNames.count)
      data.train.classNames = names
      data.test.classNames = names
    }
    return data
  }

  /// Class names from `file` (one per line, blank lines at the end ignored); exactly
  /// `expected` of them, non-empty and distinct.
  public static func classNames(_ file: URL, expected: Int) throws(DatasetError) -> [String] {
    let text: String
    do { text = try String(contentsOf: file, encoding: .utf8) } catch {
      throw .unreadable(
        path: file.path, reason: "\(error.localizedDescription); class names are UTF-8 text, one per line")
    }
    var names = text.split(separator: "\n", omittingEmptySubsequences: false).map {
      $0.trimmingCharacters(in: .whitespacesAndNewlines)
    }
    while names.last?.isEmpty == true { names.removeLast() }
    guard names.count == expected, names.allSatisfy({ !$0.isEmpty }), Set(names).count == names.count else {
      throw .shapeMismatch(
        path: file.path,
        problem: "has \(names.count) class names (\(Set(names).count) distinct, blank lines count); the data has "
          + "\(expected) classes: write one distinct, non-empty name per line, in label order")
    }
    return names
  }

  private static func loadNamed(
    name: String, dataDirectory: URL?, seed: UInt64
  ) throws(DatasetError) -> (train: LabeledImages, test: LabeledImages) {
    switch name {
    case "fashion-mnist":
      return try loadIDX(name: name, directory: dataDirectory, classNames: fashionClasses)
    case "mnist":
      return try loadIDX(
        name: name, directory: dataDirectory, classNames: (0..<10).map(String.init))
    case "cifar10":
      return try loadCIFAR(directory: dataDirectory)
    case "synthetic":
      return (
        SyntheticImages.make(count: syntheticTrainCount, seed: seed),
        SyntheticImages.make(count: syntheticTestCount, seed: seed &+ 1)
      )
    default:
      throw .unknownDataset(name: name, known: names)
    }
  }

  /// The four IDX files of MNIST or Fashion-MNIST, `.gz` preferred over the plain name.
  private static func loadIDX(
    name: String, directory: URL?, classNames: [String]
  ) throws(DatasetError) -> (train: LabeledImages, test: LabeledImages) {
    let hint =
      name == "fashion-mnist"
      ? "install it with 'apt-get install dataset-fashion-mnist' "
        + "(→ /usr/share/datasets/fashion-mnist), "
        + "or pass --data-dir DIR holding the four IDX files"
      : "\(name) has no Debian package; pass --data-dir DIR holding train-images-idx3-ubyte, "
        + "train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (.gz or not)"
    guard let directory = directory ?? defaultDirectory(name) else {
      throw .missingFile(path: name, hint: hint)
    }
    func file(_ stem: String) throws(DatasetError) -> URL {
      for candidate in [stem + ".gz", stem] {
        let url = directory.appendingPathComponent(candidate)
        if FileManager.default.fileExists(atPath: url.path) { return url }
      }
      throw .missingFile(path: directory.appendingPathComponent(stem + ".gz").path, hint: hint)
    }
    let train = try IDXReader.readPair(
      images: file("train-images-idx3-ubyte"), labels: file("train-labels-idx1-ubyte"),
      classNames: classNames)
    let test = try IDXReader.readPair(
      images: file("t10k-images-idx3-ubyte"), labels: file("t10k-labels-idx1-ubyte"),
      classNames: classNames)
    return (train, test)
  }

  /// CIFAR-10's binary batches `data_batch_1.bin` … `data_batch_5.bin` and `test_batch.bin`.
  private static func loadCIFAR(
    directory: URL?
  ) throws(DatasetError) -> (train: LabeledImages, test: LabeledImages) {
    let hint =
      "cifar10 has no Debian package; pass --data-dir DIR holding data_batch_1.bin … "
      + "data_batch_5.bin and test_batch.bin (cifar-10-binary.tar.gz from "
      + "https://www.cs.toronto.edu/~kriz/cifar.html)"
    guard let directory else { throw .missingFile(path: "cifar10", hint: hint) }
    let trainFiles = (1...5).map { directory.appendingPathComponent("data_batch_\($0).bin") }
    let testFile = directory.appendingPathComponent("test_batch.bin")
    if let missing = (trainFiles + [testFile]).first(where: {
      !FileManager.default.fileExists(atPath: $0.path)
    }) {
      throw .missingFile(path: missing.path, hint: hint)
    }
    return (
      try CIFARReader.read(batchFiles: trainFiles), try CIFARReader.read(batchFiles: [testFile])
    )
  }
}

/// A dataset that cannot be read: each case says what went wrong, and its message what to do.
public enum DatasetError: Error, CustomStringConvertible, Equatable, Sendable {
  /// A file of a dataset is absent; `hint` says how to get it (Debian package or `--data-dir`).
  case missingFile(path: String, hint: String)
  /// The file exists but the operating system would not read it.
  case unreadable(path: String, reason: String)
  /// The gzip stream is damaged or cut short (zlib `status`).
  case corruptGzip(path: String, status: Int32)
  /// The IDX header is wrong: bad magic, element type other than unsigned byte, bad rank.
  case badIDXHeader(path: String, problem: String)
  /// The data after a header holds `actual` bytes where the header promises `expected`.
  case sizeMismatch(path: String, expected: Int, actual: Int)
  /// A CIFAR-10 batch whose size is not a positive multiple of the 3073-byte record.
  case badCIFARSize(path: String, size: Int)
  /// A CSV line (1-based `line`) that is not `label,p1,…,pK` with valid values.
  case badCSVLine(path: String, line: Int, problem: String)
  /// Two files of a pair, or a file and the requested shape, disagree.
  case shapeMismatch(path: String, problem: String)
  /// A label outside `0..<classes`.
  case labelOutOfRange(path: String, label: Int, classes: Int)
  /// A dataset name that the catalog does not know.
  case unknownDataset(name: String, known: [String])

  /// The file or dataset concerned.
  public var source: String {
    switch self {
    case .missingFile(let path, _), .unreadable(let path, _), .corruptGzip(let path, _),
      .badIDXHeader(let path, _), .sizeMismatch(let path, _, _), .badCIFARSize(let path, _),
      .badCSVLine(let path, _, _), .shapeMismatch(let path, _), .labelOutOfRange(let path, _, _):
      return path
    case .unknownDataset(let name, _):
      return name
    }
  }

  /// Whether the data is absent (exit 66) rather than malformed or unreadable (exit 65).
  public var isMissing: Bool {
    if case .missingFile = self { return true }
    return false
  }

  /// What is wrong and what to do, without the source.
  public var message: String {
    switch self {
    case .missingFile(_, let hint):
      return "file not found; \(hint)"
    case .unreadable(_, let reason):
      return "cannot read the file (\(reason)); check that it exists and is readable"
    case .corruptGzip(_, let status):
      return
        "gzip data is corrupt or truncated (zlib status \(status)); "
        + "re-download or reinstall the file"
    case .badIDXHeader(_, let problem):
      return "\(problem); expected an IDX unsigned-byte file (magic 00 00 08 <rank>), e.g. MNIST's"
    case .sizeMismatch(_, let expected, let actual):
      let kind = actual < expected ? "truncated" : "has trailing bytes"
      return "header promises \(expected) data bytes but the file has \(actual) (\(kind)); "
        + "re-download or reinstall the file"
    case .badCIFARSize(_, let size):
      return "size \(size) is not a positive multiple of the 3073-byte CIFAR-10 record "
        + "(1 label + 3×32×32 pixels); use the binary version (cifar-10-binary.tar.gz)"
    case .badCSVLine(_, let line, let problem):
      return "line \(line): \(problem); each line must be label,p1,…,pK with pixels in CHW order"
    case .shapeMismatch(_, let problem):
      return "\(problem); check that the files belong together"
    case .labelOutOfRange(_, let label, let classes):
      return "label \(label) is outside 0..<\(classes); pass class names for every label"
    case .unknownDataset(_, let known):
      return "unknown dataset; choose one of \(known.joined(separator: ", "))"
    }
  }

  /// `source: message`, for people.
  public var description: String { "\(source): \(message)" }
}

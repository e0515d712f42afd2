import Foundation

/// CIFAR-10 binary batches: records of 1 label byte + 3072 pixel bytes (3×32×32, CHW).
public enum CIFARReader {
  /// CIFAR-10 class names.
  public static let classNames = [
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
  ]
  static let recordSize = 1 + 3 * 32 * 32

  /// Reads and concatenates batch files.
  /// - Throws: `DatasetError` for a missing file, a size that is not a whole number of
  ///   records, or a label over 9.
  public static func read(batchFiles: [URL]) throws(DatasetError) -> LabeledImages {
    var pixels: [UInt8] = []
    var labels: [Int] = []
    for url in batchFiles {
      let bytes = try Gzip.readFile(url)
      guard bytes.count % recordSize == 0, !bytes.isEmpty else {
        throw DatasetError(
          source: url.path, "size \(bytes.count) is not a multiple of the \(recordSize)-byte CIFAR-10 record")
      }
      for start in stride(from: 0, to: bytes.count, by: recordSize) {
        guard bytes[start] < 10 else {
          throw DatasetError(source: url.path, "record \(start / recordSize) has label \(bytes[start]) outside 0..<10")
        }
        labels.append(Int(bytes[start]))
        pixels.append(contentsOf: bytes[(start + 1)..<(start + recordSize)])
      }
    }
    return LabeledImages(channels: 3, height: 32, width: 32, pixels: pixels, labels: labels, classNames: classNames)
  }
}

import Foundation

/// CIFAR-10 binary batches (`data_batch_1.bin` … `data_batch_5.bin`, `test_batch.bin`):
/// records of 1 label byte + 3072 pixel bytes (3×32×32, CHW: the red plane, green, blue).
public enum CIFARReader {
  /// CIFAR-10 class names, by label.
  public static let classNames = [
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
  ]

  /// Bytes per record: 1 label + 3·32·32 pixels.
  public static let recordSize = 1 + 3 * 32 * 32

  /// Reads batch files and concatenates their images in file order.
  /// - Throws: `DatasetError` for a missing or unreadable file, a size that is not a whole
  ///   number of records (`.badCIFARSize`), or a label over 9.
  public static func read(batchFiles: [URL]) throws(DatasetError) -> LabeledImages {
    let imageSize = recordSize - 1
    var pixels: [UInt8] = []
    var labels: [Int] = []
    for url in batchFiles {
      let bytes = try Gzip.readFile(url)
      guard bytes.count % recordSize == 0, !bytes.isEmpty else {
        throw .badCIFARSize(path: url.path, size: bytes.count)
      }
      let records = bytes.count / recordSize
      pixels.reserveCapacity(pixels.count + records * imageSize)
      labels.reserveCapacity(labels.count + records)
      for start in stride(from: 0, to: bytes.count, by: recordSize) {
        guard bytes[start] < classNames.count else {
          throw .labelOutOfRange(
            path: url.path, label: Int(bytes[start]), classes: classNames.count)
        }
        labels.append(Int(bytes[start]))
        pixels.append(contentsOf: bytes[(start + 1)..<(start + recordSize)])
      }
    }
    return LabeledImages(
      channels: 3, height: 32, width: 32, pixels: pixels, labels: labels, classNames: classNames)
  }
}

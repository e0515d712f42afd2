import Foundation

/// IDX files (MNIST, Fashion-MNIST): magic `00 00 08 D`, D big-endian UInt32 dimensions,
/// then unsigned bytes. Gzipped or not.
public enum IDXReader {
  /// Reads an unsigned-byte IDX file.
  /// - Returns: its dimensions and the data bytes.
  /// - Throws: `DatasetError` for a missing, truncated or malformed file.
  public static func read(_ url: URL) throws(DatasetError) -> (dimensions: [Int], bytes: [UInt8]) {
    let bytes = try Gzip.readFile(url)
    return try parse(bytes, source: url.path)
  }

  /// Parses IDX bytes.
  public static func parse(_ bytes: [UInt8], source: String) throws(DatasetError) -> (dimensions: [Int], bytes: [UInt8])
  {
    guard bytes.count >= 4, bytes[0] == 0, bytes[1] == 0 else {
      throw DatasetError(source: source, "not an IDX file (bad magic)")
    }
    guard bytes[2] == 0x08 else {
      throw DatasetError(
        source: source, "IDX element type 0x\(String(bytes[2], radix: 16)) is not unsigned byte (0x08)")
    }
    let rank = Int(bytes[3])
    guard rank >= 1, bytes.count >= 4 + 4 * rank else {
      throw DatasetError(source: source, "IDX header is truncated")
    }
    var dimensions: [Int] = []
    for d in 0..<rank {
      let o = 4 + 4 * d
      dimensions.append(Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3]))
    }
    let expected = dimensions.reduce(1, *)
    let available = bytes.count - 4 - 4 * rank
    guard available == expected else {
      throw DatasetError(
        source: source,
        "IDX dimensions \(dimensions) need \(expected) bytes, file has \(available)\(available < expected ? " (truncated)" : "")"
      )
    }
    return (dimensions, Array(bytes[(4 + 4 * rank)...]))
  }

  /// Reads an image file (N,H,W) and a label file (N) into labelled images.
  public static func readPair(images: URL, labels: URL, classNames: [String]) throws(DatasetError) -> LabeledImages {
    let (imageDims, pixels) = try read(images)
    let (labelDims, labelBytes) = try read(labels)
    guard imageDims.count == 3 else {
      throw DatasetError(source: images.path, "expected N×H×W images, got dimensions \(imageDims)")
    }
    guard labelDims == [imageDims[0]] else {
      throw DatasetError(source: labels.path, "has \(labelDims) labels for \(imageDims[0]) images")
    }
    if let bad = labelBytes.first(where: { Int($0) >= classNames.count }) {
      throw DatasetError(source: labels.path, "label \(bad) outside 0..<\(classNames.count)")
    }
    return LabeledImages(
      channels: 1, height: imageDims[1], width: imageDims[2], pixels: pixels, labels: labelBytes.map { Int($0) },
      classNames: classNames)
  }
}

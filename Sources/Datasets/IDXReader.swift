import Foundation

/// IDX files (MNIST, Fashion-MNIST): magic `00 00 08 D`, D big-endian UInt32 dimensions,
/// then the unsigned bytes in row-major order. Gzipped or not, detected by content.
public enum IDXReader {
  /// Reads an unsigned-byte IDX file, inflating it first if it is gzipped.
  /// - Returns: its dimensions (e.g. `[60000, 28, 28]`) and exactly `dims.product` data bytes.
  /// - Throws: `DatasetError` for a missing, unreadable, corrupt, truncated or malformed file.
  public static func read(_ url: URL) throws(DatasetError) -> (dims: [Int], bytes: [UInt8]) {
    try parse(Gzip.readFile(url), source: url.path)
  }

  /// Parses the bytes of an uncompressed IDX file.
  /// - Parameter source: the path or name used in error messages.
  /// - Throws: `DatasetError.badIDXHeader` or `.sizeMismatch`.
  public static func parse(
    _ bytes: [UInt8], source: String
  ) throws(DatasetError) -> (dims: [Int], bytes: [UInt8]) {
    guard bytes.count >= 4, bytes[0] == 0, bytes[1] == 0 else {
      throw .badIDXHeader(path: source, problem: "bad magic (first two bytes are not 00 00)")
    }
    guard bytes[2] == 0x08 else {
      let type = String(bytes[2], radix: 16)
      throw .badIDXHeader(
        path: source, problem: "element type 0x\(type) is not unsigned byte (0x08)")
    }
    let rank = Int(bytes[3])
    guard rank >= 1 else { throw .badIDXHeader(path: source, problem: "rank 0 (no dimensions)") }
    let headerSize = 4 + 4 * rank
    guard bytes.count >= headerSize else {
      throw .badIDXHeader(path: source, problem: "header of \(rank) dimensions is truncated")
    }
    var dims: [Int] = []
    var expected = 1
    for d in 0..<rank {
      let o = 4 + 4 * d
      let size =
        Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3])
      dims.append(size)
      let (product, overflow) = expected.multipliedReportingOverflow(by: size)
      guard !overflow else {
        throw .badIDXHeader(path: source, problem: "dimensions \(dims)… are impossibly large")
      }
      expected = product
    }
    let available = bytes.count - headerSize
    guard available == expected else {
      throw .sizeMismatch(path: source, expected: expected, actual: available)
    }
    return (dims, Array(bytes[headerSize...]))
  }

  /// Reads an image file (N,H,W) and a label file (N) into single-channel labelled images.
  /// - Throws: `DatasetError` for either file, for disagreeing counts or shapes, or for a
  ///   label without a class name.
  public static func readPair(
    images: URL, labels: URL, classNames: [String]
  ) throws(DatasetError) -> LabeledImages {
    let (imageDims, pixels) = try read(images)
    let (labelDims, labelBytes) = try read(labels)
    guard imageDims.count == 3 else {
      throw .shapeMismatch(
        path: images.path, problem: "expected N×H×W images, got dimensions \(imageDims)")
    }
    guard labelDims == [imageDims[0]] else {
      throw .shapeMismatch(
        path: labels.path,
        problem: "label dimensions \(labelDims) do not match \(imageDims[0]) images")
    }
    if let bad = labelBytes.first(where: { Int($0) >= classNames.count }) {
      throw .labelOutOfRange(path: labels.path, label: Int(bad), classes: classNames.count)
    }
    return LabeledImages(
      channels: 1, height: imageDims[1], width: imageDims[2], pixels: pixels,
      labels: labelBytes.map { Int($0) }, classNames: classNames)
  }
}

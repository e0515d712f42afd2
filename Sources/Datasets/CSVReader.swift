import Foundation

/// CSV images: one image per line, `label,p1,p2,…,pK` with K = C·H·W pixels in CHW order.
///
/// - A first line whose first field is not a number is a header and is skipped.
/// - Pixels are integers 0…255, or — when any data line holds a `.`, `e` or `E` — numbers in
///   [0, 1] for the whole file, stored as `(value·255).rounded()` (so 0.5 → 128). The choice is
///   per file so that `0` and `1` mean the same in every line of a float file.
/// - Blank lines are skipped; `\r\n` endings and spaces around fields are accepted; a
///   `.gz` file is inflated first.
public enum CSVReader {
  /// Reads a CSV file of images.
  /// - Parameters:
  ///   - channels, height, width: the shape of one image; every line needs 1 + C·H·W fields.
  ///   - classNames: names by label; default `"0"`, `"1"`, … up to the largest label.
  /// - Throws: `DatasetError.badCSVLine` naming the 1-based line for a wrong column count or a
  ///   bad value; `.labelOutOfRange` for a label without a class name; file errors.
  public static func read(
    _ url: URL, channels: Int, height: Int, width: Int, classNames: [String]? = nil
  ) throws(DatasetError) -> LabeledImages {
    try parse(
      Gzip.readFile(url), source: url.path, channels: channels, height: height, width: width,
      classNames: classNames)
  }

  /// Parses CSV bytes; see `read(_:channels:height:width:classNames:)`.
  /// - Parameter source: the path or name used in error messages.
  public static func parse(
    _ bytes: [UInt8], source: String, channels: Int, height: Int, width: Int,
    classNames: [String]? = nil
  ) throws(DatasetError) -> LabeledImages {
    precondition(
      channels > 0 && height > 0 && width > 0,
      "CSVReader: image shape \(channels)×\(height)×\(width) must be positive")
    let size = channels * height * width
    var lines = CSVText.lines(bytes)[...]
    if let first = lines.first, !CSVText.startsWithNumber(bytes, first.range) {
      lines = lines.dropFirst()  // header
    }
    let scaled =
      lines.first.map { CSVText.containsDecimal(bytes, from: $0.range.lowerBound) } ?? false
    var pixels: [UInt8] = []
    pixels.reserveCapacity(lines.count * size)
    var labels: [Int] = []
    labels.reserveCapacity(lines.count)
    try bytes.withUnsafeBufferPointer { (text) throws(DatasetError) in
      for (number, range) in lines {
        func bad(_ problem: String) -> DatasetError {
          .badCSVLine(path: source, line: number, problem: problem)
        }
        var field = 0
        var start = range.lowerBound
        while start <= range.upperBound {
          var end = start
          while end < range.upperBound && text[end] != UInt8(ascii: ",") { end += 1 }
          let value = CSVText.trimmed(text, start..<end)
          if field == 0 {
            guard let label = CSVText.integer(text, value) else {
              throw bad("label '\(CSVText.string(text, value))' is not a non-negative integer")
            }
            labels.append(label)
          } else if field <= size {
            guard
              let pixel = scaled ? CSVText.unitPixel(text, value) : CSVText.bytePixel(text, value)
            else {
              let range = scaled ? "a number in [0, 1]" : "an integer in 0…255"
              throw bad("pixel \(field) '\(CSVText.string(text, value))' is not \(range)")
            }
            pixels.append(pixel)
          }
          field += 1
          start = end + 1
        }
        guard field == size + 1 else {
          throw bad(
            "has \(field) fields, expected 1 label + \(size) pixels "
              + "(\(channels)×\(height)×\(width))"
          )
        }
      }
    }
    let names = classNames ?? (0...(labels.max() ?? 0)).map(String.init)
    if let label = labels.first(where: { $0 >= names.count }) {
      throw .labelOutOfRange(path: source, label: label, classes: names.count)
    }
    return LabeledImages(
      channels: channels, height: height, width: width, pixels: pixels, labels: labels,
      classNames: names)
  }
}

import Foundation

/// CSV images: one image per line, `label,p1,p2,…` with integer pixels 0…255 in CHW order.
/// A first line whose first field is not an integer is a header and is skipped.
public enum CSVReader {
  /// Reads a CSV file.
  /// - Parameter classNames: names by index; default `0`, `1`, … up to the largest label.
  /// - Throws: `DatasetError` naming the line for a wrong column count or a bad value.
  public static func read(
    _ url: URL, channels: Int, height: Int, width: Int, classNames: [String]? = nil
  ) throws(DatasetError) -> LabeledImages {
    let bytes = try Gzip.readFile(url)
    let text = String(decoding: bytes, as: UTF8.self)
    let size = channels * height * width
    var pixels: [UInt8] = []
    var labels: [Int] = []
    for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
      if trimmed.isEmpty { continue }
      let fields = trimmed.split(separator: ",", omittingEmptySubsequences: false)
      if number == 0, Int(fields[0].trimmingCharacters(in: .whitespaces)) == nil { continue }
      guard fields.count == size + 1 else {
        throw DatasetError(
          source: url.path, "line \(number + 1) has \(fields.count) fields, expected 1 label + \(size) pixels")
      }
      guard let label = Int(fields[0].trimmingCharacters(in: .whitespaces)), label >= 0 else {
        throw DatasetError(source: url.path, "line \(number + 1): label '\(fields[0])' is not a non-negative integer")
      }
      labels.append(label)
      for field in fields.dropFirst() {
        guard let value = UInt8(field.trimmingCharacters(in: .whitespaces)) else {
          throw DatasetError(source: url.path, "line \(number + 1): pixel '\(field)' is not an integer in 0…255")
        }
        pixels.append(value)
      }
    }
    let names = classNames ?? (0...(labels.max() ?? 0)).map(String.init)
    if let bad = labels.first(where: { $0 >= names.count }) {
      throw DatasetError(source: url.path, "label \(bad) has no class name (\(names.count) given)")
    }
    return LabeledImages(
      channels: channels, height: height, width: width, pixels: pixels, labels: labels, classNames: names)
  }
}

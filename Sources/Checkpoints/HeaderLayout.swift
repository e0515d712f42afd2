/// Checks that header entries describe the data section exactly.
///
/// Per entry, in header order: begin ≤ end (`offsetsOutOfBounds`), a byte size for the shape that
/// fits `Int` (`invalidShape`), end − begin = element count × dtype size (`byteCountMismatch`).
/// Then, sorted by (begin, end, name), the entries must tile the data section from 0 with no
/// overlap and no gap (`offsetsNotContiguous`); an entry that would leave a gap by starting past
/// the end of the data is `offsetsOutOfBounds`; one that starts in place but ends past the data
/// means the file was cut short (`truncated`); bytes after the last entry are
/// `offsetsNotContiguous`. Zero-size tensors (begin = end) are allowed anywhere in the tiling.
enum HeaderLayout {
  /// Validates `entries` against a data section of `dataLength` bytes.
  /// - Throws: `SafetensorsError` naming the rule and the tensor.
  static func validate(_ entries: [HeaderEntry], dataLength: Int) throws(SafetensorsError) {
    for entry in entries {
      try checkSize(entry)
    }
    var cursor = 0
    var previous: String?
    let ordered = entries.sorted { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
    for entry in ordered {
      let offsets = "data_offsets [\(entry.begin), \(entry.end)]"
      let name = entry.name
      if entry.begin < cursor {
        throw SafetensorsError(
          .offsetsNotContiguous, tensor: name,
          "tensor '\(name)' \(offsets) overlaps tensor '\(previous ?? "")', which ends at byte "
            + "\(cursor); each byte of the data section must belong to one tensor")
      }
      if entry.begin > cursor && entry.begin > dataLength {
        throw SafetensorsError(
          .offsetsOutOfBounds, tensor: name,
          "tensor '\(name)' \(offsets) starts past the end of the \(dataLength)-byte data "
            + "section; the header is corrupt")
      }
      if entry.begin > cursor {
        throw SafetensorsError(
          .offsetsNotContiguous, tensor: name,
          "tensor '\(name)' \(offsets) leaves a gap of \(entry.begin - cursor) bytes after byte "
            + "\(cursor); tensors must be laid out back to back")
      }
      if entry.end > dataLength {
        throw SafetensorsError(
          .truncated, tensor: name,
          "tensor '\(name)' \(offsets) ends past the \(dataLength)-byte data section; the file "
            + "is truncated, write or download it again")
      }
      cursor = entry.end
      previous = name
    }
    guard cursor == dataLength else {
      throw SafetensorsError(
        .offsetsNotContiguous, tensor: previous,
        "\(dataLength - cursor) bytes after the last tensor\(previous.map { " '\($0)'" } ?? "") "
          + "(ending at byte \(cursor)) are not described by the header; the file is corrupt")
    }
  }

  private static func checkSize(_ entry: HeaderEntry) throws(SafetensorsError) {
    let name = entry.name
    guard entry.begin <= entry.end else {
      throw SafetensorsError(
        .offsetsOutOfBounds, tensor: name,
        "tensor '\(name)' has data_offsets [\(entry.begin), \(entry.end)] with begin after end; "
          + "the header is corrupt")
    }
    guard let expected = entry.dtype.byteCount(of: entry.shape) else {
      throw SafetensorsError(
        .invalidShape, tensor: name,
        "tensor '\(name)' has shape \(entry.shape), whose byte size overflows; the header is "
          + "corrupt")
    }
    guard entry.end - entry.begin == expected else {
      throw SafetensorsError(
        .byteCountMismatch, tensor: name,
        "tensor '\(name)' holds \(entry.end - entry.begin) bytes but shape \(entry.shape) of "
          + "\(entry.dtype.rawValue) needs \(expected); the header is corrupt")
    }
  }
}

import CZlib
import Foundation

/// Whole-file reading with transparent gzip inflation (zlib), detected by content.
enum Gzip {
  /// The file's bytes, inflated when they start with the gzip magic `1f 8b`.
  /// - Throws: `DatasetError.missingFile`, `.unreadable` or `.corruptGzip`.
  static func readFile(_ url: URL) throws(DatasetError) -> [UInt8] {
    guard FileManager.default.fileExists(atPath: url.path) else {
      throw .missingFile(path: url.path, hint: "check the path")
    }
    let raw: [UInt8]
    do { raw = [UInt8](try Data(contentsOf: url)) } catch {
      throw .unreadable(path: url.path, reason: error.localizedDescription)
    }
    guard raw.count >= 2, raw[0] == 0x1F, raw[1] == 0x8B else { return raw }
    return try inflate(raw, source: url.path)
  }

  /// Inflates gzip bytes (concatenated members allowed) straight into one growing array.
  /// - Throws: `DatasetError.corruptGzip` when zlib reports damage or the stream ends early.
  static func inflate(_ compressed: [UInt8], source: String) throws(DatasetError) -> [UInt8] {
    var stream = z_stream()
    // 16 + MAX_WBITS: expect a gzip wrapper (header and CRC-32 trailer), not raw zlib.
    let windowBits = 16 + MAX_WBITS
    guard
      inflateInit2_(&stream, windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK
    else { throw .corruptGzip(path: source, status: Z_VERSION_ERROR) }
    defer { inflateEnd(&stream) }
    var output = [UInt8](repeating: 0, count: initialCapacity(compressed))
    var produced = 0
    var status: Int32 = Z_OK
    compressed.withUnsafeBufferPointer { input in
      stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
      stream.avail_in = uInt(input.count)
      while true {
        if produced == output.count {
          output.append(contentsOf: repeatElement(0, count: output.count))
        }
        output.withUnsafeMutableBufferPointer { buffer in
          let room = min(buffer.count - produced, Int(UInt32.max))
          stream.next_out = buffer.baseAddress.map { $0 + produced }
          stream.avail_out = uInt(room)
          status = CZlib.inflate(&stream, Z_NO_FLUSH)
          produced += room - Int(stream.avail_out)
        }
        if status == Z_STREAM_END && stream.avail_in > 0 {
          inflateReset(&stream)  // another gzip member follows
          status = Z_OK
        }
        // Each call has output room, so anything but Z_OK (more to do) ends the loop.
        guard status == Z_OK else { break }
        if stream.avail_in == 0 && stream.avail_out > 0 {
          status = Z_BUF_ERROR  // input exhausted before the gzip trailer
          break
        }
      }
    }
    guard status == Z_STREAM_END else { throw .corruptGzip(path: source, status: status) }
    output.removeSubrange(produced...)
    return output
  }

  /// The gzip trailer's ISIZE (uncompressed size mod 2³²) when deflate could have produced it
  /// (at most 1032:1), else a guess. A truncated file's last bytes are not a trailer, so the
  /// bound keeps garbage from reserving gigabytes; the output grows if the guess is short.
  private static func initialCapacity(_ compressed: [UInt8]) -> Int {
    let n = compressed.count
    guard n >= 18 else { return 4096 }
    let size = (0..<4).reduce(0) { $0 | Int(compressed[n - 4 + $1]) << (8 * $1) }
    let plausible = size > 0 && size >= n / 1032 && size <= 1032 * n
    return plausible ? size + 1 : max(4096, 4 * n)
  }
}

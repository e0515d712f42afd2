import CZlib
import Foundation

/// Reads a file whole, inflating it if it is gzip-compressed (detected by content).
enum Gzip {
  /// The file's bytes, decompressed when they start with the gzip magic 1f 8b.
  static func readFile(_ url: URL) throws(DatasetError) -> [UInt8] {
    guard FileManager.default.fileExists(atPath: url.path) else {
      throw DatasetError(source: url.path, "file not found", isMissing: true)
    }
    let raw: [UInt8]
    do { raw = [UInt8](try Data(contentsOf: url)) } catch {
      throw DatasetError(source: url.path, "cannot read: \(error.localizedDescription)")
    }
    guard raw.count >= 2, raw[0] == 0x1F, raw[1] == 0x8B else { return raw }
    return try inflate(raw, source: url.path)
  }

  /// Inflates gzip bytes (concatenated members allowed).
  static func inflate(_ compressed: [UInt8], source: String) throws(DatasetError) -> [UInt8] {
    var stream = z_stream()
    guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
      throw DatasetError(source: source, "zlib could not start inflating")
    }
    defer { inflateEnd(&stream) }
    var output = [UInt8]()
    output.reserveCapacity(compressed.count * 4)
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    var status: Int32 = Z_OK
    try compressed.withUnsafeBufferPointer { (input: UnsafeBufferPointer<UInt8>) throws(DatasetError) in
      stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
      stream.avail_in = uInt(input.count)
      repeat {
        let produced = chunk.withUnsafeMutableBufferPointer { buffer -> Int in
          stream.next_out = buffer.baseAddress
          stream.avail_out = uInt(buffer.count)
          status = CZlib.inflate(&stream, Z_NO_FLUSH)
          return buffer.count - Int(stream.avail_out)
        }
        output.append(contentsOf: chunk[0..<produced])
        if status == Z_STREAM_END && stream.avail_in > 0 {
          inflateReset(&stream)
          status = Z_OK
        }
      } while status == Z_OK
      guard status == Z_STREAM_END else {
        throw DatasetError(
          source: source, "gzip data is corrupt or truncated (zlib status \(status)); re-download or reinstall the file"
        )
      }
    }
    return output
  }
}

import CZlib
import Foundation

/// A fresh temporary directory per test; the caller removes it.
func temporaryDirectory() throws -> URL {
  let url = FileManager.default.temporaryDirectory
    .appendingPathComponent("i2x-data-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}

/// IDX bytes: magic 00 00 08 <rank>, big-endian UInt32 dimensions, then `data`.
func idxBytes(dimensions: [Int], data: [UInt8]) -> [UInt8] {
  var out: [UInt8] = [0, 0, 0x08, UInt8(dimensions.count)]
  for d in dimensions {
    out += [UInt8(d >> 24 & 0xFF), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF)]
  }
  return out + data
}

/// A gzip file could not be written.
struct GzipWriteFailed: Error {}

/// Writes `bytes` gzip-compressed with zlib's gzopen/gzwrite (appending a member if `append`).
func writeGzip(_ bytes: [UInt8], to url: URL, append: Bool = false) throws {
  guard let file = gzopen(url.path, append ? "ab" : "wb") else { throw GzipWriteFailed() }
  let written = bytes.withUnsafeBytes { gzwrite(file, $0.baseAddress, UInt32($0.count)) }
  guard gzclose(file) == Z_OK, Int(written) == bytes.count else { throw GzipWriteFailed() }
}

/// Writes `bytes` as is.
func writeRaw(_ bytes: [UInt8], to url: URL) throws {
  try Data(bytes).write(to: url)
}

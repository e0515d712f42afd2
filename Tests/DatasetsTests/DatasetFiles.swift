import CZlib
import Foundation

/// A fresh temporary directory per test, removed by the caller.
func temporaryDirectory() throws -> URL {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent("i2x-data-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}

/// IDX bytes: magic 00 00 08 <rank>, big-endian dimensions, data.
func idxBytes(dimensions: [Int], data: [UInt8]) -> [UInt8] {
  var out: [UInt8] = [0, 0, 0x08, UInt8(dimensions.count)]
  for d in dimensions { out += [UInt8(d >> 24 & 0xFF), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF)] }
  return out + data
}

/// Writes `bytes` gzip-compressed with zlib's gzwrite.
func writeGzip(_ bytes: [UInt8], to url: URL) {
  guard let file = gzopen(url.path, "wb") else { return }
  bytes.withUnsafeBytes { _ = gzwrite(file, $0.baseAddress, UInt32($0.count)) }
  gzclose(file)
}

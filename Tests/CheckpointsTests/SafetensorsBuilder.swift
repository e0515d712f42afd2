import Checkpoints
import Foundation

/// Hand-built safetensors bytes: a header JSON string and a data section, so tests can
/// break one rule at a time.
func safetensorsBytes(header: String, data: [UInt8], claimedLength: UInt64? = nil) -> [UInt8] {
  let headerBytes = Array(header.utf8)
  var out: [UInt8] = []
  withUnsafeBytes(of: (claimedLength ?? UInt64(headerBytes.count)).littleEndian) { out.append(contentsOf: $0) }
  return out + headerBytes + data
}

/// Parses `bytes` and returns the error's rule (nil if the file was accepted).
func rejection(_ bytes: [UInt8]) -> SafetensorsError? {
  do {
    _ = try SafetensorsFile(bytes: bytes)
    return nil
  } catch {
    return error
  }
}

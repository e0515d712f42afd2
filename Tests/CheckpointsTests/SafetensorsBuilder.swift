import Checkpoints
import Foundation
import Testing

/// Hand-built safetensors bytes: the 8-byte little-endian length (the header's own length
/// unless `claimedLength` overrides it), the header text, then `data`. Tests break one rule at
/// a time by editing the header text or the data.
func safetensorsBytes(header: String, data: [UInt8], claimedLength: UInt64? = nil) -> [UInt8] {
  let headerBytes = Array(header.utf8)
  var out: [UInt8] = []
  let length = claimedLength ?? UInt64(headerBytes.count)
  withUnsafeBytes(of: length.littleEndian) { out.append(contentsOf: $0) }
  return out + headerBytes + data
}

/// The error `SafetensorsFile(bytes:)` throws for `bytes`, or nil if it accepts them.
func rejection(_ bytes: [UInt8]) -> SafetensorsError? {
  do {
    _ = try SafetensorsFile(bytes: bytes)
    return nil
  } catch {
    return error
  }
}

/// Expects `bytes` to be rejected under `rule`; when `tensor` is given, expects the error to
/// carry that tensor and its message to name it in quotes.
@discardableResult
func expectRejection(
  _ bytes: [UInt8], _ rule: SafetensorsError.Rule, tensor: String? = nil,
  sourceLocation: SourceLocation = #_sourceLocation
) -> SafetensorsError? {
  let error = rejection(bytes)
  #expect(error?.rule == rule, "\(String(describing: error))", sourceLocation: sourceLocation)
  if let tensor {
    #expect(error?.tensor == tensor, sourceLocation: sourceLocation)
    #expect(error?.message.contains("'\(tensor)'") == true, sourceLocation: sourceLocation)
  }
  return error
}

/// A file under `<repo>/../shared/fixtures` (the shared folder sits next to the repository).
/// This file is `<repo>/Tests/CheckpointsTests/SafetensorsBuilder.swift`: drop the file name,
/// then go up three directories to the repository's parent.
func sharedFixture(_ relativePath: String) -> URL {
  URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()  // <repo>/Tests/CheckpointsTests
    .deletingLastPathComponent()  // <repo>/Tests
    .deletingLastPathComponent()  // <repo>
    .deletingLastPathComponent()  // <repo>/..
    .appendingPathComponent("shared/fixtures")
    .appendingPathComponent(relativePath)
}

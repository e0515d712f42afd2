import Checkpoints
import Foundation

/// Content-addressed files: `<root>/<aa>/<sha256>`, written temp + fsync + rename, so a blob
/// either exists whole or not at all.
public struct BlobStore: Sendable {
  /// Root directory.
  public let root: URL

  /// Uses (and creates) `root`.
  public init(root: URL) throws {
    self.root = root
    try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
  }

  /// Where the blob `sha256` lives.
  public func url(for sha256: String) -> URL {
    root.appendingPathComponent(String(sha256.prefix(2))).appendingPathComponent(sha256)
  }

  /// Stores `bytes` under their SHA-256 (a no-op if already present) and returns the digest.
  @discardableResult
  public func put(_ bytes: [UInt8], sha256 known: String? = nil) throws -> String {
    let sha = known ?? SHA256.hex(bytes)
    let target = url(for: sha)
    if FileManager.default.fileExists(atPath: target.path) { return sha }
    try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
    try AtomicFile.write(bytes, to: target)
    return sha
  }

  /// The bytes of blob `sha256`.
  public func get(_ sha256: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: url(for: sha256)))
  }
}

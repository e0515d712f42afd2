import Checkpoints
import Foundation

/// Content-addressed blobs (checkpoints, probe sets, observations, images), named by their
/// SHA-256, in one of two places; either way a blob exists whole or not at all:
/// - a directory, `<root>/<aa>/<sha256>`, written temp + fsync + rename (the embedded store,
///   or a directory every daemon sharing a PostgreSQL store reaches);
/// - the database itself (a PostgreSQL store whose daemons share no directory): `blob_chunks`
///   holds the bytes in chunks of `chunkBytes`, and the `blobs` row that names the blob is
///   written last, in the same transaction.
public struct BlobStore {
  /// Where the blobs are.
  public enum Location: Equatable, Sendable {
    /// Files under a root directory.
    case directory(URL)
    /// Rows of the store's own database.
    case database
  }

  /// A blob that is not stored (or, in the database, whose chunks do not add up).
  public struct Missing: Error, CustomStringConvertible, Sendable {
    /// Its SHA-256.
    public var sha256: String
    /// What is wrong.
    public var reason: String
    public var description: String { "blob \(sha256) \(reason)" }
  }

  /// Bytes per row of `blob_chunks`: large checkpoints go in pieces that each fit a
  /// statement comfortably (PostgreSQL's `bytea` caps a value at 1 GB).
  public static let chunkBytes = 1 << 20

  /// Where the blobs are.
  public let location: Location
  private let database: (any SQLDatabase)?

  /// Files under `root` (created if missing).
  public init(root: URL) throws {
    location = .directory(root)
    database = nil
    try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
  }

  /// Rows of `database` (its migrations create `blobs` and `blob_chunks`).
  public init(database: any SQLDatabase) {
    location = .database
    self.database = database
  }

  /// The root directory, for blobs kept in files.
  public var root: URL? {
    if case .directory(let root) = location { return root }
    return nil
  }

  /// Where the blob `sha256` lives, for blobs kept in files.
  public func url(for sha256: String) -> URL? {
    root.map { $0.appendingPathComponent(String(sha256.prefix(2))).appendingPathComponent(sha256) }
  }

  /// Stores `bytes` under their SHA-256 (a no-op if already present) and returns the digest.
  /// Durable when this returns.
  @discardableResult
  public func put(_ bytes: [UInt8], sha256 known: String? = nil) throws -> String {
    let sha = known ?? SHA256.hex(bytes)
    guard let database else {
      guard let target = url(for: sha) else { return sha }
      if FileManager.default.fileExists(atPath: target.path) { return sha }
      try FileManager.default.createDirectory(
        at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
      try AtomicFile.write(bytes, to: target)
      return sha
    }
    if try !database.query("SELECT 1 FROM blobs WHERE sha256 = ?", [.text(sha)]).isEmpty { return sha }
    // Two daemons storing the same blob at once: the second waits on the first's keys, then
    // inserts nothing.
    try database.transaction(durable: true) {
      var chunks: Int64 = 0
      for start in stride(from: 0, to: bytes.count, by: Self.chunkBytes) {
        try database.execute(
          "INSERT INTO blob_chunks (sha256, chunk, data) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
          [.text(sha), .integer(chunks), .blob(Array(bytes[start..<min(bytes.count, start + Self.chunkBytes)]))])
        chunks += 1
      }
      try database.execute(
        "INSERT INTO blobs (sha256, bytes, chunks) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        [.text(sha), .integer(Int64(bytes.count)), .integer(chunks)])
    }
    return sha
  }

  /// The bytes of blob `sha256`.
  /// - Throws: `Missing` for a blob the database does not hold whole; a file error for a
  ///   missing file.
  public func get(_ sha256: String) throws -> [UInt8] {
    guard let database else {
      guard let file = url(for: sha256) else { throw Missing(sha256: sha256, reason: "has no location") }
      return [UInt8](try Data(contentsOf: file))
    }
    guard let row = try database.query("SELECT bytes, chunks FROM blobs WHERE sha256 = ?", [.text(sha256)]).first,
      let size = row[0].int, let count = row[1].int
    else { throw Missing(sha256: sha256, reason: "is not stored") }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(size)
    // One chunk per statement: memory stays at the blob's size plus one chunk.
    for chunk in 0..<count {
      guard
        case .blob(let data) = try database.query(
          "SELECT data FROM blob_chunks WHERE sha256 = ? AND chunk = ?", [.text(sha256), .integer(Int64(chunk))]
        ).first?.first
      else { throw Missing(sha256: sha256, reason: "lacks chunk \(chunk) of \(count)") }
      bytes += data
    }
    guard bytes.count == size else {
      throw Missing(sha256: sha256, reason: "has \(bytes.count) bytes in its chunks, not \(size)")
    }
    return bytes
  }
}

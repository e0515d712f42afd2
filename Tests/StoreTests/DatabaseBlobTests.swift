import Checkpoints
import Foundation
import PostgreSQLTestSupport
import Store
import Synchronization
import Testing

/// Blobs kept in the database (`BlobStore(database:)`, migration 014) on a real PostgreSQL
/// server: content-addressed, chunked, whole or absent, and safe when two connections store
/// the same blob at once.
@Suite struct DatabaseBlobTests {
  func store() throws -> (BlobStore, PostgreSQLDatabase, String) {
    let url = try PostgreSQLServer.freshDatabase()
    let database = try PostgreSQLDatabase(url: url)
    try Migrations.apply(to: database)
    return (BlobStore(database: database), database, url)
  }

  /// Bytes from a seeded generator.
  func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return UInt8(truncatingIfNeeded: state >> 56)
    }
  }

  @Test func blobsRoundTripInChunks() throws {
    let (blobs, database, _) = try store()
    let sizes = [0, 1, BlobStore.chunkBytes, 2 * BlobStore.chunkBytes + BlobStore.chunkBytes / 2]
    for (index, size) in sizes.enumerated() {
      let data = bytes(size, seed: UInt64(index))
      let sha = try blobs.put(data)
      #expect(sha == SHA256.hex(data))
      #expect(try blobs.get(sha) == data, "\(size) bytes")
      let chunks = try database.query("SELECT COUNT(*) FROM blob_chunks WHERE sha256 = ?", [.text(sha)])
      #expect(chunks == [[.integer(Int64((size + BlobStore.chunkBytes - 1) / BlobStore.chunkBytes))]])
    }
    // Storing a blob again stores nothing new.
    try blobs.put(bytes(1, seed: 1))
    #expect(try database.query("SELECT COUNT(*) FROM blobs") == [[.integer(Int64(sizes.count))]])
    #expect(blobs.root == nil && blobs.url(for: SHA256.hex([])) == nil)
  }

  @Test func aMissingOrIncompleteBlobIsAnError() throws {
    let (blobs, database, _) = try store()
    #expect(throws: BlobStore.Missing.self) { try blobs.get(String(repeating: "0", count: 64)) }
    let data = bytes(2 * BlobStore.chunkBytes + 5, seed: 9)
    let sha = try blobs.put(data)
    try database.execute("DELETE FROM blob_chunks WHERE sha256 = ? AND chunk = 1", [.text(sha)])
    #expect { try blobs.get(sha) } throws: { "\($0)".contains("lacks chunk 1 of 3") }
  }

  @Test func twoConnectionsStoringTheSameBlobAtOnceStoreItOnce() throws {
    let (blobs, database, url) = try store()
    let data = bytes(3 * BlobStore.chunkBytes, seed: 4)
    // The first connection's transaction holds the chunks' keys; the second waits for it.
    let started = DispatchSemaphore(value: 0)
    let done = DispatchSemaphore(value: 0)
    let second = Mutex<Result<String, any Error>?>(nil)
    try database.transaction(durable: true) {
      try blobs.put(data)
      Thread.detachNewThread {
        started.signal()
        let result = Result { try BlobStore(database: try PostgreSQLDatabase(url: url)).put(data) }
        second.withLock { $0 = result }
        done.signal()
      }
      started.wait()
      Thread.sleep(forTimeInterval: 0.5)  // it connects, finds no blob yet, and waits on the keys
    }
    done.wait()
    #expect(try second.withLock { try $0?.get() } == SHA256.hex(data))
    #expect(try database.query("SELECT COUNT(*), SUM(chunks) FROM blobs") == [[.integer(1), .integer(3)]])
    #expect(try BlobStore(database: try PostgreSQLDatabase(url: url)).get(SHA256.hex(data)) == data)
  }

  @Test func theSameTablesServeTheEmbeddedStore() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("i2x-blobs-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let database = try SQLiteDatabase(path: directory.appendingPathComponent("i2x.sqlite").path)
    try Migrations.apply(to: database)
    let blobs = BlobStore(database: database)
    let data = bytes(BlobStore.chunkBytes + 3, seed: 7)
    #expect(try blobs.get(try blobs.put(data)) == data)
  }
}

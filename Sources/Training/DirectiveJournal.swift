import Checkpoints
import Foundation
import Wire

/// The trainer's durable record of the directives it has seen (DESIGN §7, exactly-once):
/// `OUT/directives/<key>.json`, one file per idempotency key, written atomically (temp, fsync,
/// rename) *before* the trainer acts on a state. A key with a file is never executed again;
/// a redelivery only re-sends the recorded status.
///
/// File format (JSON object, keys sorted): `id`, `key`, `run`, `state` (`received`,
/// `running`, `done`, `failed`), `reason` (optional), `metrics` (object of numbers).
public struct DirectiveJournal: Sendable {
  /// One directive's last recorded state.
  public struct Record: Codable, Equatable, Sendable {
    /// Directive id (the daemon's).
    public var id: Int
    /// Idempotency key.
    public var key: String
    /// Run name.
    public var run: String
    /// `received`, `running`, `done` or `failed`.
    public var state: String
    /// Why (for `failed`).
    public var reason: String?
    /// Scalar results (for `done`).
    public var metrics: [String: Double]

    /// Creates a record.
    public init(
      id: Int, key: String, run: String, state: String, reason: String? = nil, metrics: [String: Double] = [:]
    ) {
      self.id = id
      self.key = key
      self.run = run
      self.state = state
      self.reason = reason
      self.metrics = metrics
    }

    /// Whether the directive is finished (`done` or `failed`).
    public var isTerminal: Bool { state == "done" || state == "failed" }

    /// The status message that reports this record.
    public var status: DirectiveStatusHeader {
      DirectiveStatusHeader(run: run, directive: id, key: key, state: state, reason: reason, metrics: metrics)
    }
  }

  /// The journal directory (`OUT/directives`).
  public let directory: URL

  /// Uses (creating) `directory`.
  /// - Throws: file errors when the directory cannot be created.
  public init(directory: URL) throws {
    self.directory = directory
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  }

  /// The record of `key`, or nil when the key was never journaled.
  /// - Throws: `TrainingError` when the file exists but cannot be read (it is never
  ///   overwritten silently: a damaged journal must not lead to a second execution).
  public func record(key: String) throws -> Record? {
    let url = url(for: key)
    guard FileManager.default.fileExists(atPath: url.path) else { return nil }
    do { return try JSONDecoder().decode(Record.self, from: Data(contentsOf: url)) } catch {
      throw TrainingError(
        "directive journal \(url.path) is unreadable (\(error)); inspect or remove it to continue", exitCode: .dataError
      )
    }
  }

  /// Every journaled record (unreadable files skipped), ordered by directive id.
  public func records() -> [Record] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
    return names.filter { $0.hasSuffix(".json") }.compactMap { name in
      try? JSONDecoder().decode(Record.self, from: Data(contentsOf: directory.appendingPathComponent(name)))
    }.sorted { $0.id < $1.id }
  }

  /// Records `record` durably, replacing its key's previous state.
  /// - Throws: `SafetensorsError.io` when the file cannot be written.
  public func write(_ record: Record) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    try AtomicFile.write([UInt8](try encoder.encode(record)), to: url(for: record.key))
  }

  /// The file of `key`: its characters outside `[A-Za-z0-9._-]` become `_`; when that changed
  /// the key (or it is empty or starts with a dot), the name becomes `_<name>-<digest>` so
  /// distinct keys never share a file and none is hidden.
  public func url(for key: String) -> URL {
    let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
    var name = String(key.prefix(120).map { allowed.contains($0) ? $0 : "_" })
    if name != key || name.isEmpty || name.hasPrefix(".") {
      name = "_" + name + "-" + SHA256.hex(Array(key.utf8)).prefix(12)
    }
    return directory.appendingPathComponent(name + ".json")
  }
}

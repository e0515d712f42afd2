import Checkpoints
import Foundation
import Wire

/// The trainer's durable outbox (DESIGN §4): one entry per message, written atomically into a
/// spool directory before anything is sent and removed only once the daemon acknowledged it.
/// It survives trainer restarts; entries are sent in sequence order.
///
/// An entry is `<seq>.json` (its description; written last, temp + fsync + rename, so its
/// presence commits the entry) plus `<seq>.payload` (for checkpoints a hard link to the file
/// in `--out`, so the daemon receives exactly those bytes).
///
/// On-disk format of `<seq>.json` (a JSON object, keys sorted; the Python package mirrors it):
/// - `kind` (`register-run`, `checkpoint`, `directive-status`) and `run`, always;
/// - `checkpoint`: `step`, `epoch`, `metrics` (object of numbers);
/// - `register-run`: `architecture` (JSON text), `classes`, and since the fine-tune issue
///   `finetune_policy` (`auto`|`manual`|`off`; absent in older entries: the daemon's default,
///   `manual`); since the explainer issue `dataset` and `generator_split_sha256` (optional);
/// - `directive-status` (added with the fine-tune issue): `directive` (id), `key`, `state`,
///   `reason` (optional), `metrics`; its payload file is empty.
/// Every added key is optional, so entries written before the change still read; a reader
/// that meets an unknown `kind` moves the entry to `rejected/` with the reason. Entries of all
/// kinds share one sequence, so a directive's statuses and its segment's checkpoints reach
/// the daemon in the order they were written.
public struct Outbox: Sendable {
  /// What an entry sends.
  public struct Entry: Codable, Equatable, Sendable {
    /// `register-run`, `checkpoint` or `directive-status`.
    public var kind: String
    /// Run name.
    public var run: String
    /// Step and epoch (checkpoints).
    public var step: Int?
    public var epoch: Int?
    /// Metrics (checkpoints).
    public var metrics: [String: Double]?
    /// Architecture JSON and class names (registrations).
    public var architecture: String?
    public var classes: [String]?
    /// Fine-tune policy (registrations): `auto`, `manual` or `off`.
    public var finetunePolicy: String?
    /// Dataset name and SHA-256 of the held-out generator split's indices (registrations,
    /// added with the explainer; for the daemon's generator checks).
    public var dataset: String?
    public var generatorSplit: String?
    /// Explainer policy (registrations; optional).
    public var explainPolicy: String?
    /// Directive id, idempotency key, new state and reason (directive statuses).
    public var directive: Int?
    public var key: String?
    public var state: String?
    public var reason: String?

    enum CodingKeys: String, CodingKey {
      case kind, run, step, epoch, metrics, architecture, classes, directive, key, state, reason, dataset
      case finetunePolicy = "finetune_policy"
      case generatorSplit = "generator_split_sha256"
      case explainPolicy = "explain_policy"
    }

    /// Creates an entry; each kind sets only its own fields.
    public init(
      kind: String, run: String, step: Int? = nil, epoch: Int? = nil, metrics: [String: Double]? = nil,
      architecture: String? = nil, classes: [String]? = nil, finetunePolicy: String? = nil
    ) {
      self.kind = kind
      self.run = run
      self.step = step
      self.epoch = epoch
      self.metrics = metrics
      self.architecture = architecture
      self.classes = classes
      self.finetunePolicy = finetunePolicy
    }

    /// A `directive-status` entry.
    public static func directiveStatus(_ header: DirectiveStatusHeader) -> Entry {
      var entry = Entry(kind: "directive-status", run: header.run, metrics: header.metrics)
      entry.directive = header.directive
      entry.key = header.key
      entry.state = header.state
      entry.reason = header.reason
      return entry
    }
  }

  /// The spool directory.
  public let directory: URL
  /// The next sequence number, shared by every copy of this outbox value. Never reused
  /// while the process lives: deriving it from the pending entries raced with the sender,
  /// which removes an acknowledged entry's description before its payload — a new entry
  /// could take the number and then lose its payload to that removal.
  private let counter: SequenceCounter

  /// Uses (creating) `directory`.
  public init(directory: URL) throws {
    self.directory = directory
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    counter = SequenceCounter(next: 1)
  }

  /// The next sequence number: past every number this process handed out and past every file
  /// present (orphaned payloads included, and entries another process wrote).
  private func nextSequence() -> Int {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
    let highest =
      names.compactMap { name -> Int? in
        guard let dot = name.firstIndex(of: ".") else { return nil }
        return Int(name[..<dot])
      }.max() ?? 0
    return counter.take(atLeast: highest + 1)
  }

  /// Sequence numbers of committed entries, oldest first.
  public func pending() -> [Int] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
    return names.compactMap { $0.hasSuffix(".json") ? Int($0.dropLast(5)) : nil }.sorted()
  }

  /// Adds an entry whose payload is `payloadFile` (hard-linked, copied if linking fails).
  @discardableResult
  public func enqueue(_ entry: Entry, payloadFile: URL) throws -> Int {
    let sequence = nextSequence()
    let payload = payloadURL(sequence)
    try? FileManager.default.removeItem(at: payload)
    if link(payloadFile.path, payload.path) != 0 {
      try FileManager.default.copyItem(at: payloadFile, to: payload)
    }
    try commit(entry, sequence)
    return sequence
  }

  /// Adds an entry whose payload is `bytes`.
  @discardableResult
  public func enqueue(_ entry: Entry, payload bytes: [UInt8]) throws -> Int {
    let sequence = nextSequence()
    try AtomicFile.write(bytes, to: payloadURL(sequence))
    try commit(entry, sequence)
    return sequence
  }

  /// The entry and payload bytes of `sequence`.
  public func read(_ sequence: Int) throws -> (entry: Entry, payload: [UInt8]) {
    let entry = try JSONDecoder().decode(Entry.self, from: Data(contentsOf: entryURL(sequence)))
    return (entry, [UInt8](try Data(contentsOf: payloadURL(sequence))))
  }

  /// Removes an acknowledged entry (description first, so a crash leaves no half entry).
  public func remove(_ sequence: Int) {
    try? FileManager.default.removeItem(at: entryURL(sequence))
    try? FileManager.default.removeItem(at: payloadURL(sequence))
  }

  /// Moves a refused entry to `rejected/` for inspection.
  public func reject(_ sequence: Int, reason: String) {
    let rejected = directory.appendingPathComponent("rejected")
    try? FileManager.default.createDirectory(at: rejected, withIntermediateDirectories: true)
    let stamp = "\(sequence)-\(Int(Date().timeIntervalSince1970))"
    try? FileManager.default.moveItem(at: payloadURL(sequence), to: rejected.appendingPathComponent("\(stamp).payload"))
    try? Data(reason.utf8).write(to: rejected.appendingPathComponent("\(stamp).reason"))
    try? FileManager.default.moveItem(at: entryURL(sequence), to: rejected.appendingPathComponent("\(stamp).json"))
  }

  private func commit(_ entry: Entry, _ sequence: Int) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    try AtomicFile.write([UInt8](try encoder.encode(entry)), to: entryURL(sequence))
  }

  private func entryURL(_ sequence: Int) -> URL {
    directory.appendingPathComponent(String(format: "%08d.json", sequence))
  }
  private func payloadURL(_ sequence: Int) -> URL {
    directory.appendingPathComponent(String(format: "%08d.payload", sequence))
  }
}

/// A thread-safe, increasing sequence number.
private final class SequenceCounter: @unchecked Sendable {
  private let lock = NSLock()
  private var next: Int

  init(next: Int) { self.next = next }

  func take(atLeast minimum: Int) -> Int {
    lock.withLock {
      next = max(next, minimum)
      defer { next += 1 }
      return next
    }
  }
}

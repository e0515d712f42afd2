import Foundation
import Store

/// Explainer requests and results (DESIGN §8): one row per (run, class, checkpoint)
/// explanation, with its `explain` job; results are a JSON document and PNG blobs.
extension DaemonStore {
  /// When explanations are made for a run.
  public enum ExplainPolicy: String, Sendable, CaseIterable {
    /// Both classes of a newly flagged pair are explained, and on demand.
    case auto
    /// Only on demand (`i2x explain`).
    case manual
    /// Never.
    case off
  }

  /// The class of a request about every class at once (the `prototypes` kind).
  public static let everyClass = -1

  /// One explanation request and, when done, its result.
  public struct ExplanationRecord: Equatable, Sendable {
    /// Row id.
    public var id: Int
    /// Run name.
    public var run: String
    /// Explained class index.
    public var classIndex: Int
    /// Checkpoint step whose weights are explained.
    public var step: Int
    /// The `explain` job that makes it.
    public var job: Int
    /// `explain`, `concepts`, `counterfactual` or `prototypes` (data-free prototypes of every
    /// class: `classIndex` is `everyClass`).
    public var kind: String
    /// Counterfactuals: the target class and the probe image's index in the run's probe set.
    public var target: Int?, probe: Int?
    /// Counterfactuals made for a flag: the uncertain prototype and its cells in the probe image.
    public var prototype: Int?, cells: [Int]?
    /// `auto` (a flag) or `client`.
    public var source: String
    /// `queued`, `running`, `done` or `failed`.
    public var state: String
    /// The `ClassExplanation` JSON, when done.
    public var document: String?
    /// Image name (`guided`, `prior`, `randomized`) → PNG blob sha256, when done.
    public var images: [String: String]
    /// Warnings about the generator and the run (split overlap unknown, …).
    public var warnings: [String]
    /// Why it failed.
    public var error: String?
    /// Seconds since the epoch.
    public var createdAt: Double, updatedAt: Double

    /// "class C", or "every class" for a request about every class (for logs).
    public var subject: String { classIndex == DaemonStore.everyClass ? "every class" : "class \(classIndex)" }
  }

  /// The run's explain policy (its own, else `defaultPolicy`), or nil for an unknown run.
  public func explainPolicy(run: String, default defaultPolicy: ExplainPolicy) throws -> ExplainPolicy? {
    guard let row = try database.query("SELECT explain_policy FROM runs WHERE name = ?", [.text(run)]).first else {
      return nil
    }
    return row[0].string.flatMap(ExplainPolicy.init(rawValue:)) ?? defaultPolicy
  }

  /// Sets the run's explain policy.
  public func setExplainPolicy(run: String, _ policy: ExplainPolicy) throws {
    try database.execute("UPDATE runs SET explain_policy = ? WHERE name = ?", [.text(policy.rawValue), .text(run)])
  }

  /// Records what the trainer said about its data (for the generator checks).
  public func setRunData(run: String, dataset: String?, generatorSplit: String?) throws {
    try database.execute(
      "UPDATE runs SET dataset = ?, generator_split_sha256 = ? WHERE name = ?",
      [dataset.map(SQLValue.text) ?? .null, generatorSplit.map(SQLValue.text) ?? .null, .text(run)])
  }

  /// The run's recorded dataset and generator-split hash.
  public func runData(run: String) throws -> (dataset: String?, generatorSplit: String?) {
    guard
      let row = try database.query("SELECT dataset, generator_split_sha256 FROM runs WHERE name = ?", [.text(run)])
        .first
    else { return (nil, nil) }
    return (row[0].string, row[1].string)
  }

  /// Requests the explanation of `classIndex` at `step`: the existing request when one is
  /// queued, running or done for the same class and step, else a new row and `explain` job.
  /// - Returns: the record and whether it was created now.
  public func requestExplanation(
    run: String, classIndex: Int, step: Int, source: String, kind: String = "explain", target: Int? = nil,
    probe: Int? = nil, prototype: Int? = nil, cells: [Int]? = nil
  ) throws -> (record: ExplanationRecord, created: Bool) {
    try database.transaction(durable: true) {
      if let existing = try database.query(
        """
        SELECT id FROM explanations WHERE run = ? AND class = ? AND step = ? AND kind = ? AND target IS NOT DISTINCT FROM ? AND probe IS NOT DISTINCT FROM ?
          AND state != 'failed' ORDER BY id DESC LIMIT 1
        """,
        [
          .text(run), .integer(Int64(classIndex)), .integer(Int64(step)), .text(kind),
          target.map { .integer(Int64($0)) } ?? .null, probe.map { .integer(Int64($0)) } ?? .null,
        ]
      ).first?.first?.int, let record = try explanation(id: existing) {
        return (record, false)
      }
      let job =
        try database.query(
          "INSERT INTO jobs (kind, run, step, state, updated_at) VALUES ('explain', ?, ?, 'queued', ?) RETURNING id",
          [.text(run), .integer(Int64(step)), .real(now)]
        ).first?.first?.int ?? 0
      let id =
        try database.query(
          """
          INSERT INTO explanations (
            run, class, step, job, source, state, created_at, updated_at, kind, target, probe, prototype, cells)
          VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?) RETURNING id
          """,
          [
            .text(run), .integer(Int64(classIndex)), .integer(Int64(step)), .integer(Int64(job)), .text(source),
            .real(now),
            .real(now), .text(kind), target.map { .integer(Int64($0)) } ?? .null,
            probe.map { .integer(Int64($0)) } ?? .null,
            prototype.map { .integer(Int64($0)) } ?? .null,
            cells.map { .text($0.map(String.init).joined(separator: ",")) } ?? .null,
          ]
        ).first?.first?.int ?? 0
      guard let record = try explanation(id: id) else {
        throw DaemonError(.internalError, "explanation row vanished after its insert")
      }
      return (record, true)
    }
  }

  /// Whether the class already has a request of `kind` (any state but failed) in the run;
  /// for counterfactuals, of that probe image.
  public func hasExplanation(run: String, classIndex: Int, kind: String = "explain", probe: Int? = nil) throws -> Bool {
    try !database.query(
      "SELECT 1 FROM explanations WHERE run = ? AND class = ? AND kind = ? AND probe IS NOT DISTINCT FROM ? AND state != 'failed' LIMIT 1",
      [.text(run), .integer(Int64(classIndex)), .text(kind), probe.map { .integer(Int64($0)) } ?? .null]
    ).isEmpty
  }

  /// Whether the run has a counterfactual request (any state but failed) from class `from` to `to`.
  public func hasCounterfactual(run: String, from: Int, to: Int) throws -> Bool {
    try !database.query(
      """
      SELECT 1 FROM explanations WHERE run = ? AND kind = 'counterfactual' AND class = ? AND target = ?
        AND state != 'failed' LIMIT 1
      """, [.text(run), .integer(Int64(from)), .integer(Int64(to))]
    ).isEmpty
  }

  /// One explanation by id.
  public func explanation(id: Int) throws -> ExplanationRecord? {
    try explanations(where: "e.id = ?", [.integer(Int64(id))]).first
  }

  /// The explanation an `explain` job makes.
  public func explanation(job: Int) throws -> ExplanationRecord? {
    try explanations(where: "e.job = ?", [.integer(Int64(job))]).first
  }

  /// The run's explanations, oldest first, optionally of one class.
  public func explanations(run: String, classIndex: Int? = nil) throws -> [ExplanationRecord] {
    if let classIndex {
      return try explanations(where: "e.run = ? AND e.class = ?", [.text(run), .integer(Int64(classIndex))])
    }
    return try explanations(where: "e.run = ?", [.text(run)])
  }

  private func explanations(where condition: String, _ parameters: [SQLValue]) throws -> [ExplanationRecord] {
    try database.query(
      """
      SELECT e.id, e.run, e.class, e.step, e.source, e.state, e.document, e.images, e.warnings, e.error,
        e.created_at, e.updated_at, j.state, j.error, e.job, e.kind, e.target, e.probe, e.prototype, e.cells
      FROM explanations e LEFT JOIN jobs j ON j.id = e.job WHERE \(condition) ORDER BY e.id
      """, parameters
    ).map { row in
      func decode<T: Decodable>(_ value: SQLValue, _ type: T.Type) -> T? {
        value.string.flatMap { try? JSONDecoder().decode(T.self, from: Data($0.utf8)) }
      }
      // A job that failed for good (crashed three times, killed past its limits) fails its
      // explanation even though the job never got to record it.
      let jobFailed = row[12].string == "failed" && row[5].string != "done"
      return ExplanationRecord(
        id: row[0].int ?? 0, run: row[1].string ?? "", classIndex: row[2].int ?? 0, step: row[3].int ?? 0,
        job: row[14].int ?? 0, kind: row[15].string ?? "explain", target: row[16].int, probe: row[17].int,
        prototype: row[18].int, cells: row[19].string.map { $0.split(separator: ",").compactMap { Int($0) } },
        source: row[4].string ?? "", state: jobFailed ? "failed" : row[5].string ?? "",
        document: row[6].string,
        images: decode(row[7], [String: String].self) ?? [:], warnings: decode(row[8], [String].self) ?? [],
        error: row[9].string ?? (jobFailed ? row[13].string : nil), createdAt: row[10].double ?? 0,
        updatedAt: row[11].double ?? 0)
    }
  }

  /// Sets an explanation's state (and error, for `failed`).
  public func setExplanationState(id: Int, _ state: String, error: String? = nil) throws {
    try database.execute(
      "UPDATE explanations SET state = ?, error = ?, updated_at = ? WHERE id = ?",
      [.text(state), error.map(SQLValue.text) ?? .null, .real(now), .integer(Int64(id))])
  }

  /// Stores a finished explanation: PNG blobs first, then the row (`done`), committed with the
  /// held job's completion (`fencedFinishing`).
  public func finishExplanation(id: Int, document: String, images: [String: [UInt8]], warnings: [String]) throws {
    var hashes: [String: String] = [:]
    for (name, bytes) in images { hashes[name] = try blobs.put(bytes) }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let (imagesText, warningsText) = (
      String(decoding: try encoder.encode(hashes), as: UTF8.self),
      String(decoding: try encoder.encode(warnings), as: UTF8.self)
    )
    try fencedFinishing {
      try database.execute(
        "UPDATE explanations SET state = 'done', document = ?, images = ?, warnings = ?, error = NULL, updated_at = ? WHERE id = ?",
        [.text(document), .text(imagesText), .text(warningsText), .real(now), .integer(Int64(id))])
    }
  }
}

extension DaemonStore {
  /// The run's class names from its registration (without reading the probe set).
  public func classNames(run: String) throws -> [String] {
    guard let text = try database.query("SELECT classes FROM runs WHERE name = ?", [.text(run)]).first?.first?.string
    else { return [] }
    return (try? JSONDecoder().decode([String].self, from: Data(text.utf8))) ?? []
  }
}

import Checkpoints
import Foundation
import Prototypes
import Store

extension DaemonStore {
  /// One intervention row (DESIGN §6b).
  public struct InterventionRecord: Sendable {
    public var id: Int
    public var run: String
    public var step: Int
    public var prototype: Int
    public var label: Int?
    /// `auto` (the daemon's sweep at the latest checkpoint), `candidate` (a cue candidate tested
    /// within an analysis) or `request` (`i2x intervene`).
    public var origin: String
    /// `queued`, `done` or `failed`.
    public var state: String
    /// The outcome (`Intervention`) when done.
    public var outcome: Intervention?
    public var error: String?
  }

  /// Queues an `intervene` job for every run whose latest analysis is a full one and has had no
  /// intervention job at its step, and that has nothing else queued or running. Called when
  /// the worker is idle (after refreshes), so interventions never delay a checkpoint (a long
  /// explanation waiting or running does not hold them back).
  /// - Returns: how many were queued.
  @discardableResult
  public func enqueueInterventions() throws -> Int {
    try database.transaction {
      try lockQueue()
      return try queueInterventions()
    }
  }

  private func queueInterventions() throws -> Int {
    let candidates = try database.query(
      """
      SELECT a.run, a.step FROM analyses a
      WHERE a.incremental = 0 AND a.step = (SELECT MAX(step) FROM analyses b WHERE b.run = a.run)
        AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.run = a.run AND j.state IN ('queued', 'running')
                        AND j.kind IN ('analyze', 'refresh', 'intervene'))
        AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.run = a.run AND j.kind = 'intervene' AND j.step = a.step)
      """)
    for row in candidates {
      try database.execute(
        "INSERT INTO jobs (kind, run, step, state, updated_at) VALUES ('intervene', ?, ?, 'queued', ?)",
        [row[0], row[1], .real(now)])
    }
    return candidates.count
  }

  /// Records a requested intervention and queues the job that runs it (`i2x intervene`).
  /// - Returns: the intervention's id.
  public func requestIntervention(run: String, step: Int, prototype: Int, label: Int?) throws -> Int {
    try database.transaction {
      let id =
        try database.query(
          """
          INSERT INTO interventions (run, step, prototype, label, origin, state, created_at, updated_at)
          VALUES (?, ?, ?, ?, 'request', 'queued', ?, ?) RETURNING id
          """,
          [
            .text(run), .integer(Int64(step)), .integer(Int64(prototype)), label.map { .integer(Int64($0)) } ?? .null,
            .real(now), .real(now),
          ]
        ).first?.first?.int ?? 0
      try database.execute(
        "INSERT INTO jobs (kind, run, step, state, updated_at) VALUES ('intervene', ?, ?, 'queued', ?)",
        [.text(run), .integer(Int64(step)), .real(now)])
      return id
    }
  }

  /// Stores an intervention's outcome: completes the queued row `id`, or inserts a new row of
  /// `origin` (`auto`: the idle sweep; `candidate`: a cue candidate tested within an analysis)
  /// when `id` is nil.
  public func saveIntervention(
    id: Int?, run: String, step: Int, prototype: Int, label: Int?, outcome: Intervention?, error: String?,
    origin: String = "auto"
  ) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    let document: SQLValue = try outcome.map { .text(String(decoding: try encoder.encode($0), as: UTF8.self)) } ?? .null
    let state: SQLValue = .text(outcome == nil ? "failed" : "done")
    let labelValue: SQLValue = label.map { .integer(Int64($0)) } ?? .null
    try database.transaction {
      if let heldJob { try hold(heldJob) }
      try recordIntervention(
        id: id, run: run, step: step, prototype: prototype, label: labelValue, state: state, document: document,
        error: error, origin: origin)
    }
  }

  private func recordIntervention(
    id: Int?, run: String, step: Int, prototype: Int, label labelValue: SQLValue, state: SQLValue, document: SQLValue,
    error: String?, origin: String
  ) throws {
    if let id {
      try database.execute(
        "UPDATE interventions SET step = ?, label = ?, state = ?, document = ?, error = ?, updated_at = ? WHERE id = ?",
        [
          .integer(Int64(step)), labelValue, state, document, error.map { .text($0) } ?? .null, .real(now),
          .integer(Int64(id)),
        ])
    } else {
      try database.execute(
        """
        INSERT INTO interventions (run, step, prototype, label, origin, state, document, error, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [
          .text(run), .integer(Int64(step)), .integer(Int64(prototype)), labelValue, .text(origin), state, document,
          error.map { .text($0) } ?? .null, .real(now), .real(now),
        ])
    }
  }

  /// Whether the daemon's sweep already ran at `step`.
  public func hasAutoInterventions(run: String, step: Int) throws -> Bool {
    !(try database.query(
      "SELECT 1 FROM interventions WHERE run = ? AND step = ? AND origin = 'auto' LIMIT 1",
      [.text(run), .integer(Int64(step))]
    ).isEmpty)
  }

  /// Whether any intervention of `run` tested a prototype shaped like a cue (its outcome's
  /// `cue_shape`): only then can a cue be established, and only then do analyses look for one.
  public func hasCueInterventions(run: String) throws -> Bool {
    !(try database.query(
      """
      SELECT 1 FROM interventions WHERE run = ? AND state = 'done'
        AND \(database.dialect.jsonField("document", "cue_shape")) IS NOT NULL LIMIT 1
      """, [.text(run)]
    ).isEmpty)
  }

  /// The run's interventions, newest first; only `state` ones when given, only up to `step`.
  public func interventions(run: String, state: String? = nil, upTo step: Int? = nil) throws -> [InterventionRecord] {
    try database.query(
      """
      SELECT id, run, step, prototype, label, origin, state, document, error FROM interventions
      WHERE run = ? AND (CAST(? AS TEXT) IS NULL OR state = ?) AND (CAST(? AS BIGINT) IS NULL OR step <= ?)
        ORDER BY id DESC
      """,
      [
        .text(run), state.map { .text($0) } ?? .null, state.map { .text($0) } ?? .null,
        step.map { .integer(Int64($0)) } ?? .null, step.map { .integer(Int64($0)) } ?? .null,
      ]
    ).map { row in
      InterventionRecord(
        id: row[0].int ?? 0, run: row[1].string ?? "", step: row[2].int ?? 0, prototype: row[3].int ?? 0,
        label: row[4].int, origin: row[5].string ?? "", state: row[6].string ?? "",
        outcome: row[7].string.flatMap { try? JSONDecoder().decode(Intervention.self, from: Data($0.utf8)) },
        error: row[8].string)
    }
  }

  /// The cached observation of `run` at `step`.
  public func observation(run: String, step: Int) throws -> CheckpointObservation? {
    guard
      let sha = try database.query(
        "SELECT sha256 FROM observations WHERE run = ? AND step = ?", [.text(run), .integer(Int64(step))]
      ).first?.first?.string
    else { return nil }
    return try CheckpointObservation(file: try SafetensorsFile(bytes: try blobs.get(sha)))
  }

  /// Step, ids and lineage links of every vocabulary fitted for `run`, oldest first (the
  /// documents' other fields stay in SQLite).
  public func vocabularyLineage(run: String) throws -> [(step: Int, ids: [Int], links: [Vocabulary.LineageLink]?)] {
    try database.query(
      """
      SELECT step, \(database.dialect.jsonField("document", "ids")), \(database.dialect.jsonField("document", "lineage"))
      FROM vocabularies
      WHERE run = ? ORDER BY id
      """, [.text(run)]
    ).map { row in
      let decoder = JSONDecoder()
      return (
        row[0].int ?? 0, (row[1].string.flatMap { try? decoder.decode([Int].self, from: Data($0.utf8)) }) ?? [],
        row[2].string.flatMap { try? decoder.decode([Vocabulary.LineageLink].self, from: Data($0.utf8)) }
      )
    }
  }
}

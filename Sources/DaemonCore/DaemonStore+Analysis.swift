import Checkpoints
import Foundation
import Prototypes
import Store

extension DaemonStore {
  /// The run's probe set (images as pixel/255 Floats (n,C,H,W), labels) and class names.
  public func probe(run: String) throws -> (images: [Float], shape: [Int], labels: [Int], classes: [String])? {
    guard let row = try database.query("SELECT probe_sha256, classes FROM runs WHERE name = ?", [.text(run)]).first,
      let sha = row[0].string
    else { return nil }
    let file = try SafetensorsFile(bytes: try blobs.get(sha))
    let images = try file.tensor("images")
    let classes = (try? JSONDecoder().decode([String].self, from: Data((row[1].string ?? "[]").utf8))) ?? []
    return (
      try images.uint8s().map { Float($0) / 255 }, images.shape, try file.tensor("labels").int64s().map { Int($0) },
      classes
    )
  }

  /// Caches a checkpoint's observation (blob + row), under the held job's claim (`fenced`).
  public func saveObservation(run: String, _ observation: CheckpointObservation) throws {
    let sha = try blobs.put(try observation.file.serialized())
    try fenced {
      try database.execute(
        """
        INSERT INTO observations (run, step, sha256, created_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (run, step) DO UPDATE SET sha256 = excluded.sha256, created_at = excluded.created_at
        """,
        [.text(run), .integer(Int64(observation.step)), .text(sha), .real(now)])
    }
  }

  /// Every cached observation of `run`, by step (or only the last `last` of them). With
  /// `droppingRawMaps`, each finite observation's raw maps (not used by the analysis; a
  /// non-finite one keeps them, so `isFinite` still says so) are dropped as it is read: a full
  /// analysis of a long run then does not hold them all.
  public func observations(run: String, last: Int? = nil, droppingRawMaps: Bool = false) throws
    -> [CheckpointObservation]
  {
    let rows = try database.query(
      "SELECT sha256 FROM observations WHERE run = ? ORDER BY step DESC LIMIT ?",
      [.text(run), .integer(Int64(last ?? Int(Int64.max)))])
    return try rows.reversed().map { row in
      var observation = try CheckpointObservation(file: try SafetensorsFile(bytes: try blobs.get(row[0].string ?? "")))
      if droppingRawMaps && observation.raw.allSatisfy(\.isFinite) { observation.raw = [] }
      return observation
    }
  }

  /// The steps of `run` with a cached observation, in order.
  public func observedSteps(run: String) throws -> [Int] {
    try database.query("SELECT step FROM observations WHERE run = ? ORDER BY step", [.text(run)]).compactMap {
      $0[0].int
    }
  }

  /// The latest vocabulary fitted for `run`.
  public func latestVocabulary(run: String) throws -> Vocabulary? {
    guard
      let text = try database.query(
        "SELECT document FROM vocabularies WHERE run = ? ORDER BY id DESC LIMIT 1", [.text(run)]
      ).first?.first?.string
    else { return nil }
    return try JSONDecoder().decode(Vocabulary.self, from: Data(text.utf8))
  }

  /// Records a vocabulary fit and the report it produced.
  /// - Parameters:
  ///   - newVocabulary: false for a refresh, which reuses the stored vocabulary.
  ///   - faithfulnessPending: the latest checkpoint's faithfulness is still to be measured
  ///     (by the refresh once the run is quiet).
  public func saveAnalysis(
    run: String, step: Int, vocabulary: Vocabulary, report: AnalysisReport, seconds: Double, timings: [String: Double],
    newVocabulary: Bool = true, faithfulnessPending: Bool = false
  ) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    let vocabularyText: String
    let reportText: String
    let timingText: String
    do {
      vocabularyText = String(decoding: try encoder.encode(vocabulary), as: UTF8.self)
      reportText = String(decoding: try encoder.encode(report), as: UTF8.self)
      timingText = String(decoding: try encoder.encode(timings), as: UTF8.self)
    } catch {
      let field: String
      if case EncodingError.invalidValue(_, let context) = error {
        field = context.codingPath.map(\.stringValue).joined(separator: ".")
      } else {
        field = "\(error)"
      }
      throw DaemonError(
        .badData, "the analysis of run '\(run)' step \(step) produced a non-finite number (at \(field)); not stored")
    }
    try database.transaction {
      if let heldJob { try hold(heldJob) }
      if newVocabulary {
        try database.execute(
          "INSERT INTO vocabularies (run, step, document, created_at) VALUES (?, ?, ?, ?)",
          [.text(run), .integer(Int64(step)), .text(vocabularyText), .real(now)])
      }
      try database.execute(
        """
        INSERT INTO analyses
          (run, step, report, seconds, timings, created_at, incremental, faithfulness_measured)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (run, step) DO UPDATE SET report = excluded.report, seconds = excluded.seconds,
          timings = excluded.timings, created_at = excluded.created_at, incremental = excluded.incremental,
          faithfulness_measured = excluded.faithfulness_measured
        """,
        [
          .text(run), .integer(Int64(step)), .text(reportText), .real(seconds), .text(timingText), .real(now),
          .integer(report.incremental == true ? 1 : 0), .integer(faithfulnessPending ? 0 : 1),
        ])
    }
  }

  /// The report for `step` (default: the latest analysed step) as JSON text, with its timing.
  public func analysis(run: String, step: Int?) throws -> (step: Int, report: String, seconds: Double, timings: String)?
  {
    let rows =
      if let step {
        try database.query(
          "SELECT step, report, seconds, timings FROM analyses WHERE run = ? AND step = ?",
          [.text(run), .integer(Int64(step))])
      } else {
        try database.query(
          "SELECT step, report, seconds, timings FROM analyses WHERE run = ? ORDER BY step DESC LIMIT 1", [.text(run)])
      }
    guard let row = rows.first else { return nil }
    return (row[0].int ?? 0, row[1].string ?? "{}", row[2].double ?? 0, row[3].string ?? "{}")
  }

  /// Highest step of `run` whose checkpoint was observed (so it loads), with its blob digest.
  public func latestObservedCheckpoint(run: String) throws -> (step: Int, sha256: String)? {
    guard
      let row = try database.query(
        """
        SELECT c.step, c.sha256 FROM checkpoints c JOIN observations o ON o.run = c.run AND o.step = c.step
        WHERE c.run = ? ORDER BY c.step DESC LIMIT 1
        """, [.text(run)]
      ).first
    else { return nil }
    return (row[0].int ?? 0, row[1].string ?? "")
  }
}

import Foundation
import Prototypes
import Wire

/// Findings, interventions and prototype lineage over the wire (DESIGN §6b): the queries
/// `findings`, `interventions`, `lineage` and the command `intervene`.
extension RequestHandler {
  /// The answer fields of a `findings`, `interventions` or `lineage` query.
  func findingsQuery(_ header: QueryHeader) throws -> [String: Any] {
    guard let run = header.run, try store.runExists(run) else {
      throw DaemonError(.unknownRun, "no run named '\(header.run ?? "")'; 'i2x runs' lists the runs")
    }
    var answer: [String: Any] = ["run": run]
    switch header.query {
    case "interventions":
      answer["interventions"] = try store.interventions(run: run, upTo: header.step).map(Self.interventionJSON)
    case "lineage":
      guard let id = header.prototype else { throw DaemonError(.badData, "the lineage query needs a prototype id") }
      answer["prototype"] = id
      answer["history"] = Self.lineage(of: id, in: try store.vocabularyLineage(run: run))
      answer["minimum_jaccard"] = Self.lineageFloor
    default:
      guard let stored = try store.analysis(run: run, step: header.step),
        let report = try? JSONDecoder().decode(AnalysisReport.self, from: Data(stored.report.utf8))
      else {
        throw DaemonError(
          .notReady,
          "run '\(run)' has no analysis\(header.step.map { " for step \($0)" } ?? "") yet; findings follow the analysis "
            + "(see 'i2x status' for the queue)")
      }
      // Oldest first: a cue's standing is read in the order its tests were measured.
      let interventions = try store.interventions(run: run, state: "done", upTo: stored.step).reversed()
        .compactMap(\.outcome)
      let ancestry = Findings.ancestry(
        fits: try store.vocabularyLineage(run: run), at: report.vocabulary.fittedOnStep, floor: Self.lineageFloor)
      let findings = Findings.build(report: report, interventions: interventions, ancestry: ancestry, run: run)
      let encoder = JSONEncoder()
      encoder.outputFormatting = .sortedKeys
      answer["step"] = stored.step
      answer["steps"] = report.steps
      answer["class_names"] = report.classNames
      answer["interventions_measured"] = interventions.count
      answer["intervention_steps"] = Array(Set(interventions.map(\.step))).sorted()
      answer["findings"] = try JSONSerialization.jsonObject(with: try encoder.encode(findings))
    }
    return answer
  }

  /// `i2x intervene RUN --prototype K [--class C]`: queues the intervention at the latest
  /// analysed checkpoint.
  func intervene(_ header: CommandHeader) throws -> [String: Any] {
    guard let id = header.prototypes?.first, header.prototypes?.count == 1 else {
      throw DaemonError(.badData, "intervene needs exactly one prototype id")
    }
    guard let stored = try store.analysis(run: header.run, step: nil),
      let report = try? JSONDecoder().decode(AnalysisReport.self, from: Data(stored.report.utf8))
    else {
      throw DaemonError(.notReady, "run '\(header.run)' has no analysis yet; interventions need an analysed checkpoint")
    }
    guard report.prototypes.contains(where: { $0.id == id }) else {
      throw DaemonError(
        .badData,
        "prototype \(id) is not in run '\(header.run)''s vocabulary at step \(stored.step); 'i2x prototypes \(header.run)' "
          + "lists the current ids ('--id \(id) --history' follows an old one)")
    }
    var label: Int?
    if let text = header.className {
      if let index = Int(text), report.classNames.indices.contains(index) {
        label = index
      } else if let index = report.classNames.firstIndex(where: { $0.lowercased() == text.lowercased() }) {
        label = index
      } else {
        throw DaemonError(
          .badData,
          "unknown class '\(text)'; classes: \(report.classNames.joined(separator: ", ")) (or 0..<\(report.classNames.count))"
        )
      }
    }
    let request = try store.requestIntervention(run: header.run, step: stored.step, prototype: id, label: label)
    onStored()
    log("run '\(header.run)': intervention \(request) on prototype \(id) requested")
    return ["intervention": request, "step": stored.step]
  }

  /// Jaccard below which a refit's match no longer counts as the same feature.
  static let lineageFloor = 0.2

  /// The fits where prototype `id` (of the latest fit that has it) or its predecessors existed,
  /// newest first: following each fit's match back while its Jaccard is ≥ `lineageFloor`.
  static func lineage(of id: Int, in fits: [(step: Int, ids: [Int], links: [Vocabulary.LineageLink]?)])
    -> [[String: Any]]
  {
    guard var index = fits.lastIndex(where: { $0.ids.contains(id) }) else { return [] }
    var current = id
    var history: [[String: Any]] = []
    while true {
      var row: [String: Any] = ["step": fits[index].step, "id": current]
      let link = fits[index].links?.first { $0.id == current }
      if let link, let previous = link.previousID {
        row["previous_id"] = previous
        row["jaccard"] = link.jaccard
      }
      history.append(row)
      guard index > 0, let link, let previous = link.previousID, link.jaccard >= lineageFloor,
        fits[index - 1].ids.contains(previous)
      else { break }
      current = previous
      index -= 1
    }
    return history
  }

  static func interventionJSON(_ record: DaemonStore.InterventionRecord) -> [String: Any] {
    var row: [String: Any] = [
      "id": record.id, "step": record.step, "prototype": record.prototype, "origin": record.origin,
      "state": record.state,
    ]
    if let label = record.label { row["class"] = label }
    if let error = record.error { row["error"] = error }
    if let outcome = record.outcome, let data = try? JSONEncoder().encode(outcome) {
      row["outcome"] = try? JSONSerialization.jsonObject(with: data)
    }
    return row
  }
}

import Foundation
import Prototypes
import Wire

/// Fine-tune directives over the wire: the trainer's `directive-status` messages and the
/// client's `command` messages (`set-policy`, `finetune`).
extension RequestHandler {
  func directiveStatus(_ message: WireMessage) throws -> WireMessage {
    let header = try message.decode(DirectiveStatusHeader.self)
    try Self.validateRunName(header.run)
    guard try store.runExists(header.run) else {
      throw DaemonError(.unknownRun, "run '\(header.run)' is not registered")
    }
    let metrics = String(decoding: try JSONEncoder().encode(header.metrics.filter { $0.value.isFinite }), as: UTF8.self)
    let outcome = try store.recordDirectiveStatus(
      run: header.run, id: header.directive, key: header.key, state: header.state, reason: header.reason,
      metrics: metrics)
    if outcome == .stored {
      log(
        "run '\(header.run)' directive \(header.directive): \(header.state)"
          + (header.reason.map { " (\($0))" } ?? ""))
    }
    return try WireMessage(
      type: .ack, header: AckHeader(status: outcome.rawValue, run: header.run, directives: directives(header.run)))
  }

  func command(_ message: WireMessage) throws -> WireMessage {
    let header = try message.decode(CommandHeader.self)
    guard let policy = try store.policy(run: header.run) else {
      throw DaemonError(.unknownRun, "no run named '\(header.run)'; 'i2x runs' lists the runs")
    }
    var answer: [String: Any] = ["schema_version": Self.schemaVersion, "command": header.command, "run": header.run]
    switch header.command {
    case "explain", "concepts", "counterfactual", "prototypes":
      answer.merge(try explainCommand(header, kind: header.command)) { _, new in new }
    case "set-explain-policy":
      answer.merge(try setExplainPolicyCommand(header)) { _, new in new }
    case "set-policy":
      guard let text = header.policy, let new = DaemonStore.FineTunePolicy(rawValue: text) else {
        throw DaemonError(.badData, "set-policy needs a policy: auto, manual or off")
      }
      try store.setPolicy(run: header.run, new)
      log("run '\(header.run)': fine-tune policy \(policy.rawValue) → \(new.rawValue)")
      answer["policy"] = new.rawValue
      answer["previous_policy"] = policy.rawValue
    case "finetune":
      guard policy != .off else {
        throw DaemonError(
          .conflict, "run '\(header.run)' has fine-tune policy 'off'; 'i2x policy \(header.run) manual' allows it")
      }
      let record = try manualDirective(header)
      answer["directive"] = Self.directiveJSON(record, outcome: nil)
    case "intervene":
      answer.merge(try intervene(header)) { _, new in new }
    default:
      throw DaemonError(
        .unknownQuery,
        "unknown command '\(header.command)'; known: set-policy, finetune, explain, concepts, counterfactual, set-explain-policy, intervene"
      )
    }
    let data = try JSONSerialization.data(withJSONObject: answer, options: [.sortedKeys])
    return WireMessage(type: .reply, headerBytes: [UInt8](data))
  }

  /// `i2x finetune RUN --pair A,B [--prototype K]`.
  private func manualDirective(_ header: CommandHeader) throws -> DaemonStore.DirectiveRecord {
    let run = header.run
    guard let probe = try store.probe(run: run) else { throw DaemonError(.unknownRun, "no run named '\(run)'") }
    let names = probe.classes
    guard let given = header.pair, given.count == 2 else {
      throw DaemonError(.badData, "finetune needs --pair A,B (class names or indices)")
    }
    let pair = try given.map { text -> Int in
      if let index = names.firstIndex(of: text) { return index }
      if let index = Int(text), names.indices.contains(index) { return index }
      throw DaemonError(
        .badData,
        "'\(text)' is not a class of run '\(run)'; classes: \(names.joined(separator: ", ")) (or 0–\(names.count - 1))")
    }.sorted()
    guard pair[0] != pair[1] else { throw DaemonError(.badData, "the pair needs two different classes") }
    guard let vocabulary = try store.latestVocabulary(run: run), let basis = vocabulary.basis,
      let analysed = try store.analysis(run: run, step: nil)
    else {
      throw DaemonError(.notReady, "run '\(run)' has no analysed vocabulary yet; wait for an analysis ('i2x status')")
    }
    var prototypes = header.prototypes ?? []
    if prototypes.isEmpty {
      let report = try JSONDecoder().decode(AnalysisReport.self, from: Data(analysed.report.utf8))
      prototypes = report.uncertain.filter { $0.pair.sorted() == pair }.map(\.prototype)
      guard !prototypes.isEmpty else {
        throw DaemonError(
          .notReady,
          "no uncertain prototype is flagged for \(names[pair[0]]) / \(names[pair[1]]); name one with --prototype K "
            + "('i2x prototypes \(run)' lists them)")
      }
    }
    if let unknown = prototypes.first(where: { !vocabulary.ids.contains($0) }) {
      throw DaemonError(.badData, "prototype \(unknown) is not in run '\(run)''s current vocabulary")
    }
    let record = try store.createDirective(
      run: run, pair: pair, classNames: pair.map { names[$0] }, prototypes: prototypes, vocabulary: basis,
      step: analysed.step, source: "manual")
    log("run '\(run)': manual fine-tune directive \(record.id) for \(names[pair[0]]) / \(names[pair[1]])")
    return record
  }

  /// A directive as JSON (snake_case keys), with its outcome when known.
  static func directiveJSON(_ record: DaemonStore.DirectiveRecord, outcome: [String: Any]?) -> [String: Any] {
    var row: [String: Any] = [
      "id": record.id, "key": record.key, "kind": record.kind, "pair": record.pair, "prototypes": record.prototypes,
      "source": record.source, "step": record.step, "state": record.state,
      "metrics": (try? JSONSerialization.jsonObject(with: Data(record.metrics.utf8))) ?? [:],
      "created_at": record.createdAt, "updated_at": record.updatedAt,
    ]
    if let reason = record.reason { row["reason"] = reason }
    if let delivered = record.deliveredAt { row["delivered_at"] = delivered }
    if let outcome { row["outcome"] = outcome }
    return row
  }
}

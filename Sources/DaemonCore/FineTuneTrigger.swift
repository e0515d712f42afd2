import Foundation
import Prototypes

/// The daemon's side of DESIGN §7: flags become directives under the `auto` policy, and a
/// finished fine-tune segment is judged from the run's own analysis, before against after.
public enum FineTuneTrigger {
  /// Checkpoints after a directive during which its pair gets no new one (`--finetune-cooldown`).
  public static let defaultCooldown = 6

  /// Under `auto`, creates one directive per flagged pair (its flagged prototypes together)
  /// unless the pair has one in flight or made within `cooldown` checkpoints.
  /// - Returns: the directives created.
  @discardableResult
  public static func apply(
    store: DaemonStore, run: String, report: AnalysisReport, vocabulary: Vocabulary, step: Int, cooldown: Int,
    log: (String) -> Void
  ) throws -> [DaemonStore.DirectiveRecord] {
    guard try store.policy(run: run) == .auto, let basis = vocabulary.basis, !report.uncertain.isEmpty else {
      return []
    }
    var pairs: [[Int]] = []
    for flag in report.uncertain.sorted(by: { $0.score > $1.score }) where !pairs.contains(flag.pair.sorted()) {
      pairs.append(flag.pair.sorted())
    }
    var created: [DaemonStore.DirectiveRecord] = []
    for pair in pairs where try !store.hasRecentDirective(run: run, pair: pair, cooldown: cooldown) {
      let prototypes = report.uncertain.filter { $0.pair.sorted() == pair }.map(\.prototype)
      let record = try store.createDirective(
        run: run, pair: pair, classNames: pair.map { report.classNames[$0] }, prototypes: prototypes,
        vocabulary: basis, step: step, source: "auto")
      log(
        "run '\(run)' step \(step): auto fine-tune directive \(record.id) for \(report.classNames[pair[0]]) / "
          + "\(report.classNames[pair[1]]) (prototypes \(prototypes.map(String.init).joined(separator: ", ")))")
      created.append(record)
    }
    return created
  }

  /// Before/after figures of a finished segment from the latest `report`: the pair's probe
  /// confusions and mean probe accuracy of the two classes at the last analysed checkpoint
  /// before the segment and at the latest one after it, and whether the directive's
  /// prototypes are still flagged for the pair. Nil until the segment's steps are known and
  /// analysed.
  public static func outcome(of record: DaemonStore.DirectiveRecord, report: AnalysisReport) -> [String: Any]? {
    guard let metrics = try? JSONSerialization.jsonObject(with: Data(record.metrics.utf8)) as? [String: Any],
      let first = (metrics["first_step"] as? NSNumber)?.intValue,
      let last = (metrics["last_step"] as? NSNumber)?.intValue, record.pair.count == 2
    else { return nil }
    guard let before = report.steps.lastIndex(where: { $0 < first }),
      let after = report.steps.lastIndex(where: { $0 >= last })
    else {
      return ["analysed": false, "note": "waiting for the analysis of checkpoints after step \(last)"]
    }
    let (a, b) = (record.pair[0], record.pair[1])
    let pair = report.pairs.first { ($0.a, $0.b) == (a, b) || ($0.a, $0.b) == (b, a) }
    func accuracy(_ index: Int) -> Double {
      let classes = report.classes.filter { $0.label == a || $0.label == b }
      return classes.isEmpty ? 0 : classes.reduce(0.0) { $0 + $1.accuracy[index] } / Double(classes.count)
    }
    let stillFlagged = report.uncertain.filter {
      $0.pair.sorted() == record.pair && record.prototypes.contains($0.prototype)
    }
    return [
      "analysed": true,
      "before_step": report.steps[before], "after_step": report.steps[after],
      "checkpoints_after": report.steps.filter { $0 >= last }.count,
      "pair_confusions_before": pair.map { $0.confusions[before] } ?? 0,
      "pair_confusions_after": pair.map { $0.confusions[after] } ?? 0,
      "pair_accuracy_before": accuracy(before), "pair_accuracy_after": accuracy(after),
      "still_flagged": stillFlagged.map(\.prototype),
      "evidence_stopped_flipping": stillFlagged.isEmpty,
    ]
  }
}

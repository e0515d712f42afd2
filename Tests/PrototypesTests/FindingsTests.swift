import Engine
import Foundation
import Testing

@testable import Prototypes

/// Wilson intervals and the findings rules, on cases whose answers are derived by hand.
@Suite struct FindingsTests {
  /// Wilson 95%: 0/10 → [0, 0.2775]; 5/10 → [0.2366, 0.7634]; 10/10 → [0.7225, 1] (standard
  /// tables; z = 1.96).
  @Test func wilsonIntervals() {
    let none = BinomialInterval(successes: 0, trials: 10)
    #expect(none.lower == 0 && abs(none.upper - 0.2775) < 1e-4)
    let half = BinomialInterval(successes: 5, trials: 10)
    #expect(abs(half.lower - 0.2366) < 1e-4 && abs(half.upper - 0.7634) < 1e-4)
    let all = BinomialInterval(successes: 10, trials: 10)
    #expect(abs(all.lower - 0.7225) < 1e-4 && abs(all.upper - 1) < 1e-12)
    #expect(all.isAbove(none) && !half.isAbove(none))
    #expect(BinomialInterval(successes: 0, trials: 0).upper == 1)
  }

  /// The cue rule: an exclusive, small, fixed, constant prototype is a candidate; it becomes a
  /// `fixed-position-cue` only with an intervention beyond its control; a non-significant one
  /// leaves no cue finding at all.
  @Test func cueFindingNeedsInterventionEvidence() throws {
    var (report, _, _, _, _) = PrototypeTraitsTests.fourImages()
    let index = try #require(report.prototypes.firstIndex { $0.id == 5 })
    report.prototypes[index].presence = [1, 0]  // exclusive to class 0
    #expect(Findings.isCueCandidate(report.prototypes[index], 0))
    #expect(!Findings.isCueCandidate(report.prototypes[index], 1))
    let untested = Findings.build(report: report, interventions: [], run: "r")
    #expect(untested.map(\.kind).contains("cue-candidate-untested"))
    #expect(!untested.map(\.kind).contains("fixed-position-cue"))
    func test(masked: Int, control: Int, flips: Int) -> Intervention {
      Intervention(
        prototype: 5, label: 0, step: 2, meanCells: 1,
        mask: .init(
          before: .init(successes: 40, trials: 40), masked: .init(successes: masked, trials: 40),
          control: .init(successes: control, trials: 40), confidenceBefore: 0.9, confidenceMasked: 0.5,
          confidenceControl: 0.9),
        paste: .init(
          pasted: .init(successes: flips, trials: 100), control: .init(successes: 2, trials: 100), sources: 10))
    }
    let strong = Findings.build(report: report, interventions: [test(masked: 5, control: 39, flips: 60)], run: "r")
    let cue = try #require(strong.first { $0.kind == "fixed-position-cue" })
    #expect(cue.severity == "high" && cue.classes == [0] && cue.prototype == 5)
    #expect(cue.numbers["mask_probes"] == 40 && cue.numbers["paste_probes"] == 100)
    #expect(cue.statement.contains("pixels y 0–1, x 0–1"))
    #expect(cue.command == "i2x intervene r --prototype 5 --class 0")
    #expect(strong.first?.kind == "fixed-position-cue", "most severe first")
    // Masking alone (no transplantable effect) is not enough; for a small region (a mark)
    // pasting alone is not either (masked 36/40 [77–96%] against 39/40 [87–100%]: the
    // intervals overlap), nor a mask whose control also breaks the class (5/40 [5–26%] against
    // 17/40 = 43% [29–58%]: significant, but the class breaks wherever it is masked).
    let maskOnly = Findings.build(report: report, interventions: [test(masked: 5, control: 39, flips: 3)], run: "r")
    #expect(!maskOnly.map(\.kind).contains("fixed-position-cue"))
    let pasteOnly = Findings.build(report: report, interventions: [test(masked: 36, control: 39, flips: 60)], run: "r")
    #expect(!pasteOnly.map(\.kind).contains("fixed-position-cue"))
    let fragile = Findings.build(report: report, interventions: [test(masked: 5, control: 17, flips: 60)], run: "r")
    #expect(!fragile.map(\.kind).contains("fixed-position-cue"))
    let sturdy = Findings.build(report: report, interventions: [test(masked: 5, control: 21, flips: 60)], run: "r")
    #expect(sturdy.contains { $0.kind == "fixed-position-cue" }, "control 21/40 = 53% ≥ 50%")
    // A significant but small lift (15/100 [9–23%] against 2/100 [1–7%]: 13 points < 20) is none.
    let small = Findings.build(report: report, interventions: [test(masked: 5, control: 39, flips: 15)], run: "r")
    #expect(!small.map(\.kind).contains("fixed-position-cue"))
    // A model at chance (every class's accuracy 0.5 with 2 classes < 0.6) gets no cue finding.
    var chance = report
    for c in chance.classes.indices { chance.classes[c].accuracy = chance.classes[c].accuracy.map { _ in 0.5 } }
    #expect(!Findings.tellsClassesApart(chance) && Findings.tellsClassesApart(report))
    #expect(
      !Findings.build(report: chance, interventions: [test(masked: 5, control: 39, flips: 60)], run: "r").map(\.kind)
        .contains("fixed-position-cue"))
    let weak = Findings.build(report: report, interventions: [test(masked: 36, control: 39, flips: 3)], run: "r")
    #expect(!weak.map(\.kind).contains("fixed-position-cue") && !weak.map(\.kind).contains("cue-candidate-untested"))
  }

  /// Learned early: 5 checkpoints, class 1's mean accuracy over the first 3 is (0.98 + 1 +
  /// 0.99)/3 = 0.99, class 0's (0.2 + 0.5 + 0.8)/3 = 0.5 → a finding for class 1 only; with
  /// class 0 at (0.97 + 0.99 + 0.98)/3 = 0.98 the lead is 0.01 < 0.02 → none; a class at
  /// (0.96 + 0.98 + 0.97)/3 = 0.97 < 0.98 (what the best class of a clean run looks like) →
  /// none; with 4 checkpoints, none.
  /// Severity first; then, among a class's cues, the one its latest test confirms before one
  /// kept on earlier evidence, and the larger paste lift first (on the synthetic mark twin a
  /// kept neighbour of the mark was listed before the two confirmed prototypes on the mark).
  @Test func findingsAreOrderedBySeverityStandingAndLift() {
    func finding(_ name: String, _ severity: String, _ standing: String?, paste: Double, control: Double) -> Finding {
      var finding = Finding(
        kind: "fixed-position-cue", severity: severity, classes: [3], classNames: ["marked"], prototype: nil,
        statement: name, numbers: ["paste_flip_rate": paste, "paste_control_flip_rate": control], command: "")
      finding.standing = standing
      return finding
    }
    let given = [
      finding("kept neighbour", "high", "kept", paste: 0.42, control: 0.03),
      finding("info", "info", nil, paste: 0, control: 0),
      finding("confirmed, lift 0.90", "high", "confirmed", paste: 0.98, control: 0.08),
      finding("medium", "medium", nil, paste: 0, control: 0),
      finding("confirmed, lift 0.88", "high", "confirmed", paste: 1.00, control: 0.12),
    ]
    #expect(
      Findings.ordered(given).map(\.statement) == [
        "confirmed, lift 0.90", "confirmed, lift 0.88", "kept neighbour", "medium", "info",
      ])
  }

  @Test func learnedEarlyByHand() {
    var (report, _, _, _, _) = PrototypeTraitsTests.fourImages()
    report.steps = [10, 20, 30, 40, 50]
    report.classes[0].accuracy = [0.2, 0.5, 0.8, 0.95, 1]
    report.classes[1].accuracy = [0.98, 1, 0.99, 1, 1]
    let findings = Findings.build(report: report, interventions: [], run: "r").filter { $0.kind == "learned-early" }
    #expect(findings.map(\.classes) == [[1]])
    #expect(abs((findings.first?.numbers["early_mean_accuracy"] ?? 0) - 0.99) < 1e-12)
    #expect(findings.first?.numbers["last_early_step"] == 30)
    report.classes[0].accuracy = [0.97, 0.99, 0.98, 1, 1]
    #expect(Findings.build(report: report, interventions: [], run: "r").filter { $0.kind == "learned-early" }.isEmpty)
    report.classes[0].accuracy = [0.2, 0.5, 0.8, 0.95, 1]
    report.classes[1].accuracy = [0.96, 0.98, 0.97, 1, 1]
    #expect(Findings.build(report: report, interventions: [], run: "r").filter { $0.kind == "learned-early" }.isEmpty)
    report.classes[0].accuracy = [0.2, 0.5, 0.8, 0.95]
    report.classes[1].accuracy = [1, 1, 1, 1]
    report.steps = [10, 20, 30, 40]
    #expect(Findings.build(report: report, interventions: [], run: "r").filter { $0.kind == "learned-early" }.isEmpty)
  }
}

import Foundation
import Testing

@testable import Prototypes

/// A named cue's standing over later checkpoints (`Findings.Standing`): kept through a noisy
/// checkpoint, withdrawn only by re-tests that refute it, followed along its prototype's line.
@Suite struct CueStandingTests {
  /// A test of prototype `id` for class 0 at `step`: `flips`/100 pasted probes flipped against
  /// 2/100, class-0 accuracy 40/40 → `masked`/40 against 39/40 (a large region), tested
  /// shaped like a border cue unless `shaped` is false.
  static func test(
    _ id: Int = 1, step: Int, flips: Int, masked: Int = 5, shaped: Bool = true, companions: [Int]? = nil
  ) -> Intervention {
    var test = CueShapeTests.intervention(flips: flips, masked: masked)
    (test.prototype, test.step, test.companions) = (id, step, companions)
    test.cueShape = shaped ? CueShape.border.rawValue : nil
    return test
  }

  /// Confirms (60/100 [50–69%] against 2/100 [1–7%]); falls short of it (8/100 [4–15%]
  /// overlaps [1–7%]) while masking still matters (5/40 [5–26%] against 39/40 [87–100%]):
  /// not a refutation; refutes (3/100 [1–8%] overlaps [1–7%], and 38/40 [84–99%] overlaps
  /// 39/40's [87–100%]).
  @Test func keptUntilRefuted() {
    let confirm = Self.test(step: 100, flips: 60)
    let short = Self.test(step: 200, flips: 8)
    let refute = Self.test(step: 300, flips: 3, masked: 38)
    #expect(Findings.confirms(confirm) && !Findings.confirms(short) && !Findings.refutes(short))
    #expect(Findings.refutes(refute))
    // Masking that takes accuracy from 40/40 to 5/40 is an effect even when masking as many
    // random cells takes it to 9/40 [12–37%] (overlapping [5–26%]): no refutation.
    var generic = Self.test(step: 300, flips: 3)
    generic.mask.control = BinomialInterval(successes: 9, trials: 40)
    #expect(!generic.mask.isSignificant && !Findings.refutes(generic))
    let kept = Findings.Standing(tests: [confirm, short])
    #expect(kept.evidence == confirm && kept.since == 100 && kept.newest == short && kept.shape == .border)
    let withdrawn = Findings.Standing(tests: [refute, confirm, short])  // the order is by step
    #expect(withdrawn.evidence == nil && withdrawn.withdrawn?.refutedBy == refute)
    #expect(withdrawn.withdrawn?.established == confirm)
    // Re-confirmed while shaped like a cue: established again, from the new test's step.
    let again = Findings.Standing(tests: [confirm, refute, Self.test(step: 400, flips: 70)])
    #expect(again.evidence?.step == 400 && again.since == 400 && again.withdrawn == nil)
    // A confirming test of a prototype not shaped like a cue establishes nothing, and keeps
    // an established one (its newest evidence).
    #expect(Findings.Standing(tests: [Self.test(step: 100, flips: 60, shaped: false)]).evidence == nil)
    let reconfirmed = Findings.Standing(tests: [confirm, Self.test(step: 200, flips: 50, shaped: false)])
    #expect(reconfirmed.evidence?.step == 200 && reconfirmed.since == 100)
  }

  /// Two re-tests in a row, at two checkpoints, short of confirming while the prototype is not
  /// shaped like a cue withdraw it; one of them, two at one checkpoint, or a shaped short one
  /// in between do not.
  @Test func twoShortUnshapedReTestsWithdraw() {
    let confirm = Self.test(step: 100, flips: 60)
    func short(_ step: Int, shaped: Bool = false) -> Intervention { Self.test(step: step, flips: 8, shaped: shaped) }
    let twice = Findings.Standing(tests: [confirm, short(200), short(300)])
    #expect(twice.evidence == nil && twice.withdrawn?.refutedBy == short(300))
    #expect(twice.withdrawn?.reason.contains("steps 200 and 300") == true)
    #expect(Findings.Standing(tests: [confirm, short(200)]).evidence == confirm)
    #expect(Findings.Standing(tests: [confirm, short(200), short(200)]).evidence == confirm)
    #expect(Findings.Standing(tests: [confirm, short(200), short(300, shaped: true), short(400)]).evidence == confirm)
  }

  /// Lines: fit 100 has ids 1, 2; fit 200 keeps 1 (Jaccard 0.8) and gives 2's successor the
  /// fresh id 7 (0.3 ≥ 0.2); fit 300 keeps 1 and 7 and gives id 9 to a cluster matched to
  /// nothing that overlaps (0.1 < 0.2). At step 300 (and 350), 7's line is [7, 2].
  @Test func ancestryFollowsMatchesAboveTheFloor() {
    typealias Link = Vocabulary.LineageLink
    let fits: [(step: Int, ids: [Int], links: [Link]?)] = [
      (100, [1, 2], nil),
      (200, [1, 7], [Link(id: 1, previousID: 1, jaccard: 0.8), Link(id: 7, previousID: 2, jaccard: 0.3)]),
      (
        300, [1, 7, 9],
        [
          Link(id: 1, previousID: 1, jaccard: 0.9), Link(id: 7, previousID: 7, jaccard: 0.6),
          Link(id: 9, previousID: nil, jaccard: 0),
        ]
      ),
    ]
    let lines = Findings.ancestry(fits: fits, at: 350)
    #expect(lines == [1: [1], 7: [7, 2], 9: [9]])
    #expect(Findings.ancestry(fits: fits, at: 200) == [1: [1], 7: [7, 2]])
    #expect(Findings.ancestry(fits: fits, at: 50).isEmpty)
  }

  /// The finding: named from the test on its ancestor 4 (a refit renamed it 1) while today's
  /// traits miss the presence test (45% < 50%) and the newest re-test falls short: kind, class,
  /// place and evidence stay, `standing` says `kept`, with `since_step`. A refuting re-test
  /// withdraws it: a `cue-withdrawn` finding instead. With its shape and the newest test
  /// confirming, `confirmed`.
  @Test func keptFindingNamesClassPlaceAndEvidence() throws {
    let (border, _) = CueShapeTests.traits { _, _ in 1 }
    let report = try CueShapeTests.report(border, presence: [0.45, 0])
    let ancestry = [1: [1, 4]]
    let tests = [Self.test(4, step: 100, flips: 60), Self.test(1, step: 200, flips: 8)]
    let findings = Findings.build(report: report, interventions: tests, ancestry: ancestry, run: "r")
    let cue = try #require(findings.first { $0.kind == "border-cue" }, "\(findings.map(\.statement))")
    #expect(cue.standing == "kept" && cue.classes == [0] && cue.prototype == 1 && cue.severity == "high")
    #expect(cue.numbers["since_step"] == 100 && cue.numbers["intervention_step"] == 100)
    #expect(cue.numbers["last_test_step"] == 200 && cue.numbers["paste_flip_rate"] == 0.6)
    #expect(cue.statement.contains("pixels y 0–7, x 0–7") && cue.statement.contains("present in 45% of the class"))
    #expect(cue.statement.contains("re-tested at step 200") && cue.statement.contains("named since step 100"))
    // Without the line, prototype 1's own test falls short and it misses a shape test: nothing.
    #expect(!Findings.build(report: report, interventions: tests, run: "r").contains { $0.kind == "border-cue" })

    let refuted = tests + [Self.test(1, step: 300, flips: 3, masked: 38)]
    let after = Findings.build(report: report, interventions: refuted, ancestry: ancestry, run: "r")
    #expect(!after.contains { $0.kind == "border-cue" })
    let withdrawal = try #require(after.first { $0.kind == "cue-withdrawn" })
    #expect(
      withdrawal.standing == "withdrawn" && withdrawal.classes == [0] && withdrawal.numbers["established_step"] == 100)

    let shaped = try CueShapeTests.report(border)
    let confirmed = Findings.build(
      report: shaped, interventions: [Self.test(step: 100, flips: 8), Self.test(step: 200, flips: 60)], run: "r")
    #expect(confirmed.first { $0.kind == "border-cue" }?.standing == "confirmed")
  }

  /// `established` lists the lines to re-test with the companions they were established with,
  /// renamed along their lines (3 → 8), never the prototype itself.
  @Test func establishedLinesCarryTheirCompanions() throws {
    let (border, _) = CueShapeTests.traits { _, _ in 1 }
    let report = try CueShapeTests.report(border, presence: [0.45, 0])
    let lines = Findings.established(
      report, [Self.test(step: 100, flips: 60, companions: [3, 1])], ancestry: [1: [1], 8: [8, 3]])
    #expect(lines.count == 1 && lines.first?.prototype == 1 && lines.first?.label == 0)
    #expect(lines.first?.companions == [8])
  }
}

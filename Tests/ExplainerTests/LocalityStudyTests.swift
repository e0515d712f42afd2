import Engine
import Testing

@testable import Explainer

/// The locality measurement (`i2x-bench locality`) on cases whose answer is known by hand.
@Suite struct LocalityStudyTests {
  /// A 2×2 map over a 4×4 image; the prototype owns cell 3 (pixels 10, 11, 14, 15), the control
  /// cell 0 (pixels 0, 1, 4, 5). An edit on exactly the prototype's pixels: IoU 1 against 0.
  /// Each region is 4 of 16 pixels, so a random edit of that size scores (1/4)/(2 − 1/4) = 1/7.
  @Test func anEditOnThePrototypeBeatsTheControl() {
    var delta = [Float](repeating: 0, count: 16)
    for p in [10, 11, 14, 15] { delta[p] = 1 }
    let m = LocalityStudy.measure(
      delta: delta, ownCells: [3], controlCells: [0], mapHeight: 2, mapWidth: 2, height: 4, width: 4)
    #expect(m.own == 1 && m.control == 0)
    #expect(abs(m.ownChance - 1.0 / 7.0) < 1e-12 && abs(m.controlChance - 1.0 / 7.0) < 1e-12)
  }

  /// Differences 1, 1, 0, −1: mean 0.25; own > control in 2 of 4 (one tie); sign test on the
  /// 3 untied cases, 2 of 3: P(X ≤ 1) = (1 + 3)/8, doubled = 1.
  @Test func summaryByHand() {
    let cases = [(1.0, 0.0), (1, 0), (0.5, 0.5), (0, 1)].map {
      LocalityStudy.Measurement(own: $0.0, control: $0.1, ownChance: 0.1, controlChance: 0.2)
    }
    let s = LocalityStudy.summarize(cases, resamples: 500, seed: 3)
    #expect(s.cases == 4 && s.ties == 1)
    #expect(abs(s.meanOwn - 0.625) < 1e-12 && abs(s.meanControl - 0.375) < 1e-12)
    #expect(abs(s.meanDifference - 0.25) < 1e-12)
    #expect(s.differenceLow <= s.meanDifference && s.meanDifference <= s.differenceHigh)
    #expect(s.differenceLow >= -1 && s.differenceHigh <= 1)
    #expect(s.ownGreater.hits == 2 && s.ownGreater.trials == 4)
    #expect(abs(s.signTestP - 1) < 1e-12)
    #expect(abs(s.meanOwnChance - 0.1) < 1e-12 && abs(s.meanControlChance - 0.2) < 1e-12)
    // Against chance: each difference + 0.1 (own chance 0.1, control chance 0.2): 0.35 on
    // average, and 3 of 4 cases (the tie becomes +0.1) favour the prototype.
    #expect(abs(s.excessDifference - 0.35) < 1e-12)
    #expect(s.excessLow <= s.excessDifference && s.excessDifference <= s.excessHigh)
    #expect(s.ownExcessGreater.hits == 3)
    // Ten wins of ten: p = 2/1024; Wilson's lower end for 10/10 is 0.7225.
    let wins = LocalityStudy.summarize(Array(repeating: cases[0], count: 10))
    #expect(abs(wins.signTestP - 2.0 / 1024) < 1e-12)
    #expect(abs(wins.ownGreater.low - 0.7225) < 1e-4)
    #expect(wins.differenceLow == 1 && wins.differenceHigh == 1, "every resample has mean difference 1")
  }

  /// The control is another prototype present outside the own cells, with its cells; none when
  /// the image holds only the prototype.
  @Test func theControlIsAnotherPrototypeInTheImage() {
    var generator = SplitMix64(seed: 9)
    var seen = Set<Int>()
    for _ in 0..<40 {
      let control = LocalityStudy.control(
        assigned: [5, 5, 7, 9, 9], prototype: 5, ownCells: [0, 1], using: &generator)
      guard let control else {
        Issue.record("no control found")
        return
      }
      seen.insert(control.prototype)
      #expect(control.cells == (control.prototype == 7 ? [2] : [3, 4]))
    }
    #expect(seen == [7, 9], "both other prototypes are drawn")
    #expect(LocalityStudy.control(assigned: [5, 5], prototype: 5, ownCells: [0, 1], using: &generator) == nil)
  }

  /// A seeded simulation: edits that add a bump on the prototype's cells to uniform noise
  /// concentrate there, and the measurement says so over 30 cases; pure noise does not.
  @Test func aSimulatedLocalEditIsDetectedAndNoiseIsNot() {
    var generator = SplitMix64(seed: 11)
    func uniform() -> Float { Float(generator.next() >> 40) / Float(1 << 24) }
    func cases(bump: Float) -> [LocalityStudy.Measurement] {
      (0..<30).map { _ in
        // 8×8 image, 4×4 map: the prototype owns cells 5 and 6, the control cells 9 and 10 (the
        // same size, so noise favours neither).
        var delta = (0..<64).map { _ in uniform() }
        for p in EditLocality.region(cells: [5, 6], mapHeight: 4, mapWidth: 4, height: 8, width: 8) {
          delta[p] += bump
        }
        return LocalityStudy.measure(
          delta: delta, ownCells: [5, 6], controlCells: [9, 10], mapHeight: 4, mapWidth: 4, height: 8, width: 8)
      }
    }
    let local = LocalityStudy.summarize(cases(bump: 1))
    #expect(local.meanOwn == 1 && local.meanControl == 0)
    #expect(local.ownGreater.hits == 30 && local.signTestP < 1e-6)
    let noise = LocalityStudy.summarize(cases(bump: 0))
    #expect(noise.differenceLow < 0.2 && noise.signTestP > 0.001, "noise: \(noise)")
  }
}

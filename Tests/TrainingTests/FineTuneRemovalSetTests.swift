import Prototypes
import Testing
import Training

/// The removal set and the curated → full schedule on cases whose answers are known.
@Suite struct FineTuneRemovalSetTests {
  /// Four cells per image; flagged prototypes 7 and 9; thresholds 0.1 / 0.5 / 30%.
  ///
  /// | image | assignments | maps | best flagged prototype | occ × int |
  /// |---|---|---|---|---|
  /// | 10 | 7 7 0 0 | 1 .6 .9 .9 | 7: occ 2/4, int (1+.6)/2 = .8 | .4 |
  /// | 11 | 9 0 0 0 | .6 0 0 0 | 9: occ 1/4, int .6 | .15 |
  /// | 12 | 7 9 9 9 | .2 .5 .5 .5 | 7: .25 × .2 = .05; 9: .75 × .5 = .375 → 9 | .375 |
  /// | 13 | 0 0 0 0 | 1 1 1 1 | none (no flagged cell) | — |
  /// | 14 | 7 0 0 0 | 1 0 0 0 | 7: .25 × 1 | .25 |
  /// | 15 | 7 7 0 0 | .4 .4 1 1 | 7: occ .5 but int .4 < .5 → filtered | .2 |
  /// | 16 | 9 0 0 0 | 1 0 0 0 | 9: .25 × 1 (ties with 14; lower index first) | .25 |
  ///
  /// Passing, highest first: 10, 12, 14, 16, 11 (12's intensity is exactly the threshold).
  /// The cap ⌊0.3 · pairImages⌋: 20 images → 6 (all five), 13 → ⌊3.9⌋ = 3, 3 → 0.
  static let assignments = [
    7, 7, 0, 0, 9, 0, 0, 0, 7, 9, 9, 9, 0, 0, 0, 0, 7, 0, 0, 0, 7, 7, 0, 0, 9, 0, 0, 0,
  ]
  static let maps: [Float] = [
    1, 0.6, 0.9, 0.9, 0.6, 0, 0, 0, 0.2, 0.5, 0.5, 0.5, 1, 1, 1, 1, 1, 0, 0, 0, 0.4, 0.4, 1, 1, 1, 0, 0, 0,
  ]

  @Test func scoresKeepEachImagesStrongestFlaggedPrototype() {
    let scores = RemovalSet.scores(
      assignments: Self.assignments, maps: Self.maps, cells: 4, images: Array(10...16), prototypes: [7, 9])
    #expect(scores.map { $0?.prototype } == [7, 9, 9, nil, 7, 7, 9])
    #expect(scores.map { $0?.occupancy } == [0.5, 0.25, 0.75, nil, 0.25, 0.5, 0.25])
    let intensities = scores.map { $0?.intensity ?? -1 }
    for (value, expected) in zip(intensities, [0.8, 0.6, 0.5, -1, 1, 0.4, 1]) { #expect(abs(value - expected) < 1e-6) }
  }

  @Test func selectAppliesThresholdsOrderTiesAndTheCap() {
    let scores = RemovalSet.scores(
      assignments: Self.assignments, maps: Self.maps, cells: 4, images: Array(10...16), prototypes: [7, 9])
    let thresholds = FineTuneDirective.Thresholds()
    #expect(RemovalSet.select(scores, pairImages: 20, thresholds: thresholds) == [10, 12, 14, 16, 11])
    #expect(RemovalSet.select(scores, pairImages: 13, thresholds: thresholds) == [10, 12, 14])
    #expect(RemovalSet.select(scores, pairImages: 3, thresholds: thresholds).isEmpty)
    // Stricter occupancy (0.3) keeps 10 (.5) and 12 (.75); 15 (.5) still fails intensity.
    let strict = FineTuneDirective.Thresholds(occupancy: 0.3, intensity: 0.5, maximumFraction: 1)
    #expect(RemovalSet.select(scores, pairImages: 20, thresholds: strict) == [10, 12])
    // Lower intensity (0.4) admits 15 (.2), between 14/16 (.25) and 11 (.15).
    let loose = FineTuneDirective.Thresholds(occupancy: 0.1, intensity: 0.4, maximumFraction: 1)
    #expect(RemovalSet.select(scores, pairImages: 20, thresholds: loose) == [10, 12, 14, 16, 15, 11])
  }

  /// |D| = 103, R = every 8th index (13 images), b = 10: ⌈90/10⌉ + ⌈103/10⌉ = 9 + 11 = 20
  /// steps; the first 9 batches hold D \ R once each, the last 11 hold D once each.
  @Test func curatedThenFullStepsAndCoverage() {
    let training = Array(0..<103)
    let removed = Set(stride(from: 0, to: 103, by: 8))
    #expect(removed.count == 13)
    let schedule = FineTuneSchedule.curatedThenFull(training: training, removed: removed, batchSize: 10, seed: 4)
    #expect(schedule.steps == 20)
    let curated = schedule.batches.prefix(9).flatMap { $0 }
    let full = schedule.batches.suffix(11).flatMap { $0 }
    #expect(curated.sorted() == training.filter { !removed.contains($0) })
    #expect(full.sorted() == training)
    #expect(schedule.batches[8].count == 10 && schedule.batches[19].count == 3)
    // Seeded: the same seed gives the same batches, another seed another order.
    #expect(schedule == FineTuneSchedule.curatedThenFull(training: training, removed: removed, batchSize: 10, seed: 4))
    #expect(schedule != FineTuneSchedule.curatedThenFull(training: training, removed: removed, batchSize: 10, seed: 5))
  }
}

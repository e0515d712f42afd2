import Testing

@testable import Training

/// The arms' removal sets and schedules on constructed cases.
@Suite struct ExperimentPlanTests {
  // 103 images; labels cycle 0…4, so classes 1 and 3 have 21 and 20 images.
  static let labels = (0..<103).map { $0 % 5 }
  static let training = Array(0..<103)

  @Test(arguments: [(0, false), (7, false), (30, true), (39, true), (41, true)])
  func c1TakesExactlyTheStepsOfTheI2XArm(removedCount: Int, batchNorm: Bool) {
    let plan = ExperimentPlan(training: Self.training, batchSize: 10, dropsSingletonBatches: batchNorm)
    let removed = Array(Self.training.prefix(removedCount))
    for seed in [1, 2, 3] {
      let orderSeed = ExperimentPlan.dataOrderSeed(seed)
      let i2x = plan.schedule(.i2x, removed: removed, seed: orderSeed)
      let c1 = plan.schedule(.c1EqualCompute, removed: removed, seed: orderSeed)
      #expect(c1.steps == i2x.steps, "|R| = \(removedCount), seed \(seed)")
      #expect(c1.batches.joined().allSatisfy { Self.training.contains($0) })
      if batchNorm {
        #expect(i2x.batches.allSatisfy { $0.count >= 2 } && c1.batches.allSatisfy { $0.count >= 2 })
      }
    }
    // ⌈(103 − |R|)/10⌉ curated batches, then ⌈103/10⌉ = 11 full ones; none of these sizes
    // leaves a one-image batch (103 − |R| ∈ {103, 96, 73, 64, 62}), so none is dropped.
    let expected = (103 - removedCount + 9) / 10 + 11
    #expect(plan.schedule(.i2x, removed: removed, seed: 1).steps == expected)
  }

  @Test func singletonBatchesAreDroppedUnderBatchNorm() {
    // 101 images in batches of 10: the last batch of each epoch has one image.
    let plan = ExperimentPlan(training: Array(0..<101), batchSize: 10, dropsSingletonBatches: true)
    let i2x = plan.schedule(.i2x, removed: [], seed: 5)
    #expect(i2x.steps == 20)
    #expect(plan.schedule(.c1EqualCompute, removed: [], seed: 5).steps == 20)
    let plain = ExperimentPlan(training: Array(0..<101), batchSize: 10, dropsSingletonBatches: false)
    #expect(plain.schedule(.i2x, removed: [], seed: 5).steps == 22)
  }

  @Test func c2RemovesExactlyRImagesOnlyOfThePair() {
    let candidates = ExperimentPlan.pairCandidates(training: Self.training, labels: Self.labels, pair: [1, 3])
    #expect(candidates.count == 41)
    #expect(candidates.allSatisfy { [1, 3].contains(Self.labels[$0]) })
    var draws = Set<[Int]>()
    for seed in 1...5 {
      let removed = ExperimentPlan.randomRemoval(
        candidates: candidates, count: 12, seed: ExperimentPlan.removalSeed(seed))
      #expect(removed.count == 12 && Set(removed).count == 12)
      #expect(removed.allSatisfy { [1, 3].contains(Self.labels[$0]) })
      draws.insert(removed)
      // Seeded: the same seed gives the same draw.
      #expect(
        removed
          == ExperimentPlan.randomRemoval(candidates: candidates, count: 12, seed: ExperimentPlan.removalSeed(seed)))
    }
    #expect(draws.count == 5, "different seeds draw different sets")
  }

  @Test func c3PicksTheHighestLossImages() {
    // Candidates 10, 11, …, 17 with losses chosen so the top three are 14 (3.0), 11 (2.5) and
    // 16 (2.5, tie with 11: the lower image index wins the order but both are in) — and 12 (2.4)
    // just misses.
    let candidates = Array(10...17)
    let losses = [0.1, 2.5, 2.4, 0.3, 3.0, 0.2, 2.5, 1.0]
    #expect(ExperimentPlan.highestLoss(candidates: candidates, losses: losses, count: 3) == [11, 14, 16])
    #expect(ExperimentPlan.highestLoss(candidates: candidates, losses: losses, count: 4) == [11, 12, 14, 16])
    // A tie at the cut keeps the lower index.
    #expect(ExperimentPlan.highestLoss(candidates: candidates, losses: losses, count: 2) == [11, 14])
    #expect(ExperimentPlan.highestLoss(candidates: candidates, losses: losses, count: 0).isEmpty)
  }

  @Test func everyArmGetsTheSameDataOrderSeed() {
    let plan = ExperimentPlan(training: Self.training, batchSize: 10, dropsSingletonBatches: false)
    // With nothing removed, i2x, C2 and C3 are the same schedule as one another, and C1's
    // first epoch equals their first epoch: the order depends on the seed only.
    let seed = ExperimentPlan.dataOrderSeed(4)
    let i2x = plan.schedule(.i2x, removed: [], seed: seed)
    let c1 = plan.schedule(.c1EqualCompute, removed: [], seed: seed)
    #expect(i2x.batches.prefix(11) == c1.batches.prefix(11))
    #expect(ExperimentPlan.dataOrderSeed(4) != ExperimentPlan.dataOrderSeed(5))
  }
}

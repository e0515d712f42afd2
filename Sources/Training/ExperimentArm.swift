import Engine

/// One arm of the fine-tune experiment (DESIGN §7). Every arm starts from the same checkpoint
/// with a fresh network and a fresh optimiser, and seed s gives every arm the same data-order
/// seed.
public enum ExperimentArm: String, CaseIterable, Codable, Sendable {
  /// I2X: R from the directive (`RemovalSet.select` with the start weights), curated → full.
  case i2x
  /// C1: continued training on D for exactly as many steps as the i2x arm.
  case c1EqualCompute = "c1_equal_compute"
  /// C2: |R| images of classes a and b drawn at random (seeded per seed), curated → full.
  case c2RandomRemoval = "c2_random_removal"
  /// C3: the |R| highest-loss images of classes a and b under the start weights, curated → full.
  case c3HighestLoss = "c3_highest_loss"

  /// The control every other arm is compared with.
  public static let control = ExperimentArm.c1EqualCompute
}

/// The removal sets and schedules of the arms, as pure functions of indices, labels, losses
/// and seeds, so each rule is testable on a constructed case.
public struct ExperimentPlan: Sendable {
  /// D: indices of the training split.
  public var training: [Int]
  /// Images per step.
  public var batchSize: Int
  /// Drop batches of fewer than two images (architectures with batch norm).
  public var dropsSingletonBatches: Bool

  /// Creates a plan.
  public init(training: [Int], batchSize: Int, dropsSingletonBatches: Bool) {
    precondition(batchSize > 0 && !training.isEmpty, "ExperimentPlan: \(training.count) images, batch \(batchSize)")
    self.training = training
    self.batchSize = batchSize
    self.dropsSingletonBatches = dropsSingletonBatches
  }

  /// The data-order seed of seed s, the same for every arm.
  public static func dataOrderSeed(_ seed: Int) -> UInt64 {
    var generator = SplitMix64(seed: 0xDA7A_0000 &+ UInt64(seed))
    return generator.next()
  }

  /// Seed of C2's random draw for seed s (independent of the data order).
  public static func removalSeed(_ seed: Int) -> UInt64 {
    var generator = SplitMix64(seed: 0xC2C2_0000 &+ UInt64(seed))
    return generator.next()
  }

  /// The indices of D whose label is one of `pair`, in D's order.
  public static func pairCandidates(training: [Int], labels: [Int], pair: [Int]) -> [Int] {
    training.filter { pair.contains(labels[$0]) }
  }

  /// C2: `count` candidates drawn without replacement by a seeded shuffle, sorted.
  public static func randomRemoval(candidates: [Int], count: Int, seed: UInt64) -> [Int] {
    precondition(count <= candidates.count, "randomRemoval: \(count) of \(candidates.count) candidates")
    var generator = SplitMix64(seed: seed)
    return Array(candidates.shuffled(using: &generator).prefix(count)).sorted()
  }

  /// C3: the `count` candidates with the highest loss (ties: lower index first), sorted.
  /// - Parameter losses: Loss of each candidate, aligned with `candidates`.
  public static func highestLoss(candidates: [Int], losses: [Double], count: Int) -> [Int] {
    precondition(
      candidates.count == losses.count, "highestLoss: \(candidates.count) candidates, \(losses.count) losses")
    let order = candidates.indices.sorted { (losses[$0], -candidates[$0]) > (losses[$1], -candidates[$1]) }
    return order.prefix(count).map { candidates[$0] }.sorted()
  }

  /// Curated → full with `removed` (the i2x, C2 and C3 arms).
  public func curatedThenFull(removed: [Int], seed: UInt64) -> FineTuneSchedule {
    trimmed(
      FineTuneSchedule.curatedThenFull(
        training: training, removed: Set(removed), batchSize: batchSize, seed: seed))
  }

  /// C1: continued training on D for exactly `steps` steps (after dropping small batches).
  public func continued(steps: Int, seed: UInt64) -> FineTuneSchedule {
    // Ask for a few extra steps: a dropped one-image batch must not leave C1 short.
    let schedule = trimmed(
      FineTuneSchedule.continued(training: training, steps: steps + 2, batchSize: batchSize, seed: seed))
    return FineTuneSchedule(batches: Array(schedule.batches.prefix(steps)))
  }

  /// The schedule of `arm` given the arm's removal set; for C1, `removed` is the i2x arm's R,
  /// used only to match its curated → full step count exactly (C1 itself removes nothing).
  public func schedule(_ arm: ExperimentArm, removed: [Int], seed: UInt64) -> FineTuneSchedule {
    let curated = curatedThenFull(removed: removed, seed: seed)
    guard arm == .c1EqualCompute else { return curated }
    let control = continued(steps: curated.steps, seed: seed)
    precondition(control.steps == curated.steps, "C1 has \(control.steps) steps, the i2x arm \(curated.steps)")
    return control
  }

  private func trimmed(_ schedule: FineTuneSchedule) -> FineTuneSchedule {
    dropsSingletonBatches ? FineTuneSchedule(batches: schedule.batches.filter { $0.count >= 2 }) : schedule
  }
}

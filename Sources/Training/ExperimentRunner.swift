import Checkpoints
import Datasets
import Engine
import Foundation
import Models
import Prototypes

/// Runs the fine-tune experiment (DESIGN §7): every arm × seed from the same start weights,
/// each with a fresh network and a fresh optimiser, results recorded as they finish and
/// reused on a rerun.
public struct ExperimentRunner {
  /// The start checkpoint's architecture.
  public var architecture: Architecture
  /// The start weights (only the network's tensors; optimiser state is never loaded).
  public var weights: [String: TensorRecord]
  /// The training source (D is `training` within it).
  public var train: LabeledImages
  /// The test split.
  public var test: LabeledImages
  /// D: indices of the training split.
  public var training: [Int]
  /// The directive whose pair and prototypes define R.
  public var directive: FineTuneDirective
  /// Batch size, learning rate, momentum, optimiser.
  public var configuration: TrainingConfiguration
  /// Seeds 1…N.
  public var seeds: Int
  /// Where results go.
  public var directory: ExperimentDirectory
  /// Progress and log lines.
  public var log: @Sendable (String) -> Void

  /// Creates a runner.
  public init(
    architecture: Architecture, weights: [String: TensorRecord], train: LabeledImages, test: LabeledImages,
    training: [Int], directive: FineTuneDirective, configuration: TrainingConfiguration, seeds: Int,
    directory: ExperimentDirectory, log: @escaping @Sendable (String) -> Void
  ) {
    self.architecture = architecture
    self.weights = weights
    self.train = train
    self.test = test
    self.training = training
    self.directive = directive
    self.configuration = configuration
    self.seeds = seeds
    self.directory = directory
    self.log = log
  }

  /// What the experiment did.
  public struct Result: Sendable {
    /// |R| (also the size of C2's and C3's removal sets).
    public var removed: Int
    /// Training images of classes a and b in D.
    public var pairImages: Int
    /// Optimiser steps of every arm.
    public var steps: Int
    /// Every (arm, seed), seed-major.
    public var outcomes: [ExperimentOutcome]
    /// How many were reused from an earlier run.
    public var reused: Int
  }

  /// Runs every arm for every seed, skipping finished ones.
  /// - Throws: `TrainingError` when a loss diverges or a result cannot be written.
  public func run() throws -> Result {
    let pair = directive.pair
    let candidates = ExperimentPlan.pairCandidates(training: training, labels: train.labels, pair: pair)
    let start = try freshNetwork()
    log("scoring \(candidates.count) training images of \(pair.map { train.classNames[$0] }.joined(separator: " / "))")
    let removed = RemovalSet.select(
      network: start, candidates: candidates, labels: candidates.map { train.labels[$0] }, directive: directive,
      batch: { Tensor(shape: [$0.count] + start.inputShape, scalars: train.batchFloats($0)) }
    ).removed.sorted()
    if removed.isEmpty { log("warning: R is empty (no image passes the directive's thresholds); arms coincide") }
    let highestLoss = ExperimentPlan.highestLoss(
      candidates: candidates, losses: ExperimentOutcome.losses(start, data: train, indices: candidates),
      count: removed.count)
    let plan = ExperimentPlan(
      training: training, batchSize: configuration.batchSize,
      dropsSingletonBatches: architecture.layers.contains { $0.kind == "batchnorm2d" })
    let steps = plan.curatedThenFull(removed: removed, seed: ExperimentPlan.dataOrderSeed(1)).steps
    log("|R| = \(removed.count) of \(candidates.count); \(steps) steps per arm; fresh optimiser per arm")

    var outcomes: [ExperimentOutcome] = []
    var reused = 0
    let pending = (1...seeds).reduce(0) { total, seed in
      total + ExperimentArm.allCases.filter { directory.finished($0, seed: seed) == nil }.count
    }
    var progress = ExperimentProgress(totalRuns: pending, stepsPerRun: steps, log: log)
    for seed in 1...seeds {
      for arm in ExperimentArm.allCases {
        if let done = directory.finished(arm, seed: seed) {
          log("\(arm.rawValue) seed \(seed): reusing \(directory.resultFile(arm, seed: seed).path)")
          outcomes.append(done)
          reused += 1
          continue
        }
        let armRemoved: [Int]
        switch arm {
        case .i2x: armRemoved = removed
        case .c1EqualCompute: armRemoved = []
        case .c2RandomRemoval:
          armRemoved = ExperimentPlan.randomRemoval(
            candidates: candidates, count: removed.count, seed: ExperimentPlan.removalSeed(seed))
        case .c3HighestLoss: armRemoved = highestLoss
        }
        let outcome = try runArm(
          arm, seed: seed, removed: armRemoved, directiveRemoved: removed, plan: plan, progress: &progress)
        guard outcome.steps == steps else {
          preconditionFailure("\(arm.rawValue) seed \(seed) took \(outcome.steps) steps, the i2x arm \(steps)")
        }
        try directory.record(outcome)
        outcomes.append(outcome)
      }
    }
    return Result(
      removed: removed.count, pairImages: candidates.count, steps: steps, outcomes: outcomes, reused: reused)
  }

  private func runArm(
    _ arm: ExperimentArm, seed: Int, removed: [Int], directiveRemoved: [Int], plan: ExperimentPlan,
    progress: inout ExperimentProgress
  ) throws -> ExperimentOutcome {
    let began = Date()
    let orderSeed = ExperimentPlan.dataOrderSeed(seed)
    // C1 removes nothing but takes as many steps as curated → full with the directive's R.
    let schedule = plan.schedule(arm, removed: arm == .c1EqualCompute ? directiveRemoved : removed, seed: orderSeed)
    let network = try freshNetwork()
    let loop = TrainingLoop(
      network: network, rule: try TrainingLoop.rule(for: configuration), batchSize: configuration.batchSize,
      replica: TrainingLoop.canSplitBatches(network) ? try freshNetwork() : nil)
    var lastLoss: Float = .nan
    progress.begin(arm: arm, seed: seed, of: seeds)
    try schedule.run(loop: loop, data: train) { index, loss in
      lastLoss = loss
      progress.stepFinished(index + 1, of: schedule.steps, loss: loss)
    }
    let measured = ExperimentOutcome.measure(network, test: test, pair: directive.pair)
    progress.runFinished()
    log(
      String(
        format: "%@ seed %d: accuracy %.4f, pair confusions %d, pair NLL %.4f", arm.rawValue, seed,
        measured.accuracy, measured.pairConfusions, measured.pairNLL))
    return ExperimentOutcome(
      arm: arm, seed: seed, dataOrderSeed: orderSeed, steps: schedule.steps, removed: removed.count,
      accuracy: measured.accuracy, pairConfusions: measured.pairConfusions, pairNLL: measured.pairNLL,
      lastLoss: Double(lastLoss), seconds: Date().timeIntervalSince(began))
  }

  /// A network with the start weights.
  private func freshNetwork() throws -> Network {
    let network = try architecture.build(seed: 0)
    try StateDict.load(weights, into: network)
    return network
  }
}

/// Throttled progress lines for the experiment: arm, seed, step, loss and ETAs.
struct ExperimentProgress {
  let totalRuns: Int
  let stepsPerRun: Int
  let log: @Sendable (String) -> Void
  private let start = Date()
  private var lastReport = Date.distantPast
  private var finishedSteps = 0
  private var label = ""

  init(totalRuns: Int, stepsPerRun: Int, log: @escaping @Sendable (String) -> Void) {
    self.totalRuns = totalRuns
    self.stepsPerRun = stepsPerRun
    self.log = log
  }

  mutating func begin(arm: ExperimentArm, seed: Int, of seeds: Int) {
    label = "\(arm.rawValue) seed \(seed)/\(seeds)"
  }

  mutating func stepFinished(_ step: Int, of steps: Int, loss: Float) {
    let now = Date()
    guard now.timeIntervalSince(lastReport) >= 1 || step == steps else { return }
    lastReport = now
    let done = finishedSteps + step
    let perStep = done > 0 ? now.timeIntervalSince(start) / Double(done) : 0
    log(
      String(
        format: "%@ step %d/%d loss %.4f ETA %.0fs (all runs %.0fs)", label, step, steps, loss,
        perStep * Double(steps - step), perStep * Double(totalRuns * stepsPerRun - done)))
  }

  mutating func runFinished() { finishedSteps += stepsPerRun }
}

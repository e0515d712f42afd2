import Foundation
import Prototypes

/// The experiment's report: per arm, mean ± std over seeds of each outcome and the paired
/// difference against C1 with its 95% bootstrap interval; as a table or versioned JSON.
public struct ExperimentReport: Encodable, Sendable {
  /// Version of this JSON layout.
  public static let schemaVersion = 2

  /// One arm's figures.
  public struct Arm: Encodable, Sendable {
    /// The arm's name.
    public var arm: ExperimentArm
    /// Images removed in the curated epoch.
    public var removed: Int
    /// Test accuracy over seeds.
    public var accuracy: ExperimentStatistics.Summary
    /// Test confusions of the pair over seeds.
    public var pairConfusions: ExperimentStatistics.Summary
    /// Pair NLL over seeds.
    public var pairNLL: ExperimentStatistics.Summary
    /// Paired differences against C1 (nil for C1 itself).
    public var versusC1: Differences?

    enum CodingKeys: String, CodingKey {
      case arm, removed, accuracy
      case pairConfusions = "pair_confusions"
      case pairNLL = "pair_nll"
      case versusC1 = "vs_c1"
    }
  }

  /// Arm − C1 per seed, for each outcome.
  public struct Differences: Encodable, Sendable {
    /// Accuracy difference.
    public var accuracy: ExperimentStatistics.PairedDifference
    /// Pair-confusion difference.
    public var pairConfusions: ExperimentStatistics.PairedDifference
    /// Pair-NLL difference.
    public var pairNLL: ExperimentStatistics.PairedDifference

    enum CodingKeys: String, CodingKey {
      case accuracy
      case pairConfusions = "pair_confusions"
      case pairNLL = "pair_nll"
    }
  }

  /// The directive, as far as the report needs it.
  public struct DirectiveSummary: Encodable, Sendable {
    /// Directive id.
    public var id: Int
    /// Run name.
    public var run: String
    /// `auto` or `manual`.
    public var source: String
    /// The pair (class indices).
    public var pair: [Int]
    /// The pair's class names.
    public var classNames: [String]
    /// Uncertain prototypes.
    public var prototypes: [Int]
    /// The step that raised it.
    public var step: Int

    enum CodingKeys: String, CodingKey {
      case id, run, source, pair, prototypes, step
      case classNames = "class_names"
    }
  }

  /// Version of this JSON layout.
  public var schemaVersion = Self.schemaVersion
  /// `finetune`.
  public var experiment = "finetune"
  /// Dataset name.
  public var dataset: String
  /// Architecture name.
  public var architecture: String
  /// Path of the start checkpoint.
  public var startCheckpoint: String
  /// Its step, when recorded.
  public var startStep: Int?
  /// The directive.
  public var directive: DirectiveSummary
  /// Where the splits came from.
  public var splits: String
  /// |D|.
  public var trainingImages: Int
  /// Images of classes a and b in D.
  public var pairTrainingImages: Int
  /// Test images.
  public var testImages: Int
  /// |R|.
  public var removed: Int
  /// Optimiser steps of every arm.
  public var steps: Int
  /// Images per step.
  public var batchSize: Int
  /// Learning rate.
  public var learningRate: Double
  /// SGD momentum.
  public var momentum: Double
  /// `sgd` or `adam`.
  public var optimizer: String
  /// Always `fresh optimiser per arm`.
  public var optimizerState = "fresh optimiser per arm"
  /// Seeds 1…N.
  public var seeds: Int
  /// Bootstrap settings.
  public var bootstrap = Bootstrap()
  /// Per-arm figures, in arm order.
  public var arms: [Arm]
  /// Every (arm, seed) result.
  public var results: [ExperimentOutcome]

  /// Resamples, confidence and seed of the intervals.
  public struct Bootstrap: Encodable, Sendable {
    /// Resamples per interval.
    public var resamples = ExperimentStatistics.resamples
    /// Confidence level.
    public var confidence = ExperimentStatistics.confidence
    /// SplitMix64 seed.
    public var seed = ExperimentStatistics.bootstrapSeed
    /// What is resampled.
    public var method = "percentile of the resampled mean of paired differences (arm − c1)"
  }

  enum CodingKeys: String, CodingKey {
    case experiment, dataset, architecture, directive, splits, removed, steps, momentum, optimizer, seeds, bootstrap
    case arms, results
    case schemaVersion = "schema_version"
    case startCheckpoint = "start_checkpoint"
    case startStep = "start_step"
    case trainingImages = "training_images"
    case pairTrainingImages = "pair_training_images"
    case testImages = "test_images"
    case batchSize = "batch_size"
    case learningRate = "learning_rate"
    case optimizerState = "optimizer_state"
  }

  /// The per-arm statistics of `outcomes` (every arm must have the same seeds).
  public static func arms(_ outcomes: [ExperimentOutcome]) -> [Arm] {
    func values(_ arm: ExperimentArm, _ metric: (ExperimentOutcome) -> Double) -> [Double] {
      outcomes.filter { $0.arm == arm }.sorted { $0.seed < $1.seed }.map(metric)
    }
    let metrics: [(ExperimentOutcome) -> Double] = [{ $0.accuracy }, { Double($0.pairConfusions) }, { $0.pairNLL }]
    let control = metrics.map { values(ExperimentArm.control, $0) }
    return ExperimentArm.allCases.map { arm in
      let own = metrics.map { values(arm, $0) }
      let differences =
        arm == ExperimentArm.control
        ? nil
        : Differences(
          accuracy: ExperimentStatistics.paired(own[0], minus: control[0]),
          pairConfusions: ExperimentStatistics.paired(own[1], minus: control[1]),
          pairNLL: ExperimentStatistics.paired(own[2], minus: control[2]))
      return Arm(
        arm: arm, removed: outcomes.first { $0.arm == arm }?.removed ?? 0,
        accuracy: ExperimentStatistics.summary(own[0]), pairConfusions: ExperimentStatistics.summary(own[1]),
        pairNLL: ExperimentStatistics.summary(own[2]), versusC1: differences)
    }
  }

  /// Key-sorted JSON.
  public func json() throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(self), as: UTF8.self)
  }

  /// The human table.
  public func table() -> String {
    let names = directive.classNames.joined(separator: " / ")
    var lines = [
      "fine-tune experiment on \(dataset) (\(architecture)), start \(startCheckpoint)"
        + (startStep.map { " (step \($0))" } ?? ""),
      "directive \(directive.id) of run '\(directive.run)': pair \(names), prototypes "
        + directive.prototypes.map(String.init).joined(separator: ","),
      "|R| = \(removed) of \(pairTrainingImages) training images of the pair (|D| = \(trainingImages)); "
        + "\(steps) steps per arm, batch \(batchSize), \(optimizer) lr \(learningRate), momentum \(momentum); "
        + "\(optimizerState); \(seeds) seeds",
      "",
      "arm                 accuracy (mean ± std)   pair confusions        pair NLL",
    ]
    for arm in arms {
      lines.append(
        String(
          format: "%@ %.4f ± %.4f        %7.1f ± %-7.1f      %.4f ± %.4f", Self.padded(arm.arm), arm.accuracy.mean,
          arm.accuracy.std, arm.pairConfusions.mean, arm.pairConfusions.std, arm.pairNLL.mean,
          arm.pairNLL.std))
    }
    lines += ["", "paired difference vs \(ExperimentArm.control.rawValue), per seed arm − c1: mean [95% bootstrap CI]"]
    for arm in arms {
      guard let d = arm.versusC1 else { continue }
      lines.append(
        String(
          format: "%@ accuracy %+.4f [%+.4f, %+.4f]  confusions %+.1f [%+.1f, %+.1f]  NLL %+.4f [%+.4f, %+.4f]",
          Self.padded(arm.arm), d.accuracy.meanDifference, d.accuracy.ciLower, d.accuracy.ciUpper,
          d.pairConfusions.meanDifference, d.pairConfusions.ciLower, d.pairConfusions.ciUpper,
          d.pairNLL.meanDifference, d.pairNLL.ciLower, d.pairNLL.ciUpper))
    }
    return lines.joined(separator: "\n")
  }

  private static func padded(_ arm: ExperimentArm) -> String {
    arm.rawValue.padding(toLength: 19, withPad: " ", startingAt: 0)
  }
}

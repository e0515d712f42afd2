import CLI
import Checkpoints
import Foundation

/// What a fine-tune experiment's results depend on, kept as `OUT/settings.json`: a rerun with
/// the same `--out` reuses finished (arm, seed) results only when these agree. The number of
/// seeds is not part of it: raising `--seeds` reuses the seeds already done.
public struct ExperimentSettings: Codable, Sendable, Equatable {
  /// Format version of `settings.json`.
  public var schemaVersion = 1
  /// Dataset name.
  public var dataset: String
  /// Architecture name.
  public var architecture: String
  /// SHA-256 of the start checkpoint file.
  public var startCheckpointSHA256: String
  /// SHA-256 of the directive's compact JSON.
  public var directiveSHA256: String
  /// Where the splits came from (`splits.json` or `seed <s>`).
  public var splits: String
  /// Images in D.
  public var trainingImages: Int
  /// Images per step.
  public var batchSize: Int
  /// Learning rate.
  public var learningRate: Double
  /// SGD momentum.
  public var momentum: Double
  /// `sgd` or `adam`.
  public var optimizer: String

  enum CodingKeys: String, CodingKey {
    case dataset, architecture, splits, momentum, optimizer
    case schemaVersion = "schema_version"
    case startCheckpointSHA256 = "start_checkpoint_sha256"
    case directiveSHA256 = "directive_sha256"
    case trainingImages = "training_images"
    case batchSize = "batch_size"
    case learningRate = "learning_rate"
  }

  /// The names of the settings that differ from `other` (snake_case keys).
  public func differences(from other: ExperimentSettings) -> [String] {
    var names: [String] = []
    if schemaVersion != other.schemaVersion { names.append("schema_version") }
    if dataset != other.dataset { names.append("dataset") }
    if architecture != other.architecture { names.append("architecture") }
    if startCheckpointSHA256 != other.startCheckpointSHA256 { names.append("start checkpoint") }
    if directiveSHA256 != other.directiveSHA256 { names.append("directive") }
    if splits != other.splits || trainingImages != other.trainingImages { names.append("splits") }
    if batchSize != other.batchSize { names.append("batch") }
    if learningRate != other.learningRate { names.append("lr") }
    if momentum != other.momentum { names.append("momentum") }
    if optimizer != other.optimizer { names.append("optimizer") }
    return names
  }
}

/// The experiment's output directory: `settings.json`, `results/<arm>-<seed>.json` (one per
/// finished run, written atomically) and `experiment.json`.
public struct ExperimentDirectory: Sendable {
  /// `OUT`.
  public var url: URL

  /// Creates the directory (and `results/`) and records or checks the settings.
  /// - Throws: `UsageError` when `OUT/settings.json` holds different settings (a rerun must
  ///   use the same ones, or another `--out`); `TrainingError` (65) for an unreadable one;
  ///   `SafetensorsError` (74) when the files cannot be written.
  public init(url: URL, settings: ExperimentSettings) throws {
    self.url = url
    do {
      try FileManager.default.createDirectory(at: results, withIntermediateDirectories: true)
    } catch {
      throw TrainingError("cannot create \(results.path): \(error)", exitCode: .cannotCreate)
    }
    let file = url.appendingPathComponent("settings.json")
    if let data = FileManager.default.contents(atPath: file.path) {
      guard let recorded = try? JSONDecoder().decode(ExperimentSettings.self, from: data) else {
        throw TrainingError("\(file.path) is not an experiment settings file; remove it or use another --out")
      }
      let differences = settings.differences(from: recorded)
      guard differences.isEmpty else {
        throw UsageError(
          "\(url.path) holds results of an experiment with other settings (\(differences.joined(separator: ", ")) differ)",
          hint: "rerun with the same settings to resume, or pass a new --out")
      }
    } else {
      try Self.write(settings, to: file)
    }
  }

  /// `OUT/results`.
  public var results: URL { url.appendingPathComponent("results") }

  /// The file of one (arm, seed).
  public func resultFile(_ arm: ExperimentArm, seed: Int) -> URL {
    results.appendingPathComponent("\(arm.rawValue)-\(seed).json")
  }

  /// A finished result, if one was written (an unreadable file counts as not finished).
  public func finished(_ arm: ExperimentArm, seed: Int) -> ExperimentOutcome? {
    guard let data = FileManager.default.contents(atPath: resultFile(arm, seed: seed).path),
      let outcome = try? JSONDecoder().decode(ExperimentOutcome.self, from: data),
      outcome.arm == arm && outcome.seed == seed
    else { return nil }
    return outcome
  }

  /// Records a finished result atomically.
  public func record(_ outcome: ExperimentOutcome) throws {
    try Self.write(outcome, to: resultFile(outcome.arm, seed: outcome.seed))
  }

  /// Sorted-key JSON, written atomically.
  static func write<Value: Encodable>(_ value: Value, to url: URL) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    try AtomicFile.write([UInt8](try encoder.encode(value)), to: url)
  }
}

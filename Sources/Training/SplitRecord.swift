import Datasets
import Foundation

/// The run's data splits, recorded next to its checkpoints (`splits.json`) so the held-out
/// probe and generator images can be identified later.
struct SplitRecord: Codable {
  var dataset: String
  var seed: UInt64
  var train: Int
  var validation: [Int]
  var probe: [Int]
  var generator: [Int]

  init(configuration: TrainingConfiguration, splits: DatasetSplits) {
    dataset = configuration.dataset
    seed = configuration.seed
    train = splits.train.count
    validation = splits.validation
    probe = splits.probe
    generator = splits.generator
  }

  func write(to url: URL) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    try encoder.encode(self).write(to: url, options: .atomic)
  }
}

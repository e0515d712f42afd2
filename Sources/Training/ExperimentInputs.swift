import CLI
import Checkpoints
import Datasets
import Engine
import Foundation
import Models
import Prototypes

/// The experiment's start: the checkpoint's weights (without any optimiser state), the
/// dataset and the run's splits — the same seeded `DatasetSplits` as training, read from the
/// `splits.json` beside the checkpoint when there is one.
struct ExperimentInputs {
  var url: URL
  var dataset: String
  var architecture: Architecture
  /// The network's tensors from the checkpoint.
  var weights: [String: TensorRecord]
  /// Tensors of the checkpoint that are not weights (optimiser state): never loaded.
  var ignoredTensors: [String]
  var sha256: String
  var step: Int?
  var runName: String?
  var train: LabeledImages
  var test: LabeledImages
  /// D.
  var training: [Int]
  var probe: [Int]
  /// `splits.json` or `seed <s>`.
  var splitSource: String

  /// Loads `--start`, `--arch`, `--dataset`, `--data-dir` and `--seed`.
  /// - Throws: `TrainingError` 66 for missing files, 65 for malformed ones; `UsageError` when
  ///   `--arch` disagrees with the checkpoint or the dataset does not fit it.
  static func load(_ options: ParsedOptions) throws -> ExperimentInputs {
    let path = try options.requiredString("start")
    let url = URL(fileURLWithPath: path)
    guard let bytes = FileManager.default.contents(atPath: url.path) else {
      throw TrainingError("start checkpoint \(path) does not exist", exitCode: .noInput)
    }
    let file: SafetensorsFile
    do { file = try SafetensorsFile(bytes: [UInt8](bytes)) } catch { throw TrainingError("\(path): \(error)") }
    let name = try options.requiredString("arch")
    let architecture: Architecture
    if let json = file.metadata[ModelCheckpoint.architectureKey] {
      do { architecture = try Architecture(json: json) } catch { throw TrainingError("\(path): \(error)") }
      guard architecture.name == name else {
        throw UsageError(
          "--arch \(name) but \(path) holds a '\(architecture.name)' network", hint: "pass --arch \(architecture.name)")
      }
    } else {
      guard let reference = Architecture.reference(name) else {
        throw UsageError(
          "unknown architecture '\(name)'; built-in: \(Architecture.referenceNames.joined(separator: ", "))")
      }
      architecture = reference
    }
    let expected = Set(StateDict.export(try architecture.build(seed: 0)).keys)
    let weights = file.tensors.filter { expected.contains($0.key) }
    let probeNetwork = try architecture.build(seed: 0)
    do { try StateDict.load(weights, into: probeNetwork) } catch { throw TrainingError("\(path): \(error)") }
    let metadata = CheckpointMetadata(file.metadata)

    let dataset = try options.requiredString("dataset")
    let splitsURL = url.deletingLastPathComponent().appendingPathComponent("splits.json")
    let record = try FileManager.default.contents(atPath: splitsURL.path).map { data in
      do { return try JSONDecoder().decode(SplitRecord.self, from: data) } catch {
        throw TrainingError("\(splitsURL.path) is not a splits record: \(error)")
      }
    }
    if let record, record.dataset != dataset {
      throw UsageError("\(splitsURL.path) records dataset '\(record.dataset)', not '\(dataset)'")
    }
    let seed = try record?.seed ?? UInt64(options.int("seed", minimum: 0) ?? 1)
    let data = try DatasetCatalog.load(
      name: dataset, dataDirectory: options.string("data-dir").map { URL(fileURLWithPath: $0) }, seed: seed,
      classNamesFile: options.string("class-names").map { URL(fileURLWithPath: $0) })
    guard [data.train.channels, data.train.height, data.train.width] == architecture.input,
      data.train.classNames.count == architecture.classes
    else {
      throw UsageError(
        "dataset '\(dataset)' (\(data.train.channels)×\(data.train.height)×\(data.train.width), \(data.train.classNames.count) classes) does not fit '\(architecture.name)'"
      )
    }
    let training: [Int]
    let probe: [Int]
    let source: String
    if let record {
      let held = Set(record.validation + record.probe + record.generator)
      training = (0..<data.train.count).filter { !held.contains($0) }
      probe = record.probe
      source = "splits.json (seed \(record.seed))"
      guard training.count == record.train, held.allSatisfy({ $0 >= 0 && $0 < data.train.count }) else {
        throw TrainingError("\(splitsURL.path) does not fit \(dataset): it records \(record.train) training images")
      }
    } else {
      let defaults = TrainingConfiguration()
      let splits = DatasetSplits.make(
        labels: data.train.labels, classes: data.train.classNames.count, validation: defaults.validationSize,
        probePerClass: defaults.probePerClass, generator: defaults.generatorSize, seed: seed)
      training = splits.train.sorted()
      probe = splits.probe
      source = "seed \(seed) (default split sizes)"
    }
    guard training.count >= 2 else {
      throw TrainingError(
        "only \(training.count) training images in the splits (\(source)); train with i2x-train train")
    }
    return ExperimentInputs(
      url: url, dataset: dataset, architecture: architecture, weights: weights,
      ignoredTensors: file.tensors.keys.filter { !expected.contains($0) }.sorted(), sha256: SHA256.hex(bytes),
      step: metadata.step, runName: metadata.run, train: data.train, test: data.test, training: training,
      probe: probe, splitSource: source)
  }

  /// A network with the start weights.
  func network() throws -> Network {
    let network = try architecture.build(seed: 0)
    try StateDict.load(weights, into: network)
    return network
  }

  /// Checks that `directive` fits this dataset and network.
  /// - Throws: `TrainingError` 65 naming what does not fit.
  func check(_ directive: FineTuneDirective) throws {
    guard directive.pair.allSatisfy({ $0 < train.classNames.count }) else {
      throw TrainingError(
        "the directive's pair \(directive.pair) is outside the dataset's \(train.classNames.count) classes")
    }
    let network = try network()
    let one = Tensor(shape: [1] + network.inputShape, scalars: train.batchFloats([training[0]]))
    let channels = network.forward(one, training: false, capture: network.targetLayerIndex).captured.shape[1]
    guard directive.vocabulary.dimension == channels else {
      throw TrainingError(
        "the directive's vocabulary has \(directive.vocabulary.dimension) channels, the network's target layer \(channels); was it made for another architecture?"
      )
    }
  }
}

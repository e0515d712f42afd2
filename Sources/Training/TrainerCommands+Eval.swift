import CLI
import Checkpoints
import Datasets
import Foundation
import Models

extension TrainerCommands {
  static let evalSpec = CommandSpec(
    name: "i2x-train eval", abstract: "Accuracy, per-class accuracy and confusion matrix of a checkpoint.",
    options: [.value("checkpoint", "FILE", "Checkpoint (.safetensors).", required: true)] + datasetOptions + [
      .value("split", "NAME", "test (the dataset's test set) or train.", default: "test"),
      .value("arch", "NAME", "Architecture for checkpoints without i2x metadata (e.g. PyTorch exports)."),
      .flag("json", "Print JSON instead of tables."),
    ])

  static func evaluate(_ arguments: [String], out: @Sendable (String) -> Void, log: @Sendable (String) -> Void) throws
    -> ExitCode
  {
    let options = try ParsedOptions(arguments, spec: evalSpec)
    let checkpoint = try loadCheckpoint(options)
    let split = try options.choice("split", in: ["test", "train"]) ?? "test"
    let data = try DatasetCatalog.load(
      name: try options.requiredString("dataset"),
      dataDirectory: options.string("data-dir").map { URL(fileURLWithPath: $0) },
      seed: 1, classNamesFile: options.string("class-names").map { URL(fileURLWithPath: $0) })
    let images = split == "test" ? data.test : data.train
    guard [images.channels, images.height, images.width] == checkpoint.architecture.input,
      images.classNames.count == checkpoint.architecture.classes
    else {
      throw TrainingError(
        "dataset images (\(images.channels)×\(images.height)×\(images.width), \(images.classNames.count) classes) do not fit '\(checkpoint.architecture.name)'",
        exitCode: .usage)
    }
    log("evaluating \(images.count) \(split) images")
    let result = Evaluation.run(checkpoint.network, on: images)
    out(options.flag("json") ? try EvaluationReport.json(result) : EvaluationReport.table(result))
    return .success
  }

  /// Loads `--checkpoint` with the optional `--arch` override; missing files exit 66.
  static func loadCheckpoint(_ options: ParsedOptions) throws -> ModelCheckpoint {
    let path = try options.requiredString("checkpoint")
    guard FileManager.default.fileExists(atPath: path) else {
      throw TrainingError("checkpoint \(path) does not exist", exitCode: .noInput)
    }
    do {
      return try ModelCheckpoint(contentsOf: URL(fileURLWithPath: path), architectureName: options.string("arch"))
    } catch let error as ModelCheckpointError {
      throw TrainingError("\(path): \(error)", exitCode: .usage)
    } catch {
      throw TrainingError("\(path): \(error)")
    }
  }
}

/// Human and JSON renderings of an `Evaluation`.
enum EvaluationReport {
  static let schemaVersion = TrainerCommands.schemaVersion

  static func table(_ e: Evaluation) -> String {
    var lines = [
      String(format: "accuracy %.4f on %d images (loss %.4f)", e.accuracy, e.count, e.loss), "", "per class:",
    ]
    for (c, name) in e.classNames.enumerated() {
      lines.append(String(format: "  %2d %-14@ %.4f", c, name as NSString, e.perClassAccuracy[c]))
    }
    lines += ["", "confusion (rows: true, columns: predicted):"]
    lines.append("     " + e.classNames.indices.map { String(format: "%5d", $0) }.joined())
    for (c, row) in e.confusion.enumerated() {
      lines.append(String(format: "  %2d ", c) + row.map { String(format: "%5d", $0) }.joined())
    }
    return lines.joined(separator: "\n")
  }

  static func json(_ e: Evaluation) throws -> String {
    let object: [String: Any] = [
      "schema_version": schemaVersion, "accuracy": e.accuracy, "count": e.count, "loss": e.loss,
      "classes": e.classNames, "per_class_accuracy": e.perClassAccuracy, "confusion": e.confusion,
    ]
    return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
  }
}

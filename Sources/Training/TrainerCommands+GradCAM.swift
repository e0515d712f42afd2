import CLI
import Checkpoints
import Datasets
import Foundation
import Models

extension TrainerCommands {
  static let gradcamSpec = CommandSpec(
    name: "i2x-train gradcam", abstract: "GradCAM maps for the images of a safetensors file.",
    options: [
      .value("checkpoint", "FILE", "Checkpoint (.safetensors).", required: true),
      .value("images", "FILE", "Safetensors with 'images' F32 [N,C,H,W] (and 'labels' I64 [N]).", required: true),
      .value("target", "WHICH", "label, predicted or a class index.", default: "predicted"),
      .value("out", "FILE", "Output safetensors: cam [N,h,w], cam_upsampled [N,H,W], logits [N,K].", required: true),
      .value("arch", "NAME", "Architecture for checkpoints without i2x metadata."),
    ])

  static func gradcam(_ arguments: [String], out: @Sendable (String) -> Void, log: @Sendable (String) -> Void) throws
    -> ExitCode
  {
    let options = try ParsedOptions(arguments, spec: gradcamSpec)
    let checkpoint = try loadCheckpoint(options)
    let imagesPath = try options.requiredString("images")
    guard FileManager.default.fileExists(atPath: imagesPath) else {
      throw TrainingError("images file \(imagesPath) does not exist", exitCode: .noInput)
    }
    let images = try SafetensorsFile(contentsOf: URL(fileURLWithPath: imagesPath))
    let result = try GradCAMJob(target: try options.requiredString("target")).run(
      checkpoint: checkpoint, images: images)
    let output = URL(fileURLWithPath: try options.requiredString("out"))
    try result.write(to: output)
    let count = result.tensors["logits"]?.shape.first ?? 0
    out("wrote GradCAM maps for \(count) images to \(output.path)")
    return .success
  }

  static let sampleSpec = CommandSpec(
    name: "i2x-train sample",
    abstract: "Write dataset images as a safetensors images file, or draw samples from a generator.",
    options: datasetOptions + [
      .value("split", "NAME", "test or train.", default: "test"),
      .value("count", "N", "Number of images (the first N of the split; with --generator, samples).", default: "16"),
      .value("out", "FILE", "Output: images F32 [N,C,H,W] (pixel/255), labels I64 [N]."),
      .value("generator", "FILE", "Draw unguided samples from this generator instead of reading the dataset."),
      .value("png", "DIR", "With --generator: write the samples as DIR/samples.png (a grid)."),
      .value("oracle", "FILE", "With --generator: also print the Fréchet distance in this oracle's features (JSON)."),
      .value("seed", "S", "With --generator: seed of the starting noise.", default: "1"),
    ],
    discussion: """
      With --generator and --oracle, the sample quality is one number: the Fréchet distance in the
      oracle's penultimate features between 1,000 unguided samples and 1,000 generator-split images,
      printed next to the distance between two disjoint sets of 1,000 real generator-split images.
      """)

  static func sample(_ arguments: [String], out: @Sendable (String) -> Void, log: @Sendable (String) -> Void) throws
    -> ExitCode
  {
    let options = try ParsedOptions(arguments, spec: sampleSpec)
    if options.string("generator") != nil { return try sampleGenerator(options, out: out, log: log) }
    guard options.string("out") != nil else {
      throw UsageError("i2x-train sample needs --out FILE (or --generator FILE)", hint: sampleSpec.hint)
    }
    let data = try DatasetCatalog.load(
      name: try options.requiredString("dataset"),
      dataDirectory: options.string("data-dir").map { URL(fileURLWithPath: $0) },
      seed: 1, classNamesFile: options.string("class-names").map { URL(fileURLWithPath: $0) })
    let set = (try options.choice("split", in: ["test", "train"]) ?? "test") == "test" ? data.test : data.train
    let count = min(try options.int("count", minimum: 1) ?? 16, set.count)
    let indices = Array(0..<count)
    let file = SafetensorsFile(
      tensors: [
        "images": TensorRecord(floats: set.batchFloats(indices), shape: [count, set.channels, set.height, set.width]),
        "labels": TensorRecord(int64s: indices.map { Int64(set.labels[$0]) }, shape: [count]),
      ],
      metadata: ["i2x.classes": set.classNames.joined(separator: "\n")])
    let output = URL(fileURLWithPath: try options.requiredString("out"))
    try file.write(to: output)
    out("wrote \(count) images to \(output.path)")
    return .success
  }
}

import CLI
import Checkpoints
import Datasets
import Engine
import Explainer
import Foundation
import Imaging
import Models

extension TrainerCommands {
  static let generatorSpec = CommandSpec(
    name: "i2x-train generator",
    abstract: "Train the explainer's generative prior (VAE + latent DDPM) on the held-out generator split.",
    options: datasetOptions + [
      .value(
        "split", "NAME", "The split to train on; only 'generator' (disjoint from the classifier's data).",
        default: "generator"),
      .value(
        "seed", "S", "Seed of the dataset split (the classifier run's --seed) and of the generator.", default: "1"),
      .value("validation-size", "N", "As for i2x-train train (defines the split).", default: "5000"),
      .value("probe-per-class", "N", "As for i2x-train train (defines the split).", default: "100"),
      .value("generator-size", "N", "As for i2x-train train (defines the split).", default: "5000"),
      .value("vae-epochs", "N", "VAE epochs.", default: "30"),
      .value("denoiser-steps", "N", "Noise-predictor optimiser steps (batch 256).", default: "20000"),
      .value("width", "N", "Channels of the VAE's first convolution (the second has twice as many).", default: "32"),
      .value("hidden", "N", "Width of the noise predictor's hidden layers.", default: "256"),
      .value("out", "FILE", "Output generator file (.safetensors).", required: true),
      .value(
        "add-concepts", "FILE",
        "Instead of training: add the 64-concept codebook to an existing generator FILE (written to --out)."),
    ],
    discussion: """
      The split is made exactly as i2x-train train makes it for the same dataset, --seed and split
      sizes, so the prior never sees the classifier's training, validation or probe images. The
      file records the dataset, the image shape, the seed and a SHA-256 of the split's indices;
      i2xd --generator checks them against each run.
      """)

  static func generator(
    _ arguments: [String], out: @Sendable (String) -> Void, log: @escaping @Sendable (String) -> Void
  )
    throws -> ExitCode
  {
    let options = try ParsedOptions(arguments, spec: generatorSpec)
    _ = try options.choice("split", in: ["generator"])
    if options.string("add-concepts") != nil { return try addConcepts(options, out: out, log: log) }
    let dataset = try options.requiredString("dataset")
    let seed = UInt64(try options.int("seed", minimum: 0) ?? 1)
    let data = try DatasetCatalog.load(
      name: dataset, dataDirectory: options.string("data-dir").map { URL(fileURLWithPath: $0) }, seed: seed)
    let train = data.train
    let splits = DatasetSplits.make(
      labels: train.labels, classes: train.classNames.count,
      validation: try options.int("validation-size", minimum: 0) ?? 5000,
      probePerClass: try options.int("probe-per-class", minimum: 0) ?? 100,
      generator: try options.int("generator-size", minimum: 0) ?? 5000, seed: seed)
    guard splits.generator.count >= 100 else {
      throw TrainingError(
        "the generator split has \(splits.generator.count) images; raise --generator-size (at least 100)",
        exitCode: .usage)
    }
    let image = [train.channels, train.height, train.width]
    guard image[1] % 4 == 0, image[2] % 4 == 0 else {
      throw TrainingError(
        "images of \(image) cannot be halved twice; the VAE needs H and W divisible by 4", exitCode: .usage)
    }
    var settings = GeneratorTraining.Settings()
    settings.vaeEpochs = try options.int("vae-epochs", minimum: 1) ?? settings.vaeEpochs
    settings.denoiserSteps = try options.int("denoiser-steps", minimum: 1) ?? settings.denoiserSteps
    let split = GeneratorDescription.Split(
      name: "generator", count: splits.generator.count, sha256: GenerativePrior.splitHash(splits.generator), seed: seed)
    let description = GeneratorDescription.standard(
      dataset: dataset, image: image, seed: seed, split: split, width: try options.int("width", minimum: 1) ?? 32,
      hidden: try options.int("hidden", minimum: 1) ?? 256)
    let prior = try GenerativePrior(description: description, splitIndices: splits.generator)
    log(
      "training the generator on \(splits.generator.count) \(dataset) images of the generator split: VAE (latent \(prior.latent)) for \(settings.vaeEpochs) epochs, then the latent DDPM for \(settings.denoiserSteps) steps"
    )
    let images = Tensor(shape: [splits.generator.count] + image, scalars: train.batchFloats(splits.generator))
    let outcome = GeneratorTraining(prior: prior, settings: settings, log: log).run(images: images)
    let output = URL(fileURLWithPath: try options.requiredString("out"))
    try prior.write(to: output)
    out(
      String(
        format: "wrote %@: VAE loss %.2f per image (KL %.2f) in %.1f s (%.0f images/s), denoiser mse %.4f in %.1f s",
        output.path as NSString, outcome.vaeLoss, outcome.vaeKL, outcome.vaeSeconds, outcome.vaeImagesPerSecond,
        outcome.denoiserLoss, outcome.denoiserSeconds))
    return .success
  }

  /// `--add-concepts FILE`: the codebook for a generator trained before concepts existed, from
  /// the images of its own split (the dataset and indices the file records).
  static func addConcepts(
    _ options: ParsedOptions, out: @Sendable (String) -> Void, log: @escaping @Sendable (String) -> Void
  )
    throws -> ExitCode
  {
    let prior = try loadGenerator(options, name: "add-concepts")
    let data = try DatasetCatalog.load(
      name: prior.description.dataset, dataDirectory: options.string("data-dir").map { URL(fileURLWithPath: $0) },
      seed: prior.description.split.seed)
    guard prior.splitIndices.allSatisfy({ $0 < data.train.count }) else {
      throw TrainingError(
        "the generator's split does not fit dataset '\(prior.description.dataset)'", exitCode: .dataError)
    }
    let images = Tensor(
      shape: [prior.splitIndices.count] + prior.image, scalars: data.train.batchFloats(prior.splitIndices))
    GeneratorTraining(prior: prior, settings: .init(), log: log).fitConcepts(images)
    let output = URL(fileURLWithPath: try options.requiredString("out"))
    try prior.write(to: output)
    out("wrote \(output.path) with \(prior.conceptCount) concepts")
    return .success
  }

  /// Loads `--generator FILE` (missing file: exit 66; not a generator: exit 65).
  static func loadGenerator(_ options: ParsedOptions, name: String = "generator") throws -> GenerativePrior {
    let path = try options.requiredString(name)
    guard FileManager.default.fileExists(atPath: path) else {
      throw TrainingError("generator \(path) does not exist; make one with i2x-train generator", exitCode: .noInput)
    }
    do {
      return try GenerativePrior(contentsOf: URL(fileURLWithPath: path))
    } catch {
      throw TrainingError("\(error)", exitCode: .dataError)
    }
  }

  /// Unguided samples of a generator as a PNG grid, and with --oracle the Fréchet distance
  /// between 1,000 samples and 1,000 generator-split images in the oracle's penultimate
  /// features, next to the distance between two disjoint halves of real data.
  static func sampleGenerator(
    _ options: ParsedOptions, out: @Sendable (String) -> Void, log: @Sendable (String) -> Void
  )
    throws -> ExitCode
  {
    let prior = try loadGenerator(options)
    let count = try options.int("count", minimum: 1) ?? 64
    let seed = UInt64(try options.int("seed", minimum: 0) ?? 1)
    let sampler = DDIMSampler(prior: prior)
    let images = sampler.sample(count: count, seed: seed).images
    if let directory = options.string("png") {
      let url = URL(fileURLWithPath: directory)
      try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
      let grid = ImageGrid(
        values: images.scalars, count: count, channels: prior.image[0], height: prior.image[1], width: prior.image[2],
        columns: 8, scale: 3)
      let file = url.appendingPathComponent("samples.png")
      try grid.image().write(to: file)
      out("wrote \(count) unguided samples to \(file.path)")
    }
    guard options.string("oracle") != nil else { return .success }
    let oracle = try loadCheckpoint(options, name: "oracle")
    let data = try DatasetCatalog.load(
      name: prior.description.dataset, dataDirectory: options.string("data-dir").map { URL(fileURLWithPath: $0) },
      seed: prior.description.split.seed)
    let quality = try SampleQuality.measure(prior: prior, oracle: oracle.network, real: data.train, log: log)
    out(try SampleQuality.json(quality))
    return .success
  }

  /// Loads a classifier checkpoint from option `name` (missing: 66, invalid: 64).
  static func loadCheckpoint(_ options: ParsedOptions, name: String) throws -> ModelCheckpoint {
    let path = try options.requiredString(name)
    guard FileManager.default.fileExists(atPath: path) else {
      throw TrainingError("\(name) checkpoint \(path) does not exist", exitCode: .noInput)
    }
    do {
      return try ModelCheckpoint(contentsOf: URL(fileURLWithPath: path), architectureName: nil)
    } catch {
      throw TrainingError("\(path): \(error)", exitCode: .dataError)
    }
  }
}

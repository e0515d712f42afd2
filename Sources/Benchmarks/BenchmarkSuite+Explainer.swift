import Datasets
import Engine
import Explainer
import Foundation
import Models
import Training

extension BenchmarkSuite {
  /// The explainer benchmarks' data: Fashion-MNIST (--quick: the synthetic set with smaller
  /// validation, probe and generator splits), the trainer's splits of it, and the image shape.
  func explainerData() throws -> (
    dataset: String, base: TrainingConfiguration, data: (train: LabeledImages, test: LabeledImages),
    splits: DatasetSplits, image: [Int]
  ) {
    let dataset = quick ? "synthetic" : "fashion-mnist"
    var base = TrainingConfiguration()
    base.dataset = dataset
    if quick {
      base.validationSize = 200
      base.probePerClass = 10
      base.generatorSize = 400
    }
    let data = try DatasetCatalog.load(name: dataset, dataDirectory: nil, seed: base.seed)
    let splits = DatasetSplits.make(
      labels: data.train.labels, classes: data.train.classNames.count, validation: base.validationSize,
      probePerClass: base.probePerClass, generator: base.generatorSize, seed: base.seed)
    let image = [data.train.channels, data.train.height, data.train.width]
    return (dataset, base, data, splits, image)
  }

  /// The data-free explainer (DESIGN §8): the generator's training time and throughput on
  /// Fashion-MNIST's generator split (5,000 images, the default settings; --quick: the
  /// synthetic set with a reduced generator), seconds per guided sample (batch 100, 50 DDIM
  /// steps, smallcnn-bn), and one class's explanation (100 samples, scores, sanity check) with a
  /// classifier trained for one epoch and an oracle trained on the generator split; then the
  /// null of the sanity check, one concept search and ten counterfactuals with their timings.
  func explainer(_ emit: (String) -> Void) throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "i2x-bench-explainer-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: directory) }
    let (dataset, base, data, splits, image) = try explainerData()
    let description = GeneratorDescription.standard(
      dataset: dataset, image: image, seed: base.seed,
      split: .init(
        name: "generator", count: splits.generator.count, sha256: GenerativePrior.splitHash(splits.generator),
        seed: base.seed))
    let prior = try GenerativePrior(description: description, splitIndices: splits.generator)
    var settings = GeneratorTraining.Settings()
    if quick {
      settings.vaeEpochs = 2
      settings.denoiserSteps = 500
    }
    let images = Tensor(shape: [splits.generator.count] + image, scalars: data.train.batchFloats(splits.generator))
    let outcome = GeneratorTraining(prior: prior, settings: settings, log: { _ in }).run(images: images)
    emit(
      line([
        "figure": "generator_training", "dataset": dataset, "images": splits.generator.count,
        "vae_epochs": settings.vaeEpochs, "denoiser_steps": settings.denoiserSteps, "vae_seconds": outcome.vaeSeconds,
        "denoiser_seconds": outcome.denoiserSeconds, "seconds": outcome.vaeSeconds + outcome.denoiserSeconds,
        "vae_images_per_second": outcome.vaeImagesPerSecond,
        "denoiser_samples_per_second": Double(settings.denoiserSteps * settings.denoiserBatch)
          / max(outcome.denoiserSeconds, 1e-9),
        "vae_loss": outcome.vaeLoss, "denoiser_mse": outcome.denoiserLoss,
      ]))

    // The classifier to explain and the oracle, trained by the trainer's own job.
    func trained(_ name: String, _ change: (inout TrainingConfiguration) -> Void) throws -> ModelCheckpoint {
      var c = base
      c.architecture = "smallcnn-bn"
      c.outputDirectory = directory.appendingPathComponent(name)
      change(&c)
      let summary = try TrainingJob(configuration: c, log: { _ in }).run()
      guard let last = summary.checkpoints.last else { throw TrainingError("the \(name) run wrote no checkpoint") }
      return try ModelCheckpoint(contentsOf: last, architectureName: nil)
    }
    let classifier = try trained("classifier") { $0.epochs = 1 }
    let oracle = try trained("oracle") {
      $0.trainSplit = "generator"
      $0.epochs = quick ? 3 : 15
      $0.optimizer = "adam"
      $0.learningRate = 0.001
    }
    let network = classifier.network
    let sampler = DDIMSampler(prior: prior)
    let started = Date()
    _ = sampler.sample(
      count: 100, seed: 5, guidance: Guidance(classifier: network, target: 6, scale: 10, fraction: 0.6))
    emit(
      line([
        "figure": "guided_sampling", "arch": "smallcnn-bn", "batch": 100, "ddim_steps": 50,
        "seconds_per_sample": Date().timeIntervalSince(started) / 100,
      ]))
    var explainerSettings = ClassExplainer.Settings()
    explainerSettings.count = 100
    let explainer = try ClassExplainer(
      prior: prior, architecture: classifier.architecture, classifier: network, oracle: oracle.network,
      settings: explainerSettings)
    let (explanation, _) = try explainer.explain(6, className: data.train.classNames[6])
    emit(
      line([
        "figure": "explain_class", "class": 6, "samples": 100, "seconds": explanation.seconds,
        "activation": explanation.activation.rate, "prior_activation": explanation.priorActivation.rate,
        "oracle": explanation.oracle?.rate ?? -1, "sanity_passed": explanation.sanity.passed,
        "sanity_ratios": explanation.sanity.stages.map { $0.distance / max(explanation.sanity.distanceSeeds, 1e-12) },
      ]))
    try sanityNull(explainer, network: network, oracle: oracle.network, emit)

    // Concepts (issue 9): one top-k search (3 runs) for class 6, with the pseudo-label loss.
    let discovery = try ConceptDiscovery(prior: prior, classifier: network, oracle: oracle.network, settings: .init())
    let conceptStart = Date()
    let runs = discovery.discover(6)
    emit(
      line([
        "figure": "concept_search", "class": 6, "runs": runs.count,
        "seconds_per_run": Date().timeIntervalSince(conceptStart) / Double(max(runs.count, 1)),
        "activation": runs.first?.activation.rate ?? 0, "oracle": runs.first?.oracle?.rate ?? -1,
      ]))
    // Counterfactuals: 10 probe images of class 6 towards class 0, with their PGD baselines.
    let probes = Array(splits.probe.filter { data.train.labels[$0] == 6 }.prefix(10))
    let probeImages = Tensor(shape: [probes.count] + image, scalars: data.train.batchFloats(probes))
    let counterfactualStart = Date()
    let (outcomes, _, _) = Counterfactual(prior: prior, classifier: network, oracle: oracle.network).run(
      probeImages, targets: Array(repeating: 0, count: probes.count))
    let summary = CounterfactualSummary(outcomes)
    emit(
      line([
        "figure": "counterfactual", "from": 6, "to": 0, "count": probes.count,
        "seconds_per_counterfactual": Date().timeIntervalSince(counterfactualStart) / Double(max(probes.count, 1)),
        "validity": summary.validity.rate, "oracle_validity": summary.oracleValidity?.rate ?? -1,
        "pgd_oracle_validity": summary.pgdOracleValidity?.rate ?? -1,
      ]))
  }

  /// How often the sanity check would pass with *no* change to the model: guided sample sets
  /// from `sets` seeds of the unchanged classifier; each of sets − 2 "stages" is the distance
  /// from set 1 to set k (k ≥ 3), against the seed distance from set 1 to set 2, and counts as a
  /// false pass when it reaches the check's threshold.
  func sanityNull(_ explainer: ClassExplainer, network: Network, oracle: Network, _ emit: (String) -> Void) throws {
    let sets = quick ? 4 : 12
    let sampler = DDIMSampler(prior: explainer.prior)
    let features = (0..<sets).map { seed in
      ClassExplainer.penultimateFeatures(
        oracle,
        sampler.sample(
          count: 100, seed: 1000 + UInt64(seed),
          guidance: Guidance(classifier: network, target: 6, scale: explainer.settings.scale, fraction: 0.6)
        ).images)
    }
    let base = FrechetDistance.distance(features[0].values, features[1].values, dimension: features[0].width)
    let ratios = (2..<sets).map {
      FrechetDistance.distance(features[0].values, features[$0].values, dimension: features[0].width) / base
    }
    let threshold = explainer.settings.sanityThreshold
    let passes = Proportion(hits: ratios.filter { $0 >= threshold }.count, trials: ratios.count)
    emit(
      line([
        "figure": "sanity_null", "class": 6, "samples": 100, "comparisons": ratios.count, "threshold": threshold,
        "ratios": ratios.map { ($0 * 100).rounded() / 100 }, "false_pass_rate": passes.rate,
        "false_pass_low": passes.low, "false_pass_high": passes.high,
      ]))
  }
}

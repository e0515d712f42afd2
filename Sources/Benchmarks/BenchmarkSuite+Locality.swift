import Datasets
import Engine
import Explainer
import Foundation
import Models
import Prototypes
import Training

extension BenchmarkSuite {
  /// Where counterfactuals made for uncertain prototypes edit (DESIGN §8, issue 9): a reduced
  /// prior (VAE 12 epochs, latent DDPM 8,000 steps on Fashion-MNIST's 5,000-image generator
  /// split, as scripts/demo.sh trains it; --quick: the synthetic set, 2 epochs and 500 steps), a
  /// smallcnn-bn trained one epoch (SGD 0.05, momentum 0.9) with a checkpoint every 50 steps,
  /// and I2X's retrospective analysis of those checkpoints on the 1,000 probe images (the
  /// daemon's vocabulary settings: K = 32, ≤ 32 PCA components, fitted on the last checkpoint).
  /// The strongest probes of each uncertain flag's pair (up to 8 per class, and
  /// `I2X_BENCH_LOCALITY_CASES` = 60 in all) get a counterfactual towards the other class of the
  /// pair, as the auto policy does for the flag's two examples per class; each is
  /// measured twice: the edit against the original image (what the daemon stores) and against
  /// the prior's reconstruction of it (the optimisation's own change, without the VAE's
  /// reconstruction error). The control is a random other prototype present in the image.
  func locality(_ emit: (String) -> Void) throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "i2x-bench-locality-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: directory) }
    let (dataset, base, data, splits, image) = try explainerData()
    let started = Date()
    let prior = try GenerativePrior(
      description: GeneratorDescription.standard(
        dataset: dataset, image: image, seed: base.seed,
        split: .init(
          name: "generator", count: splits.generator.count, sha256: GenerativePrior.splitHash(splits.generator),
          seed: base.seed)), splitIndices: splits.generator)
    var settings = GeneratorTraining.Settings()
    settings.vaeEpochs = quick ? 2 : 12
    settings.denoiserSteps = quick ? 500 : 8000
    _ = GeneratorTraining(prior: prior, settings: settings, log: { _ in }).run(
      images: Tensor(shape: [splits.generator.count] + image, scalars: data.train.batchFloats(splits.generator)))
    let priorSeconds = Date().timeIntervalSince(started)

    // The run: checkpoints every 50 steps, analysed the way the daemon's refresh does.
    var configuration = base
    configuration.architecture = "smallcnn-bn"
    configuration.epochs = 1
    configuration.learningRate = 0.05
    configuration.checkpointEvery = quick ? 10 : 50
    configuration.outputDirectory = directory.appendingPathComponent("run")
    let summary = try TrainingJob(configuration: configuration, log: { _ in }).run()
    let checkpoints = try summary.checkpoints.map { try ModelCheckpoint(contentsOf: $0, architectureName: nil) }
    let labels = splits.probe.map { data.train.labels[$0] }
    let probes = Tensor(shape: [splits.probe.count] + image, scalars: data.train.batchFloats(splits.probe))
    var observations: [CheckpointObservation] = []
    var latestFeatures: Tensor?
    for (index, checkpoint) in checkpoints.enumerated() {
      let (observation, features) = CheckpointObservation.observe(
        network: checkpoint.network, step: checkpoint.metadata.step ?? index, images: probes, labels: labels,
        faithfulnessSample: 0)
      observations.append(observation)
      latestFeatures = features
    }
    guard let latestFeatures, let classifier = checkpoints.last?.network else {
      throw TrainingError("the locality run wrote no checkpoint")
    }
    let vocabulary = Vocabulary.fit(
      features: latestFeatures, step: observations[observations.count - 1].step, clusters: 32, maximumComponents: 32,
      previous: nil, seed: 17)
    let report = RunAnalysis.analyze(
      observations: observations, labels: labels, classNames: data.train.classNames, vocabulary: vocabulary)

    // The cases: each flag's strongest probes of both classes of its pair (the flag itself
    // carries two per class; up to `perClass` here, to reach 30 or more cases), strongest flag
    // first, one per (probe, prototype).
    let limit = Int(ProcessInfo.processInfo.environment["I2X_BENCH_LOCALITY_CASES"] ?? "") ?? 60
    let perClass = quick ? 2 : 8
    let intensity = vocabulary.intensities(observations[observations.count - 1]).intensity
    var cases: [(probe: Int, target: Int, prototype: Int, cells: [Int])] = []
    for flag in report.uncertain.sorted(by: { $0.score > $1.score }) where flag.pair.count == 2 {
      guard let column = vocabulary.ids.firstIndex(of: flag.prototype) else { continue }
      for (label, target) in [(flag.pair[0], flag.pair[1]), (flag.pair[1], flag.pair[0])] {
        let examples = RunAnalysis.examples(
          column, among: labels.indices.filter { labels[$0] == label }, count: perClass, intensity: intensity,
          k: vocabulary.ids.count, labels: labels, vocabulary: vocabulary, cells: observations[0].cells)
        for example in examples where !example.cells.isEmpty && cases.count < limit {
          guard !cases.contains(where: { $0.probe == example.probe && $0.prototype == flag.prototype }) else {
            continue
          }
          cases.append((example.probe, target, flag.prototype, example.cells))
        }
      }
    }
    guard !cases.isEmpty else {
      emit(
        line(["figure": "counterfactual_locality", "dataset": dataset, "cases": 0, "flags": report.uncertain.count]))
      return
    }
    let size = image.reduce(1, *)
    let chosen = Tensor(
      shape: [cases.count] + image,
      scalars: cases.flatMap { Array(probes.scalars[($0.probe * size)..<(($0.probe + 1) * size)]) })
    let counterfactualStart = Date()
    let maker = Counterfactual(prior: prior, classifier: classifier, oracle: nil)
    let (outcomes, edited, _) = maker.run(chosen, targets: cases.map(\.target))
    let counterfactualSeconds = Date().timeIntervalSince(counterfactualStart)
    let reconstructed = maker.reconstruction(chosen)

    // Measured against the original and against the reconstruction, with one control per case.
    let cells = observations[0].cells
    let side = observations[0].height
    let (h, w) = (image[1], image[2])
    var generator = SplitMix64(seed: 23)
    var original: [LocalityStudy.Measurement] = []
    var own: [LocalityStudy.Measurement] = []
    var validOriginal: [LocalityStudy.Measurement] = []
    for (i, item) in cases.enumerated() {
      let assigned = Array(vocabulary.cellPrototypes[(item.probe * cells)..<((item.probe + 1) * cells)])
      guard
        let control = LocalityStudy.control(
          assigned: assigned, prototype: item.prototype, ownCells: Set(item.cells), using: &generator)
      else { continue }
      func measured(_ reference: Tensor) -> LocalityStudy.Measurement {
        let delta = EditLocality.delta(
          Array(reference.scalars[(i * size)..<((i + 1) * size)]),
          Array(edited.scalars[(i * size)..<((i + 1) * size)]), channels: image[0], height: h, width: w)
        return LocalityStudy.measure(
          delta: delta, ownCells: item.cells, controlCells: control.cells, mapHeight: side,
          mapWidth: observations[0].width, height: h, width: w)
      }
      original.append(measured(chosen))
      own.append(measured(reconstructed))
      if outcomes[i].valid { validOriginal.append(original[original.count - 1]) }
    }
    for (reference, measurements) in [
      ("original", original), ("reconstruction", own), ("original_valid_only", validOriginal),
    ] {
      let s = LocalityStudy.summarize(measurements)
      emit(
        line([
          "figure": "counterfactual_locality", "dataset": dataset, "edit_against": reference, "cases": s.cases,
          "flags": report.uncertain.count, "checkpoints": observations.count, "probe_images": labels.count,
          "valid": outcomes.filter(\.valid).count, "map": [side, observations[0].width],
          "vae_epochs": settings.vaeEpochs, "denoiser_steps": settings.denoiserSteps,
          "mean_iou_own": s.meanOwn, "mean_iou_control": s.meanControl, "mean_chance_own": s.meanOwnChance,
          "mean_chance_control": s.meanControlChance, "mean_difference": s.meanDifference,
          "difference_low": s.differenceLow, "difference_high": s.differenceHigh,
          "own_greater": s.ownGreater.rate, "own_greater_low": s.ownGreater.low,
          "own_greater_high": s.ownGreater.high, "ties": s.ties, "sign_test_p": s.signTestP,
          "mean_excess_difference": s.excessDifference, "excess_difference_low": s.excessLow,
          "excess_difference_high": s.excessHigh, "own_excess_greater": s.ownExcessGreater.rate,
          "own_excess_greater_low": s.ownExcessGreater.low, "own_excess_greater_high": s.ownExcessGreater.high,
          "prior_seconds": priorSeconds,
          "seconds_per_counterfactual": counterfactualSeconds / Double(max(cases.count, 1)),
        ]))
    }
  }
}

import Engine
import Explainer
import Foundation
import Prototypes

extension ExplainJob {
  /// Guided samples per class of a data-free prototypes job (at most; `--explain-samples` if
  /// smaller).
  static let prototypeSamplesPerClass = 50

  /// The data-free prototypes of a checkpoint (ProDG's question, DESIGN §8): guided samples of
  /// every class, observed by the classifier for their class, are assigned to the run's current
  /// vocabulary (the latest analysis's) and their attention profiles compared with the
  /// data-based ones of the checkpoint's cached analysis (GradCAM maps the analysis already
  /// stored); a vocabulary fitted on the synthetic cells alone is compared with the run's by
  /// nearest-prototype accuracy on the probe images, the only use of the probe set here.
  func prototypes(_ record: DaemonStore.ExplanationRecord, _ inputs: Inputs, run: String) throws
    -> (String, [String: [UInt8]], String)
  {
    guard let vocabulary = try store.latestVocabulary(run: run), let basis = vocabulary.basis else {
      throw DaemonError(
        .notReady, "run '\(run)' has no analysed vocabulary yet; data-free prototypes follow the first analysis")
    }
    guard let observation = try store.observation(run: run, step: record.step), let probe = try store.probe(run: run),
      observation.count == probe.labels.count, observation.count * observation.cells == vocabulary.cellPrototypes.count
    else {
      throw DaemonError(
        .notReady,
        "run '\(run)' has no analysis of checkpoint \(record.step) under its current vocabulary; ask for an analysed checkpoint ('i2x checkpoints \(run)')"
      )
    }
    let started = Date()
    let classes = inputs.architecture.classes
    // Data profiles π̄_c from the cached maps, in the basis's prototype order.
    let (intensity, _) = vocabulary.intensities(observation)
    let column = Dictionary(uniqueKeysWithValues: vocabulary.ids.enumerated().map { ($1, $0) })
    let dataProfiles = (0..<classes).map { c -> [Double] in
      let rows = probe.labels.indices.filter { probe.labels[$0] == c }
      return basis.centreIDs.map { id in
        guard let k = column[id], !rows.isEmpty else { return 0 }
        return rows.reduce(0) { $0 + intensity[$1 * vocabulary.ids.count + k] } / Double(rows.count)
      }
    }
    let count = max(2, min(settings.samples, Self.prototypeSamplesPerClass))
    let sampler = DDIMSampler(prior: inputs.prior)
    let samples = (0..<classes).map { c in
      sampler.sample(
        count: count, seed: 100 + UInt64(c),
        guidance: Guidance(
          classifier: inputs.classifier, target: c, scale: settings.scale, fraction: settings.guidedFraction)
      ).images
    }
    let images = Tensor(shape: probe.shape, scalars: probe.images)
    let small = inputs.architecture.input[1] <= 28
    let comparison = SyntheticPrototypes.compare(
      classifier: inputs.classifier, samples: samples, basis: basis, dataProfiles: dataProfiles,
      probeFeatures: CheckpointAnalyzer.targetFeatures(inputs.classifier, images), labels: probe.labels,
      clusters: small ? 32 : 128, maximumComponents: small ? 32 : 64)
    var document =
      try JSONSerialization.jsonObject(with: try JSONEncoder().encode(comparison)) as? [String: Any] ?? [:]
    document["schema"] = "i2x.data-free-prototypes/1"
    document["step"] = record.step
    document["vocabulary_step"] = vocabulary.step
    document["class_names"] = inputs.names
    document["scale"] = settings.scale
    document["seconds"] = Date().timeIntervalSince(started)
    document["data_free"] =
      "The prototypes come from guided samples of the generative prior and the classifier's weights, assigned to "
      + "the run's vocabulary; the probe images only score the nearest-prototype accuracies."
    // Up to 8 guided samples per class, one class per row.
    let shown = min(count, 8)
    let size = inputs.prior.image.reduce(1, *)
    let grid = Tensor(
      shape: [classes * shown] + inputs.prior.image,
      scalars: samples.flatMap { Array($0.scalars[0..<(shown * size)]) })
    let data = try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])
    let meanCosine = comparison.profileCosine.reduce(0, +) / Double(max(1, classes))
    let meanOther = comparison.profileCosineOther.reduce(0, +) / Double(max(1, classes))
    let summary = String(
      format: "profile cosine %.2f (other classes %.2f), accuracy synthetic %.2f, data %.2f",
      meanCosine, meanOther, comparison.accuracySyntheticVocabulary.rate, comparison.accuracyDataVocabulary.rate)
    return (
      String(decoding: data, as: UTF8.self), ["samples": try ExplanationImages.grid(grid, columns: shown).encoded()],
      summary
    )
  }
}

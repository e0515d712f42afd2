import Engine
import Foundation
import Prototypes

extension SyntheticPrototypes {
  /// The daemon's comparison (the `prototypes` explanation kind): guided samples against a
  /// run's *own* vocabulary and data-based profiles, with intervals.
  public struct RunComparison: Codable, Equatable, Sendable {
    /// Prototype ids of the run's vocabulary, the order of every profile.
    public var prototypeIDs: [Int]
    /// Each class's synthetic attention profile π̄_c (mean GradCAM intensity of its guided
    /// samples per prototype, `prototypeIDs` order).
    public var syntheticProfiles: [[Double]]
    /// Cosine between each class's synthetic attention profile and its data-based one.
    public var profileCosine: [Double]
    /// The control: each class's synthetic profile against the other classes' data profiles
    /// (mean cosine; profiles are non-negative, so unrelated profiles still score above 0).
    public var profileCosineOther: [Double]
    /// Classes whose own cosine exceeds every other class's data-profile cosine, of those
    /// with both profiles.
    public var ownProfileBest: Proportion
    /// Nearest-prototype accuracy on the probe images with the run's vocabulary and with a
    /// vocabulary fitted on the synthetic cells only (Wilson intervals), and chance.
    public var accuracyDataVocabulary: Proportion, accuracySyntheticVocabulary: Proportion
    public var chance: Double
    /// Synthetic samples per class, and probe images judged.
    public var samplesPerClass: Int, probes: Int

    enum CodingKeys: String, CodingKey {
      case probes, chance
      case prototypeIDs = "prototype_ids"
      case syntheticProfiles = "synthetic_profiles"
      case profileCosine = "profile_cosine"
      case profileCosineOther = "profile_cosine_other_classes"
      case ownProfileBest = "own_profile_best"
      case accuracyDataVocabulary = "accuracy_data_vocabulary"
      case accuracySyntheticVocabulary = "accuracy_synthetic_vocabulary"
      case samplesPerClass = "samples_per_class"
    }
  }

  /// Compares guided samples (`samples[c]`, (n,C,H,W), observed for class c) with a run's
  /// analysis. Data-free on the synthetic side: the samples' cells are assigned by the run's
  /// vocabulary `basis`, and the synthetic vocabulary is fitted on them alone.
  /// - Parameters:
  ///   - dataProfiles: π̄_c per class from the run's analysis (cached GradCAM maps), in
  ///     `basis.centreIDs` order; a class without probes has an all-zero row.
  ///   - probeFeatures: the probe images' target-layer activations (n,d,h,w) under the same
  ///     classifier, with `labels`: evaluation data for the accuracies only.
  public static func compare(
    classifier: Network, samples: [Tensor], basis: VocabularyBasis, dataProfiles: [[Double]], probeFeatures: Tensor,
    labels: [Int], clusters: Int, maximumComponents: Int
  ) -> RunComparison {
    let classes = samples.count
    precondition(dataProfiles.count == classes, "compare: \(dataProfiles.count) data profiles for \(classes) classes")
    let observed = samples.enumerated().map { c, images in
      CheckpointObservation.observe(
        network: classifier, step: 0, images: images, labels: Array(repeating: c, count: images.shape[0]),
        faithfulnessSample: 0)
    }
    var profiles: [[Double]] = []
    var cosines: [Double] = []
    var others: [Double] = []
    var best = 0
    var judged = 0
    for c in 0..<classes {
      let synthetic = mean(histograms(observed[c].0, features: observed[c].1, basis: basis))
      let own = cosine(dataProfiles[c], synthetic)
      let rest = (0..<classes).filter { $0 != c }.map { cosine(dataProfiles[$0], synthetic) }
      profiles.append(synthetic)
      cosines.append(own)
      others.append(rest.reduce(0, +) / Double(max(rest.count, 1)))
      if dataProfiles[c].contains(where: { $0 > 0 }) && synthetic.contains(where: { $0 > 0 }) {
        judged += 1
        if rest.allSatisfy({ own > $0 }) { best += 1 }
      }
    }
    let syntheticFeatures = Tensor(
      shape: [observed.reduce(0) { $0 + $1.1.shape[0] }] + Array(probeFeatures.shape.dropFirst()),
      scalars: observed.flatMap(\.1.scalars))
    let synthetic = Vocabulary.fit(
      features: syntheticFeatures, step: 0, clusters: clusters, maximumComponents: maximumComponents, previous: nil,
      seed: 17)
    guard let syntheticBasis = synthetic.basis else { preconditionFailure("Vocabulary.fit always sets a basis") }
    let templates = observed.map(\.1)
    return RunComparison(
      prototypeIDs: basis.centreIDs, syntheticProfiles: profiles, profileCosine: cosines, profileCosineOther: others,
      ownProfileBest: Proportion(hits: best, trials: judged),
      accuracyDataVocabulary: nearestPrototype(basis, templates: templates, probes: probeFeatures, labels: labels),
      accuracySyntheticVocabulary: nearestPrototype(
        syntheticBasis, templates: templates, probes: probeFeatures, labels: labels),
      chance: 1 / Double(max(classes, 1)), samplesPerClass: samples.first?.shape[0] ?? 0, probes: labels.count)
  }

  /// Nearest-prototype classification of the probe images under `basis`: each image's
  /// occupancy histogram against each class's mean occupancy histogram of its synthetic
  /// `templates` (features per class), by cosine; correct predictions out of the images.
  static func nearestPrototype(_ basis: VocabularyBasis, templates: [Tensor], probes: Tensor, labels: [Int])
    -> Proportion
  {
    let means = templates.map { mean(occupancies($0, basis: basis)) }
    var correct = 0
    for (i, row) in occupancies(probes, basis: basis).enumerated() {
      let predicted = means.indices.max { cosine(row, means[$0]) < cosine(row, means[$1]) } ?? 0
      if predicted == labels[i] { correct += 1 }
    }
    return Proportion(hits: correct, trials: labels.count)
  }
}

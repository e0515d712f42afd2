import Engine
import Foundation
import Prototypes

/// ProDG's question (DESIGN §8): do the prototypes that the weights alone imply match the ones
/// found on data? Guided samples of every class are observed like probe images (GradCAM for
/// the guided class, target-layer cells), then
/// 1. their cells are assigned to the data-based vocabulary, and each class's synthetic
///    attention profile π̄_c (mean intensity per prototype) is compared with the data-based one
///    by cosine;
/// 2. a vocabulary is fitted on the synthetic cells only, and both vocabularies are compared by
///    nearest-prototype classification of the probe images: an image's occupancy histogram (the
///    share of its cells assigned to each prototype; label-free, unlike GradCAM intensities,
///    whose map is taken for the true class) is matched (cosine) to each class's mean synthetic
///    occupancy histogram. The templates come from the
///    synthetic samples under both vocabularies, so only the vocabulary differs; probe images
///    are evaluation data here, the explanation stays data-free.
public struct SyntheticPrototypes {
  /// The comparison's numbers.
  public struct Comparison: Codable, Equatable, Sendable {
    /// Cosine between the synthetic and the data-based attention profile, per class.
    public var profileCosine: [Double]
    /// The control: mean cosine between a class's synthetic profile and the *other* classes'
    /// data-based profiles (profiles are non-negative, so cosines are high for any pair).
    public var profileCosineOther: [Double]
    /// Nearest-prototype accuracy on the probe images with the data-based and with the
    /// synthetic vocabulary, and chance (1 / classes).
    public var accuracyDataVocabulary: Double, accuracySyntheticVocabulary: Double, chance: Double
    /// Probe images and synthetic samples used.
    public var probes: Int, samples: Int

    enum CodingKeys: String, CodingKey {
      case probes, samples, chance
      case profileCosine = "profile_cosine"
      case profileCosineOther = "profile_cosine_other_classes"
      case accuracyDataVocabulary = "accuracy_data_vocabulary"
      case accuracySyntheticVocabulary = "accuracy_synthetic_vocabulary"
    }
  }

  /// Intensity histograms (n × |basis ids|, in `centreIDs` order) of observed images under a
  /// vocabulary basis: `P_ik` = mean normalised GradCAM over the cells assigned to k (0 when
  /// absent), as DESIGN §6.4.
  public static func histograms(_ observation: CheckpointObservation, features: Tensor, basis: VocabularyBasis)
    -> [[Double]]
  {
    let assigned = basis.assign(features)
    let column = Dictionary(uniqueKeysWithValues: basis.centreIDs.enumerated().map { ($1, $0) })
    let (n, cells, k) = (observation.count, observation.cells, basis.centreIDs.count)
    var out = [[Double]](repeating: [Double](repeating: 0, count: k), count: n)
    for i in 0..<n {
      var counts = [Double](repeating: 0, count: k)
      for j in 0..<cells {
        guard let c = column[assigned[i * cells + j]] else { continue }
        out[i][c] += Double(observation.normalized[i * cells + j])
        counts[c] += 1
      }
      for c in 0..<k where counts[c] > 0 { out[i][c] /= counts[c] }
    }
    return out
  }

  /// Occupancy histograms (n × |basis ids|): the share of each image's cells assigned to k.
  public static func occupancies(_ features: Tensor, basis: VocabularyBasis) -> [[Double]] {
    let assigned = basis.assign(features)
    let column = Dictionary(uniqueKeysWithValues: basis.centreIDs.enumerated().map { ($1, $0) })
    let (n, cells, k) = (features.shape[0], features.shape[2] * features.shape[3], basis.centreIDs.count)
    var out = [[Double]](repeating: [Double](repeating: 0, count: k), count: n)
    for i in 0..<n {
      for j in 0..<cells {
        if let c = column[assigned[i * cells + j]] { out[i][c] += 1 / Double(cells) }
      }
    }
    return out
  }

  static func cosine(_ a: [Double], _ b: [Double]) -> Double {
    let dot = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
    let norms = (a.reduce(0) { $0 + $1 * $1 } * b.reduce(0) { $0 + $1 * $1 }).squareRoot()
    return norms > 0 ? dot / norms : 0
  }

  static func mean(_ rows: [[Double]]) -> [Double] {
    guard let first = rows.first else { return [] }
    var out = [Double](repeating: 0, count: first.count)
    for row in rows { for (k, v) in row.enumerated() { out[k] += v / Double(rows.count) } }
    return out
  }

  /// Compares, for a classifier, its guided samples per class (`samples[c]`, (n_c,C,H,W)) with
  /// probe images (`probes`, labels `labels`).
  /// - Parameters:
  ///   - clusters, maximumComponents: the vocabulary's K and PCA cap (DESIGN §6.2).
  public static func compare(
    classifier: Network, samples: [Tensor], probes: Tensor, labels: [Int], clusters: Int, maximumComponents: Int
  ) -> Comparison {
    let classes = samples.count
    // The data side: probe images observed for their true class, and the data vocabulary.
    let (probeObservation, probeFeatures) = CheckpointObservation.observe(
      network: classifier, step: 0, images: probes, labels: labels, faithfulnessSample: 0)
    let dataVocabulary = Vocabulary.fit(
      features: probeFeatures, step: 0, clusters: clusters, maximumComponents: maximumComponents, previous: nil,
      seed: 17)
    // The synthetic side: each class's guided samples observed for that class.
    var syntheticObservations: [(CheckpointObservation, Tensor)] = []
    for (c, images) in samples.enumerated() {
      syntheticObservations.append(
        CheckpointObservation.observe(
          network: classifier, step: 0, images: images, labels: Array(repeating: c, count: images.shape[0]),
          faithfulnessSample: 0))
    }
    let allFeatures = Tensor(
      shape: [samples.reduce(0) { $0 + $1.shape[0] }] + Array(probeFeatures.shape.dropFirst()),
      scalars: syntheticObservations.flatMap(\.1.scalars))
    let syntheticVocabulary = Vocabulary.fit(
      features: allFeatures, step: 0, clusters: clusters, maximumComponents: maximumComponents, previous: nil, seed: 17)
    guard let dataBasis = dataVocabulary.basis, let syntheticBasis = syntheticVocabulary.basis else {
      preconditionFailure("Vocabulary.fit always sets a basis")
    }
    // 1. Profiles under the data vocabulary.
    let probeHistograms = histograms(probeObservation, features: probeFeatures, basis: dataBasis)
    let dataProfiles = (0..<classes).map { c in
      mean(probeHistograms.enumerated().filter { labels[$0.offset] == c }.map(\.element))
    }
    var cosines: [Double] = []
    var others: [Double] = []
    for c in 0..<classes {
      let synthetic = mean(
        histograms(syntheticObservations[c].0, features: syntheticObservations[c].1, basis: dataBasis))
      cosines.append(cosine(dataProfiles[c], synthetic))
      let rest = (0..<classes).filter { $0 != c }.map { cosine(dataProfiles[$0], synthetic) }
      others.append(rest.reduce(0, +) / Double(max(rest.count, 1)))
    }
    // 2. Nearest-prototype classification of the probe images with synthetic templates.
    func accuracy(_ basis: VocabularyBasis) -> Double {
      nearestPrototype(basis, templates: syntheticObservations.map(\.1), probes: probeFeatures, labels: labels).rate
    }
    return Comparison(
      profileCosine: cosines, profileCosineOther: others, accuracyDataVocabulary: accuracy(dataBasis),
      accuracySyntheticVocabulary: accuracy(syntheticBasis), chance: 1 / Double(max(classes, 1)),
      probes: labels.count, samples: allFeatures.shape[0])
  }
}

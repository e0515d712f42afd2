import Engine

/// What a vocabulary needs to assign cells it was not fitted on (DESIGN §7: a fine-tune
/// directive carries it, so the trainer needs nothing else from the daemon): the PCA mean and
/// components, and the k-means centres in PCA space with their stable prototype ids.
public struct VocabularyBasis: Codable, Sendable, Equatable {
  /// Channels d of the target layer.
  public var dimension: Int
  /// PCA column means (d).
  public var mean: [Double]
  /// PCA components (c×d, row-major).
  public var components: [Double]
  /// k-means centres in PCA space (k×c, row-major).
  public var centres: [Double]
  /// Stable prototype id of each centre (k).
  public var centreIDs: [Int]

  /// Creates a basis from its parts.
  public init(dimension: Int, mean: [Double], components: [Double], centres: [Double], centreIDs: [Int]) {
    self.dimension = dimension
    self.mean = mean
    self.components = components
    self.centres = centres
    self.centreIDs = centreIDs
  }

  enum CodingKeys: String, CodingKey {
    case dimension, mean, components, centres
    case centreIDs = "centre_ids"
  }

  /// The spelling of `centreIDs` before schema_version 2, still read from directives and
  /// vocabularies stored or exported by earlier versions.
  enum LegacyCodingKeys: String, CodingKey { case centreIDs }

  /// Decodes a basis; the centre ids may be spelled `centre_ids` or (earlier versions) `centreIDs`.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    dimension = try container.decode(Int.self, forKey: .dimension)
    mean = try container.decode([Double].self, forKey: .mean)
    components = try container.decode([Double].self, forKey: .components)
    centres = try container.decode([Double].self, forKey: .centres)
    if let ids = try container.decodeIfPresent([Int].self, forKey: .centreIDs) {
      centreIDs = ids
    } else {
      centreIDs = try decoder.container(keyedBy: LegacyCodingKeys.self).decode([Int].self, forKey: .centreIDs)
    }
  }

  /// PCA components kept, c.
  public var componentCount: Int { dimension == 0 ? 0 : components.count / dimension }

  /// Whether the parts have consistent sizes (a basis read from a message may not).
  public var isConsistent: Bool {
    let c = componentCount
    return dimension > 0 && c > 0 && mean.count == dimension && components.count == c * dimension
      && !centreIDs.isEmpty && centres.count == centreIDs.count * c
      && (mean + components + centres).allSatisfy(\.isFinite)
  }

  /// Its centres in another PCA space over the same d channels (k×c'): each centre back in
  /// channel space (mean + componentsᵀ·centre), then projected with `pca`. Nil when d differs.
  public func centres(projectedInto pca: PCA, dimension d: Int) -> [Double]? {
    guard d == dimension, isConsistent else { return nil }
    let c = componentCount
    var original = [Float](repeating: 0, count: centreIDs.count * d)
    for centre in 0..<centreIDs.count {
      for channel in 0..<d {
        var value = mean[channel]
        for component in 0..<c { value += components[component * d + channel] * centres[centre * c + component] }
        original[centre * d + channel] = Float(value)
      }
    }
    return pca.transform(original, rows: centreIDs.count)
  }

  /// The prototype id of every cell of activations (n,d,h,w), image-major (n·hw): project
  /// each cell vector on the PCA components and take the nearest centre.
  public func assign(_ features: Tensor) -> [Int] {
    precondition(
      features.shape.count == 4 && features.shape[1] == dimension, "assign: \(features.shape) for d=\(dimension)")
    precondition(isConsistent, "assign: inconsistent vocabulary basis")
    let (n, d, cells) = (features.shape[0], dimension, features.shape[2] * features.shape[3])
    var rows = [Float](repeating: 0, count: n * cells * d)
    for i in 0..<n {
      for k in 0..<d {
        for j in 0..<cells { rows[(i * cells + j) * d + k] = features.scalars[(i * d + k) * cells + j] }
      }
    }
    let c = componentCount
    let pca = PCA(mean: mean, components: components, dimension: d)
    let projected = pca.transform(rows, rows: n * cells)
    return (0..<(n * cells)).map { KMeans.nearest(projected, $0, c, centres, centreIDs.count).index }
      .map { centreIDs[$0] }
  }
}

import Engine

/// The prototype vocabulary (DESIGN §6.2–6.3): PCA + k-means of the target-layer cell vectors
/// of the latest checkpoint, with prototype ids kept stable across refits.
public struct Vocabulary: Codable, Sendable, Equatable {
  /// Stable prototype id of each cell (n·hw, image-major).
  public var cellPrototypes: [Int]
  /// Prototype ids in use.
  public var ids: [Int]
  /// Next unused id.
  public var nextID: Int
  /// PCA components kept and their explained variance.
  public var components: Int
  public var explainedVariance: Double
  /// Adjusted Rand index against the previous vocabulary's cell assignment (nil on the first fit).
  public var adjustedRandIndex: Double?
  /// The step whose features it was fitted on.
  public var step: Int
  /// PCA and centres, to assign cells of other images (nil in vocabularies stored before it).
  public var basis: VocabularyBasis?
  /// For each prototype, the previous fit's prototype it was matched to (Hungarian on cell
  /// overlap) and their Jaccard index: the same id when ≥ 0.5, a new id below (nil on the
  /// first fit and in vocabularies stored before it).
  public var lineage: [LineageLink]?
  /// The fraction of the projected cells' variance the clustering leaves unexplained (k-means
  /// inertia over the total sum of squares; nil in vocabularies stored before it).
  public var relativeInertia: Double?
  /// Consecutive warm refits since a fresh k-means++ fit last challenged the warm one (0: this
  /// fit was challenged; nil in vocabularies stored before it).
  public var warmRefits: Int?

  /// One prototype's match at a refit.
  public struct LineageLink: Codable, Sendable, Equatable {
    /// The prototype's id in this fit.
    public var id: Int
    /// The id it was matched to in the previous fit (nil: no match).
    public var previousID: Int?
    /// Jaccard index of their cell sets (0 without a match).
    public var jaccard: Double

    /// Creates a link.
    public init(id: Int, previousID: Int?, jaccard: Double) {
      self.id = id
      self.previousID = previousID
      self.jaccard = jaccard
    }
  }

  /// Creates a vocabulary from its parts (fitting uses `fit`).
  public init(
    cellPrototypes: [Int], ids: [Int], nextID: Int, components: Int, explainedVariance: Double,
    adjustedRandIndex: Double?, step: Int
  ) {
    self.cellPrototypes = cellPrototypes
    self.ids = ids
    self.nextID = nextID
    self.components = components
    self.explainedVariance = explainedVariance
    self.adjustedRandIndex = adjustedRandIndex
    self.step = step
  }

  /// Fits on activations (n,d,h,w); `previous` keeps ids where Jaccard ≥ 0.5 (Hungarian
  /// matching on the cell-overlap contingency table).
  public static func fit(
    features: Tensor, step: Int, clusters requested: Int, maximumComponents: Int, previous: Vocabulary?, seed: UInt64
  ) -> Vocabulary {
    let (n, d, h, w) = (features.shape[0], features.shape[1], features.shape[2], features.shape[3])
    let cells = h * w
    // (n,d,h,w) → rows of d values, one per (image, cell).
    var rows = [Float](repeating: 0, count: n * cells * d)
    for i in 0..<n {
      for k in 0..<d {
        for j in 0..<cells { rows[(i * cells + j) * d + k] = features.scalars[(i * d + k) * cells + j] }
      }
    }
    let count = n * cells
    let pca = PCA(fitting: rows, rows: count, columns: d, varianceTarget: 0.95, maximumComponents: maximumComponents)
    let projected = pca.transform(rows, rows: count)
    let k = min(requested, count)
    let warm = previous?.basis?.centres(projectedInto: pca, dimension: d).flatMap {
      $0.count == k * pca.count ? $0 : nil
    }
    // Warm start: the previous centres, carried into this PCA space, refined by Lloyd. It keeps
    // clusters where they were (steadier prototype ids) and costs one Lloyd run instead of
    // seeded restarts. A fresh k-means++ fit challenges it (the better inertia wins) at every
    // `challengeEvery`-th refit, and whenever the warm fit leaves more than `challengeSlack`
    // more of the variance unexplained than the previous fit did; without a previous fit, three
    // seeded restarts.
    let total = projected.reduce(0) { $0 + $1 * $1 }
    var fit: KMeans
    var warmRefits = 0
    if let warm, let previous {
      fit = KMeans(fitting: projected, rows: count, columns: pca.count, from: warm)
      let age = (previous.warmRefits ?? 0) + 1
      let drifted =
        previous.relativeInertia.map { fit.inertia / max(total, .leastNonzeroMagnitude) > $0 * (1 + challengeSlack) }
        ?? true
      if age >= challengeEvery || drifted {
        let fresh = KMeans(fitting: projected, rows: count, columns: pca.count, clusters: k, restarts: 1, seed: seed)
        if fresh.inertia < fit.inertia * (1 - 1e-9) { fit = fresh }
      } else {
        warmRefits = age
      }
    } else {
      fit = KMeans(fitting: projected, rows: count, columns: pca.count, clusters: k, restarts: 3, seed: seed)
    }
    var ids = Array(0..<k)
    var nextID = k
    var ari: Double?
    var lineage: [LineageLink]?
    if let previous, previous.cellPrototypes.count == count {
      let matched = Self.match(new: fit.assignments, clusters: k, old: previous.cellPrototypes, nextID: previous.nextID)
      (ids, nextID) = (matched.ids, matched.nextID)
      lineage = matched.links.sorted { $0.id < $1.id }
      ari = AdjustedRandIndex.compute(previous.cellPrototypes, fit.assignments)
    }
    var vocabulary = Vocabulary(
      cellPrototypes: fit.assignments.map { ids[$0] }, ids: ids.sorted(), nextID: nextID, components: pca.count,
      explainedVariance: pca.explained, adjustedRandIndex: ari, step: step)
    vocabulary.lineage = lineage
    vocabulary.relativeInertia = total > 0 ? fit.inertia / total : 0
    vocabulary.warmRefits = warmRefits
    vocabulary.basis = VocabularyBasis(
      dimension: d, mean: pca.mean, components: pca.components, centres: fit.centres, centreIDs: ids)
    return vocabulary
  }

  /// A fresh fit challenges the warm one at least at every this many refits.
  public static let challengeEvery = 10
  /// ...and whenever the warm fit's unexplained variance exceeds the previous fit's by this
  /// relative margin.
  public static let challengeSlack = 0.05

  /// Stable ids: Hungarian on the overlap table; a match keeps the old id when their
  /// Jaccard index is ≥ 0.5, otherwise the cluster gets a fresh id.
  static func match(new: [Int], clusters k: Int, old: [Int], nextID: Int) -> (
    ids: [Int], nextID: Int, links: [LineageLink]
  ) {
    let oldIDs = Array(Set(old)).sorted()
    let oldIndex = Dictionary(uniqueKeysWithValues: oldIDs.enumerated().map { ($1, $0) })
    var overlap = [Double](repeating: 0, count: k * oldIDs.count)
    var newSizes = [Double](repeating: 0, count: k)
    var oldSizes = [Double](repeating: 0, count: oldIDs.count)
    for (cell, cluster) in new.enumerated() {
      let o = oldIndex[old[cell]] ?? 0
      overlap[cluster * oldIDs.count + o] += 1
      newSizes[cluster] += 1
      oldSizes[o] += 1
    }
    let assignment = Hungarian.maximize(overlap, rows: k, columns: oldIDs.count)
    var ids = [Int](repeating: 0, count: k)
    var next = nextID
    var links: [LineageLink] = []
    for cluster in 0..<k {
      let o = assignment[cluster]
      var jaccard = 0.0
      if o >= 0 {
        let shared = overlap[cluster * oldIDs.count + o]
        jaccard = shared / max(1, newSizes[cluster] + oldSizes[o] - shared)
      }
      if o >= 0 && jaccard >= 0.5 {
        ids[cluster] = oldIDs[o]
      } else {
        ids[cluster] = next
        next += 1
      }
      links.append(LineageLink(id: ids[cluster], previousID: o >= 0 ? oldIDs[o] : nil, jaccard: jaccard))
    }
    return (ids, next, links)
  }

  /// Intensities P_ik (n×|ids|, columns in `ids` order) and occupancies o_ik of one checkpoint:
  /// `P_ik = Σ_j 1[a_ij=k]·Ŝ_ij / Σ_j 1[a_ij=k]` (0 where k is absent), `o_ik = #cells/(hw)`.
  public func intensities(_ observation: CheckpointObservation) -> (intensity: [Double], occupancy: [Double]) {
    let (n, cells, k) = (observation.count, observation.cells, ids.count)
    let column = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) })
    var intensity = [Double](repeating: 0, count: n * k)
    var occupancy = [Double](repeating: 0, count: n * k)
    for i in 0..<n {
      for j in 0..<cells {
        guard let c = column[cellPrototypes[i * cells + j]] else { continue }
        intensity[i * k + c] += Double(observation.normalized[i * cells + j])
        occupancy[i * k + c] += 1
      }
      for c in 0..<k where occupancy[i * k + c] > 0 {
        intensity[i * k + c] /= occupancy[i * k + c]
        occupancy[i * k + c] /= Double(cells)
      }
    }
    return (intensity, occupancy)
  }
}

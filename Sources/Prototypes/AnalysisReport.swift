/// The structured explanation of a run up to its latest checkpoint (DESIGN §6), as stored by
/// the daemon and served to `i2x prototypes|progress|pairs|uncertain`.
public struct AnalysisReport: Codable, Sendable, Equatable {
  /// Schema of the reports this version writes (2: snake_case keys; 1 had camelCase ones,
  /// rewritten by store migration 012).
  public static let currentSchemaVersion = 2
  /// Schema of this document.
  public var schemaVersion = Self.currentSchemaVersion
  /// Steps analysed, in order; per-checkpoint arrays below follow this order.
  public var steps: [Int]
  /// Class names.
  public var classNames: [String]
  /// The vocabulary (latest fit) summary.
  public var vocabulary: VocabularySummary
  /// One entry per prototype id.
  public var prototypes: [PrototypeSummary]
  /// One entry per class.
  public var classes: [ClassProgress]
  /// One entry per unordered class pair (only the confused ones above 50 classes).
  public var pairs: [PairProgress]
  /// Pairs by separation step (earliest first); unseparated pairs last.
  public var learningOrder: [[Int]]
  /// Learning groups and prototype → confidence coupling per interval.
  public var intervals: [IntervalCoupling]
  /// GradCAM faithfulness per checkpoint.
  public var faithfulness: [FaithfulnessSummary]
  /// Uncertain prototypes (empty until L ≥ 3 intervals).
  public var uncertain: [UncertainPrototype]
  /// Zero GradCAM maps per checkpoint.
  public var zeroMaps: [Int]
  /// True when the vocabulary-dependent series of checkpoints before the last window
  /// (drift, concentration, intervals) come from earlier analyses, under earlier vocabularies
  /// (`RunAnalysis.merge`); nil or false for a full retrospective analysis under the current
  /// vocabulary. The daemon replaces incremental reports with full ones when idle.
  public var incremental: Bool?
  /// Class evidence accumulated over every interval of the run (running sums; DESIGN §6b).
  public var evidenceTotals: EvidenceTotals?
  /// The part of `evidenceTotals` from intervals before the last `RunAnalysis.incrementalWindow`
  /// (those an incremental analysis no longer recomputes), so the next one adds to it.
  public var settledEvidence: EvidenceTotals?

  enum CodingKeys: String, CodingKey {
    case steps, vocabulary, prototypes, classes, pairs, intervals, faithfulness, uncertain, incremental
    case schemaVersion = "schema_version"
    case classNames = "class_names"
    case learningOrder = "learning_order"
    case zeroMaps = "zero_maps"
    case evidenceTotals = "evidence_totals"
    case settledEvidence = "settled_evidence"
  }

  /// Vocabulary facts.
  public struct VocabularySummary: Codable, Sendable, Equatable {
    public var fittedOnStep: Int
    public var size: Int
    public var pcaComponents: Int
    public var explainedVariance: Double
    public var adjustedRandIndex: Double?
    /// Target-layer map height and width (h, w) the cells index into.
    public var mapShape: [Int]?

    enum CodingKeys: String, CodingKey {
      case size
      case fittedOnStep = "fitted_on_step"
      case pcaComponents = "pca_components"
      case explainedVariance = "explained_variance"
      case adjustedRandIndex = "adjusted_rand_index"
      case mapShape = "map_shape"
    }
  }

  /// One prototype: where it is, how present per class, examples.
  public struct PrototypeSummary: Codable, Sendable, Equatable {
    public var id: Int
    public var cells: Int
    /// ρ_kc: fraction of class-c probe images with P_ik ≥ 0.5 (latest checkpoint).
    public var presence: [Double]
    /// Classes where it is shared (ρ ≥ 0.8) or specialised (0.1 ≤ ρ < 0.8, enriched in a group).
    public var sharedBy: [Int]
    public var specialisedFor: [Int]
    /// The probe images where it is most intense, with its cells: up to two from each of the
    /// (up to 3) classes where it is most present (ρ ≥ 0.1); the most intense overall when
    /// there is none.
    public var examples: [Example]
    /// Where it lives, what it looks like and what it goes with (`PrototypeTraits`).
    public var traits: PrototypeTraits?

    enum CodingKeys: String, CodingKey {
      case id, cells, presence, examples, traits
      case sharedBy = "shared_by"
      case specialisedFor = "specialised_for"
    }
  }

  /// A probe image with a prototype's cells.
  public struct Example: Codable, Sendable, Equatable {
    public var probe: Int
    public var label: Int
    public var intensity: Double
    public var cells: [Int]
  }

  /// Intra-class progress of one class.
  public struct ClassProgress: Codable, Sendable, Equatable {
    public var label: Int
    public var name: String
    /// π̄_c at the latest checkpoint (by prototype id order of `prototypes`).
    public var profile: [Double]
    /// 1 − cos(π̄_c^t, π̄_c^{t−1}) per interval.
    public var drift: [Double]
    /// Normalised entropy of the profile per checkpoint.
    public var concentration: [Double]
    /// Probe accuracy and mean true-class confidence per checkpoint.
    public var accuracy: [Double]
    public var confidence: [Double]
    public var shared: [Int]
    public var specialised: [Int]
  }

  /// Inter-class progress of a pair a < b.
  public struct PairProgress: Codable, Sendable, Equatable {
    public var a: Int
    public var b: Int
    /// Probe confusions a→b plus b→a per checkpoint.
    public var confusions: [Int]
    /// Mean logit margin (true − other) over the pair's probe images per checkpoint.
    public var margin: [Double]
    /// First step after which confusions stay ≤ 25% of their maximum (nil: not yet).
    public var separationStep: Int?
    /// cos(π̄_a, π̄_b) at the latest checkpoint.
    public var attentionOverlap: Double
    /// Top prototypes by Δ_ab = E[k,a] − E[k,b] (latest interval), each way.
    public var discriminativeForA: [Int]
    public var discriminativeForB: [Int]
    /// Prototypes with positive evidence for both.
    public var contested: [Int]
    /// The same three lists from the evidence accumulated over every interval
    /// (`AnalysisReport.EvidenceTotals`), so a cue learned early and then stable stays visible.
    public var accumulated: PairEvidence?

    enum CodingKeys: String, CodingKey {
      case a, b, confusions, margin, contested, accumulated
      case separationStep = "separation_step"
      case attentionOverlap = "attention_overlap"
      case discriminativeForA = "discriminative_for_a"
      case discriminativeForB = "discriminative_for_b"
    }
  }

  /// Discriminative (each way) and contested prototypes of a pair from accumulated evidence.
  public struct PairEvidence: Codable, Sendable, Equatable {
    public var discriminativeForA: [Int]
    public var discriminativeForB: [Int]
    public var contested: [Int]

    enum CodingKeys: String, CodingKey {
      case discriminativeForA = "discriminative_for_a"
      case discriminativeForB = "discriminative_for_b"
      case contested
    }
  }

  /// Groups and coupling over one interval (t−1 → t).
  public struct IntervalCoupling: Codable, Sendable, Equatable {
    public var fromStep: Int
    public var toStep: Int
    public var groups: Int
    public var groupSizes: [Int]
    public var noise: Int
    public var lambda: Double
    public var crossValidatedR2: Double
    /// 95th percentile of the permutation null (latest interval only; nil elsewhere).
    public var null95: Double?
    /// Class evidence E (prototypes × classes, row-major, prototype order of `prototypeIDs`, or
    /// of `prototypes` in reports stored before it was recorded).
    public var evidence: [Double]
    /// Prototype ids of the rows of `evidence` (the vocabulary of the analysis that computed it).
    public var prototypeIDs: [Int]?
    /// Probes in the interval's learning groups (noise excluded): its weight in accumulated evidence.
    public var groupedProbes: Int?

    enum CodingKeys: String, CodingKey {
      case groups, noise, lambda, null95, evidence
      case fromStep = "from_step"
      case toStep = "to_step"
      case groupSizes = "group_sizes"
      case crossValidatedR2 = "cross_validated_r2"
      case prototypeIDs = "prototype_ids"
      case groupedProbes = "grouped_probes"
    }
  }

  /// Deletion/insertion AUC of GradCAM next to a random order.
  public struct FaithfulnessSummary: Codable, Sendable, Equatable {
    public var step: Int
    public var deletion: Double
    public var insertion: Double
    public var randomDeletion: Double
    public var randomInsertion: Double

    enum CodingKeys: String, CodingKey {
      case step, deletion, insertion
      case randomDeletion = "random_deletion"
      case randomInsertion = "random_insertion"
    }
  }

  /// A prototype whose evidence swung between two classes.
  public struct UncertainPrototype: Codable, Sendable, Equatable {
    public var prototype: Int
    public var pair: [Int]
    public var flips: Int
    public var score: Double
    /// Sign of Δ_ab per interval of the window (+1 toward a, −1 toward b, 0 not significant).
    public var signs: [Int]
    public var steps: [Int]
    public var examples: [Example]

    /// Creates a flag.
    public init(
      prototype: Int, pair: [Int], flips: Int, score: Double, signs: [Int], steps: [Int], examples: [Example]
    ) {
      self.prototype = prototype
      self.pair = pair
      self.flips = flips
      self.score = score
      self.signs = signs
      self.steps = steps
      self.examples = examples
    }
  }
}

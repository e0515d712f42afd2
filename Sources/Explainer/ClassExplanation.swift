/// The data-free explanation of one class (DESIGN §8), with its controls: the unguided
/// prior's score, the oracle's judgement and the model-randomisation sanity check.
/// Encoded with snake_case keys (`i2x explain --json`, schema `i2x.explanation/1`).
public struct ClassExplanation: Codable, Equatable, Sendable {
  /// Schema tag.
  public static let schema = "i2x.explanation/1"

  /// How the samples were made.
  public struct Settings: Codable, Equatable, Sendable {
    /// Samples per set (guided, unguided, each sanity set).
    public var count: Int
    /// Guidance scale s.
    public var scale: Double
    /// Guidance on for t ≤ fraction · T.
    public var guidedFraction: Double
    /// DDIM steps, and how many of them were guided.
    public var ddimSteps: Int, guidedSteps: Int
    /// Seed of the starting noise (the second sanity seed is seed + 1).
    public var seed: UInt64

    enum CodingKeys: String, CodingKey {
      case count, scale, seed
      case guidedFraction = "guided_fraction"
      case ddimSteps = "ddim_steps"
      case guidedSteps = "guided_steps"
    }
  }

  /// One stage of the model-randomisation check.
  public struct RandomizationStage: Codable, Equatable, Sendable {
    /// Layers whose parameters were re-initialised.
    public var layers: [String]
    /// Distance between the guided samples of the trained and of the randomised model.
    public var distance: Double
    /// The randomised model's activation score on its own guided samples.
    public var activation: Proportion
  }

  /// The sanity check: the explanation must change when the model does.
  public struct Sanity: Codable, Equatable, Sendable {
    /// Feature space of the distances: `oracle_penultimate` or `pixels`.
    public var space: String
    /// Fréchet distance between guided samples from two seeds of the unchanged model.
    public var distanceSeeds: Double
    /// Cascading randomisation: the final layer(s), then down into the target conv block.
    public var stages: [RandomizationStage]
    /// A stage passes when its distance ≥ `threshold` × `distanceSeeds`.
    public var threshold: Double
    /// Every stage passed.
    public var passed: Bool

    enum CodingKeys: String, CodingKey {
      case space, stages, threshold, passed
      case distanceSeeds = "distance_seeds"
    }
  }

  /// Schema tag.
  public var schema = ClassExplanation.schema
  /// The explained class.
  public var classIndex: Int
  /// Its name, when the run has names.
  public var className: String?
  /// Sampling settings.
  public var settings: Settings
  /// Share of guided samples the classifier assigns to the class (DEXTER's activation score).
  public var activation: Proportion
  /// The same share for unguided samples of the prior.
  public var priorActivation: Proportion
  /// The oracle's share of guided samples in the class (nil without an oracle).
  public var oracle: Proportion?
  /// The oracle's share of unguided samples in the class.
  public var oraclePrior: Proportion?
  /// The sanity check.
  public var sanity: Sanity
  /// Plain statements built only from the numbers above.
  public var verdicts: [String]
  /// Wall time of the explanation.
  public var seconds: Double

  enum CodingKeys: String, CodingKey {
    case schema, settings, activation, oracle, sanity, verdicts, seconds
    case classIndex = "class_index"
    case className = "class_name"
    case priorActivation = "prior_activation"
    case oraclePrior = "oracle_prior"
  }
}

import Foundation

/// A targeted-perturbation fine-tune request (DESIGN §7), as the daemon sends it in an ack's
/// directive payload. It carries everything the trainer needs: the pair, the uncertain
/// prototypes, the vocabulary that defines them (PCA basis and centres) and the thresholds.
public struct FineTuneDirective: Codable, Sendable, Equatable {
  /// Format tag of the directives this version writes; a trainer refuses (reports `failed`) any
  /// not in `readableFormats`. 2: the vocabulary's `centre_ids` (JSON schema_version 2).
  public static let format = "i2x.directive/2"
  /// Formats this version reads: its own and /1 (the vocabulary's `centreIDs` spelled in camelCase).
  public static let readableFormats = ["i2x.directive/1", format]

  /// Removal-set thresholds: an image of class a or b is in R when a flagged prototype covers
  /// at least `occupancy` of its cells with mean normalised GradCAM at least `intensity`; R
  /// keeps at most `maximumFraction` of the two classes' training images (highest
  /// occupancy × intensity first).
  public struct Thresholds: Codable, Sendable, Equatable {
    /// Minimum fraction of the target layer's cells assigned to the prototype.
    public var occupancy: Double
    /// Minimum mean normalised GradCAM over those cells.
    public var intensity: Double
    /// Largest |R| as a fraction of the images of classes a and b.
    public var maximumFraction: Double

    enum CodingKeys: String, CodingKey {
      case occupancy, intensity
      case maximumFraction = "maximum_fraction"
    }

    /// DESIGN §7 defaults: 0.1, 0.5, 30%.
    public init(occupancy: Double = 0.1, intensity: Double = 0.5, maximumFraction: Double = 0.3) {
      self.occupancy = occupancy
      self.intensity = intensity
      self.maximumFraction = maximumFraction
    }
  }

  /// `FineTuneDirective.format` (or an earlier one of `readableFormats`).
  public var format: String
  /// Directive id (the daemon's row id).
  public var id: Int
  /// Idempotency key.
  public var key: String
  /// Run name.
  public var run: String
  /// The confused pair (class indices a < b).
  public var pair: [Int]
  /// The pair's class names.
  public var classNames: [String]
  /// Uncertain prototype ids (vocabulary ids).
  public var prototypes: [Int]
  /// PCA basis and centres that define the prototype ids.
  public var vocabulary: VocabularyBasis
  /// Removal-set thresholds.
  public var thresholds: Thresholds
  /// Schedule: `curated-full` (one epoch on D \ R, then one epoch on D).
  public var schedule: String
  /// The analysed step that raised the flag (or the latest, for a manual directive).
  public var step: Int
  /// `auto` (raised by a flag) or `manual` (`i2x finetune`).
  public var source: String

  enum CodingKeys: String, CodingKey {
    case format, id, key, run, pair, prototypes, vocabulary, thresholds, schedule, step, source
    case classNames = "class_names"
  }

  /// Creates a directive.
  public init(
    id: Int, key: String, run: String, pair: [Int], classNames: [String], prototypes: [Int],
    vocabulary: VocabularyBasis, thresholds: Thresholds = Thresholds(), step: Int, source: String
  ) {
    self.format = Self.format
    self.id = id
    self.key = key
    self.run = run
    self.pair = pair
    self.classNames = classNames
    self.prototypes = prototypes
    self.vocabulary = vocabulary
    self.thresholds = thresholds
    self.schedule = "curated-full"
    self.step = step
    self.source = source
  }

  /// Parses and checks a directive payload.
  /// - Throws: `FineTuneDirectiveError` naming what is wrong (unknown format, bad pair,
  ///   inconsistent vocabulary, thresholds out of range).
  public init(json: String) throws(FineTuneDirectiveError) {
    let decoded: FineTuneDirective
    do { decoded = try JSONDecoder().decode(FineTuneDirective.self, from: Data(json.utf8)) } catch {
      throw FineTuneDirectiveError("the directive is not valid \(Self.format) JSON: \(error)")
    }
    guard Self.readableFormats.contains(decoded.format) else {
      throw FineTuneDirectiveError(
        "directive format '\(decoded.format)' is not supported by this trainer (it speaks \(Self.format)); upgrade it")
    }
    guard decoded.pair.count == 2, decoded.pair[0] >= 0, decoded.pair[1] >= 0, decoded.pair[0] != decoded.pair[1] else {
      throw FineTuneDirectiveError("the directive's pair \(decoded.pair) is not two distinct class indices")
    }
    guard !decoded.prototypes.isEmpty, decoded.vocabulary.isConsistent else {
      throw FineTuneDirectiveError("the directive names no prototype or carries an inconsistent vocabulary")
    }
    let t = decoded.thresholds
    guard (0...1).contains(t.occupancy), (0...1).contains(t.intensity), t.maximumFraction > 0, t.maximumFraction <= 1
    else {
      throw FineTuneDirectiveError("the directive's thresholds are out of range: \(t)")
    }
    guard decoded.schedule == "curated-full" else {
      throw FineTuneDirectiveError("schedule '\(decoded.schedule)' is not supported (curated-full is)")
    }
    self = decoded
  }

  /// Compact, key-sorted JSON.
  public func json() -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    guard let data = try? encoder.encode(self) else { preconditionFailure("a FineTuneDirective always encodes") }
    return String(decoding: data, as: UTF8.self)
  }
}

/// A directive the trainer cannot act on.
public struct FineTuneDirectiveError: Error, CustomStringConvertible, Equatable {
  /// What is wrong.
  public var description: String
  init(_ description: String) { self.description = description }
}

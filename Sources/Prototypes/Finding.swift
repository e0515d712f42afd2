/// One plain statement about a run, built only from measured facts (DESIGN §6b): its kind, how
/// much it matters, the numbers it rests on (with sample sizes) and the command that shows the
/// evidence. `Findings.build` makes them.
public struct Finding: Codable, Sendable, Equatable {
  /// `fixed-position-cue`, `border-cue`, `background-cue`, `cue-candidate-untested`,
  /// `cue-withdrawn`, `learned-early`, `separated-by` or `evidence-swings`.
  public var kind: String
  /// `high`, `medium`, `low` or `info`.
  public var severity: String
  /// The classes it is about (by index) and their names.
  public var classes: [Int]
  public var classNames: [String]
  /// The prototype it is about, if any.
  public var prototype: Int?
  /// The statement, in words, with its key numbers.
  public var statement: String
  /// The measured numbers it rests on, by name (counts are whole numbers).
  public var numbers: [String: Double]
  /// The command that shows the evidence.
  public var command: String
  /// For a cue: `confirmed` (shaped like a cue at this checkpoint, and the newest test on its
  /// line confirms it), `kept` (established by an earlier test on its line and not refuted
  /// since: a later test fell short of confirming it, or this checkpoint's traits miss a shape
  /// test), `withdrawn` (`cue-withdrawn`: a re-test refuted it); nil for other kinds.
  public var standing: String?

  enum CodingKeys: String, CodingKey {
    case kind, severity, classes
    case classNames = "class_names"
    case prototype, statement, numbers, command, standing
  }

  /// Creates a finding.
  public init(
    kind: String, severity: String, classes: [Int], classNames: [String], prototype: Int?, statement: String,
    numbers: [String: Double], command: String
  ) {
    self.kind = kind
    self.severity = severity
    self.classes = classes
    self.classNames = classNames
    self.prototype = prototype
    self.statement = statement
    self.numbers = numbers
    self.command = command
  }
}

import Foundation

extension Findings {
  /// Where the interventions on one prototype's line (the prototype and its ancestors across
  /// refits, `ancestry`) stand for one class (DESIGN §6b).
  ///
  /// A cue is *established* by a test that confirms it (`confirms`) on a prototype shaped like
  /// a cue at that checkpoint (`Intervention.cueShape`). It stays established through later
  /// checkpoints — whatever a single later checkpoint's traits or test say — and is
  /// *withdrawn* only when re-tests on the line refute it: one that finds no effect at all
  /// (`refutes`: pasting and masking both within their controls' intervals), or two in a row,
  /// at two checkpoints, that fall short of confirming it while the prototype is not shaped
  /// like a cue (it no longer looks like one, and the interventions no longer say it is). A
  /// later confirming test re-establishes a withdrawn cue only if the prototype is again shaped
  /// like a cue. Measured before this rule (held-out seeds 6–10): a named cue dropped out at
  /// single checkpoints when one trait crossed its threshold by a hair (presence 49%, 11–12%
  /// in another class, content variability 0.61–0.64) or a re-test's paste flipped 6% of 300
  /// against 0% (a 10-point lift needed) while masking still took accuracy from 100% to 52%.
  public struct Standing: Sendable, Equatable {
    /// The newest test that confirms the cue since it was established (nil: not established).
    public var evidence: Intervention?
    /// The step of the test that established it (the first of the current standing).
    public var since: Int?
    /// The cue's shape when it was last tested shaped like one.
    public var shape: CueShape?
    /// The newest test on the line, whatever it says.
    public var newest: Intervention?
    /// When withdrawn: the step it was named from and its shape then, the newest test that had
    /// confirmed it, the re-test that withdrew it, and why, in words.
    public var withdrawn: Withdrawal?

    /// A withdrawn cue (`Standing.withdrawn`).
    public struct Withdrawal: Sendable, Equatable {
      public var since: Int
      public var shape: CueShape?
      public var established: Intervention
      public var refutedBy: Intervention
      public var reason: String
    }

    /// The standing after `tests` (one line, one class), oldest first (by step; tests of one
    /// step in the order given).
    public init(tests: [Intervention], thresholds: Thresholds = Thresholds()) {
      let ordered = tests.enumerated().sorted { ($0.element.step, $0.offset) < ($1.element.step, $1.offset) }
      var shortUnshaped: Int?  // the step of the last test short of confirming, unshaped
      for test in ordered.map(\.element) {
        newest = test
        let confirming = confirms(test, thresholds: thresholds)
        if confirming && (evidence != nil || test.cueShape != nil) {
          if evidence == nil { since = test.step }
          evidence = test
          shape = test.cueShape.flatMap(CueShape.init(rawValue:)) ?? shape
          withdrawn = nil
          shortUnshaped = nil
        } else if let established = evidence, refutes(test) {
          withdrawn = Withdrawal(
            since: since ?? established.step, shape: shape, established: established, refutedBy: test,
            reason: "no effect: pasting within its control's interval, masking within the unmasked accuracy's")
          (evidence, since, shortUnshaped) = (nil, nil, nil)
        } else if let established = evidence, !confirming, test.cueShape == nil {
          if let earlier = shortUnshaped, earlier < test.step {
            withdrawn = Withdrawal(
              since: since ?? established.step, shape: shape, established: established, refutedBy: test,
              reason: "short of confirming it at steps \(earlier) and \(test.step) while no longer shaped like a cue")
            (evidence, since, shortUnshaped) = (nil, nil, nil)
          } else {
            shortUnshaped = shortUnshaped ?? test.step
          }
        } else if test.cueShape != nil {
          shortUnshaped = nil
        }
      }
    }

  }

  /// Whether re-test `test` refutes a cue: pasting it flips no more of other classes' probes
  /// than its control (the intervals overlap) and masking it leaves the class's accuracy
  /// within the unmasked accuracy's interval — no effect either way, not merely weaker than
  /// the thresholds that name a cue. (A large region masked can take accuracy from 100% to 0%
  /// while masking as many random cells, half the map, takes it to 30%: not significant against
  /// that control, but not "no effect" either; measured on the constructed texture twin.)
  public static func refutes(_ test: Intervention) -> Bool {
    !test.paste.isSignificant && !test.mask.before.isAbove(test.mask.masked)
  }

  /// Each prototype id of the fit at `step` (the newest of `fits` with that step, else the
  /// newest before it) with its line: the ids it had at earlier fits, itself first, following
  /// each fit's match back while its Jaccard is ≥ `floor` (as `i2x prototypes --history`).
  /// `fits` oldest first, as `DaemonStore.vocabularyLineage` gives them.
  public static func ancestry(
    fits: [(step: Int, ids: [Int], links: [Vocabulary.LineageLink]?)], at step: Int, floor: Double = 0.2
  ) -> [Int: [Int]] {
    guard let last = fits.lastIndex(where: { $0.step <= step }) else { return [:] }
    var lines: [Int: [Int]] = [:]
    for id in fits[last].ids {
      var line = [id]
      var (current, index) = (id, last)
      while index > 0, let link = fits[index].links?.first(where: { $0.id == current }),
        let previous = link.previousID, link.jaccard >= floor, fits[index - 1].ids.contains(previous)
      {
        if previous != current { line.append(previous) }
        (current, index) = (previous, index - 1)
      }
      lines[id] = line
    }
    return lines
  }

  /// The standing of every (prototype, class) of `report` whose line has any test, keyed by
  /// prototype id then class; `interventions` oldest first; `ancestry` as `ancestry(fits:at:)` gives it (missing ids: their
  /// own line only).
  public static func standings(
    _ report: AnalysisReport, _ interventions: [Intervention], ancestry: [Int: [Int]],
    thresholds: Thresholds = Thresholds()
  ) -> [Int: [Int: Standing]] {
    var byLine: [Int: [Int: [Intervention]]] = [:]
    for test in interventions { byLine[test.prototype, default: [:]][test.label, default: []].append(test) }
    var result: [Int: [Int: Standing]] = [:]
    for p in report.prototypes {
      var tests: [Int: [Intervention]] = [:]
      for id in ancestry[p.id] ?? [p.id] {
        for (c, list) in byLine[id] ?? [:] { tests[c, default: []] += list }
      }
      for (c, list) in tests { result[p.id, default: [:]][c] = Standing(tests: list, thresholds: thresholds) }
    }
    return result
  }

  /// The (prototype, class) pairs of `report` whose cue is established and not withdrawn, with
  /// the current ids of the companions it was established with (`Intervention.companions`,
  /// followed along their lines): what a re-test must cover to test the same region.
  public static func established(
    _ report: AnalysisReport, _ interventions: [Intervention], ancestry: [Int: [Int]]
  ) -> [(prototype: Int, label: Int, companions: [Int])] {
    let current = Dictionary(ancestry.flatMap { id, line in line.map { ($0, id) } }) { a, _ in a }
    return standings(report, interventions, ancestry: ancestry).flatMap { id, byClass in
      byClass.compactMap { c, standing in
        standing.evidence.map { test in
          (id, c, Array(Set((test.companions ?? []).compactMap { current[$0] }).subtracting([id])).sorted())
        }
      }
    }.sorted { ($0.prototype, $0.label) < ($1.prototype, $1.label) }
  }
}

import Foundation

/// Builds the findings of a run from its analysis report and the interventions measured on it
/// (DESIGN §6b). Every finding rests only on numbers in those two; the thresholds below are
/// documented in the README with the false-positive rates measured on clean and
/// shuffled-label runs (`scripts/measure-findings.py`).
public enum Findings {
  /// The thresholds of every kind.
  public struct Thresholds: Sendable {
    /// Cue: present (ρ) in at least this fraction of the class's probes…
    public var cuePresence = 0.5
    /// …and in at most this fraction of any other class's (exclusive);
    public var cueExclusive = 0.1
    /// at most this fraction of the map's cells per image (small);
    public var cueSize = 0.25
    /// a fixed-position score (1 − normalised entropy of the footprint) of at least this (a
    /// mark: both tests);
    public var cueFixed = 0.4
    /// A border (when not a mark): at least this share of its footprint on the map's edge cells…
    public var cueEdgeShare = 0.5
    /// …and at least this fraction of the frame pixels under its hot cells lifted
    /// (`PrototypeTraits.frameLifted`);
    public var cueFrameLifted = 0.75
    /// A background (when neither): at least this fraction of the pixels under its cells dark
    /// (`PrototypeTraits.darkShare`)…
    public var cueDarkShare = 0.5
    /// …and those dark pixels lifted at least this much above the other probes' background
    /// (`PrototypeTraits.darkLift`; measured on a clean run: the empty gap between a trouser's
    /// legs, dark share 73%, passed every other test, paste 60% against 32%).
    public var cueDarkLift = 0.05
    /// Every shape: pixel content at most this variable relative to the probe set (near-constant);
    public var cueVariability = 0.6
    /// …except a mark with at least this many constant mark pixels near it
    /// (`PrototypeTraits.markPixels`; a 2×2 square has 4). Chosen after held-out 3×3 Coat marks
    /// were missed: their prototype also covered the coat's edge (content variability 0.61–1.07).
    public var cueMarkPixels = 4
    /// and pasting it onto other classes' probes flips them to the class more often than pasting
    /// a random patch of the same size, beyond both 95% intervals (severity high when masking it
    /// also lowers the class's accuracy beyond its control's interval and below its own, else
    /// medium), with a flip rate at least this much above the control's…
    public var cuePasteLift = 0.2
    /// The lift a large region's paste needs (`Intervention.region` "large": its control,
    /// another class's content at the same place, flipped 0–1% on the planted runs, against
    /// 0–44% for a moved patch; measured on held-out seed 6, a striped T-shirt background
    /// flipped 7–14% of 300 probes, beyond its control's interval, while masking it dropped
    /// T-shirt accuracy from 97% to 0%);
    public var cuePasteLiftLarge = 0.1
    /// …while the class's accuracy on the probes that have the prototype is at least this.
    public var cueClassAccuracy = 0.5
    /// A small region (a mark) must also matter where it is: masking it lowers the class's
    /// accuracy beyond its control's and the unmasked accuracy's intervals, while masking as
    /// large an area elsewhere leaves at least this accuracy. Measured over the candidate tests
    /// of the dev, held-out and fresh runs and of a re-run of held-out seeds 6–9 with the
    /// current engine: of 60 small-region tests that passed the paste gate, 47 of 50 on the
    /// planted class pass this too (the 3 others are parts of a frame or stripes, named by
    /// their large prototypes) and 2 of 10 elsewhere do (shuffled-label runs, which the
    /// accuracy gate silences); a clean run's Coat edge (paste 64% against 37%, masked 2%
    /// against 18%) and Bag top (76% against 42%, masked 92% against 100%) were named before.
    public var cueMaskControlAccuracy = 0.5
    /// Learned early (from the 4th checkpoint on): the class's mean probe accuracy over the
    /// first half of the checkpoints is at least this (near-perfect from the start; measured
    /// on the dev runs: the best class of a clean run 0.925–0.94, a planted Shirt 0.99–1.00;
    /// the earlier 0.95 fired on 3 of 10 clean runs, on Trouser or Bag)…
    public var earlyAccuracy = 0.98
    /// …and at least this much above every other class's (planted runs: 0.035–0.08).
    public var earlyLead = 0.02
    /// Trained checkpoints (step > 0) needed before the rule speaks (its first half then holds
    /// 3: with 2, a clean run's Sandal or Trouser reached 98% over steps 100–200, held-out
    /// seed 7); the rule reads only those.
    public var earlyCheckpoints = 5
    /// Separated by: pairs confused at least this often at some checkpoint (the 3 most confused).
    public var separatedConfusions = 10
    /// The discriminative prototype is present (ρ) in at least this fraction of its class and at
    /// most `cueExclusive` of the other.
    public var separatedPresence = 0.3

    /// The defaults.
    public init() {}
  }

  /// Findings of `report` (of run `run`) given `interventions` (up to its checkpoint) and the
  /// lines of its prototypes across refits (`ancestry(fits:at:)`; empty: each prototype its
  /// own line), in `ordered` order. A cue is named from the test that established it on the
  /// prototype's line until a re-test refutes it (`Standing`).
  public static func build(
    report: AnalysisReport, interventions: [Intervention], ancestry: [Int: [Int]] = [:], run: String,
    thresholds: Thresholds = Thresholds()
  ) -> [Finding] {
    var findings = cues(report, interventions, ancestry, run, thresholds)
    findings += learnedEarly(report, run, thresholds)
    findings += separated(report, run, thresholds)
    findings += swings(report, run)
    return ordered(findings)
  }

  /// Most severe first; within a severity, cues confirmed by their latest test before cues
  /// kept on earlier evidence, then the larger paste lift (flip rate above its control), then
  /// the order given.
  public static func ordered(_ findings: [Finding]) -> [Finding] {
    let rank = ["high": 0, "medium": 1, "low": 2, "info": 3]
    let standing = ["confirmed": 0, "kept": 1]
    func key(_ item: (offset: Int, element: Finding)) -> (Int, Int, Double, Int) {
      let numbers = item.element.numbers
      let lift = (numbers["paste_flip_rate"] ?? 0) - (numbers["paste_control_flip_rate"] ?? 0)
      return (
        rank[item.element.severity] ?? 4, item.element.standing.flatMap { standing[$0] } ?? 2, -lift, item.offset
      )
    }
    return findings.enumerated().sorted { key($0) < key($1) }.map(\.element)
  }

  static func name(_ report: AnalysisReport, _ c: Int) -> String {
    report.classNames.indices.contains(c) ? report.classNames[c] : "\(c)"
  }

  static func percent(_ x: Double) -> String { String(format: "%.0f%%", 100 * x) }

  static func interval(_ b: BinomialInterval) -> String {
    String(format: "%d/%d = %.0f%% [%.0f–%.0f%%]", b.successes, b.trials, 100 * b.rate, 100 * b.lower, 100 * b.upper)
  }

  /// Whether the model tells classes apart: the mean per-class probe accuracy over the last
  /// (up to) 3 checkpoints is at least min(2/K, 1/K + 0.1) — twice chance for 10 classes, the
  /// uncertain rule's gate. A model trained on shuffled labels predicts one or two classes
  /// nearly everywhere (measured: 0.02–0.22 at single checkpoints, never above 0.15 over 3),
  /// and what moves its predictions says nothing about a learned class.
  public static func tellsClassesApart(_ report: AnalysisReport) -> Bool {
    let k = Double(max(1, report.classes.count))
    let checkpoints = report.steps.count
    guard checkpoints > 0 else { return false }
    let recent = max(0, checkpoints - 3)..<checkpoints
    var total = 0.0
    for t in recent {
      total += report.classes.reduce(0.0) { $0 + ($1.accuracy.indices.contains(t) ? $1.accuracy[t] : 0) } / k
    }
    return total / Double(recent.count) >= min(2 / k, 1 / k + 0.1)
  }

  /// Mean of the first ⌈count/2⌉ values.
  static func earlyMean(_ accuracy: [Double]) -> Double {
    let half = accuracy.prefix((accuracy.count + 1) / 2)
    return half.isEmpty ? 0 : half.reduce(0, +) / Double(half.count)
  }

  static func learnedEarly(_ report: AnalysisReport, _ run: String, _ thresholds: Thresholds) -> [Finding] {
    // Trained checkpoints only: the initial weights (step 0) are at chance for every class.
    let trained = report.steps.indices.filter { report.steps[$0] > 0 }
    let steps = trained.map { report.steps[$0] }
    guard report.classes.count >= 2, steps.count >= thresholds.earlyCheckpoints, tellsClassesApart(report)
    else { return [] }
    let means = report.classes.map { progress in
      earlyMean(trained.filter { progress.accuracy.indices.contains($0) }.map { progress.accuracy[$0] })
    }
    var findings: [Finding] = []
    for (index, progress) in report.classes.enumerated() {
      let next = means.enumerated().filter { $0.offset != index }.map(\.element).max() ?? 0
      guard means[index] >= thresholds.earlyAccuracy, means[index] - next >= thresholds.earlyLead else { continue }
      let half = (steps.count + 1) / 2
      findings.append(
        Finding(
          kind: "learned-early", severity: "low", classes: [progress.label], classNames: [progress.name],
          prototype: nil,
          statement: "class \(progress.name) is learned unusually early: its mean probe accuracy over the first "
            + "\(half) checkpoints (steps \(steps[0])–\(steps[half - 1])) is \(percent(means[index])), "
            + "\(String(format: "%.0f", 100 * (means[index] - next))) points above the next class's \(percent(next))",
          numbers: [
            "early_mean_accuracy": means[index], "next_class_early_mean_accuracy": next, "checkpoints": Double(half),
            "last_early_step": Double(steps[half - 1]),
          ], command: "i2x progress \(run) --class \(progress.label)"))
    }
    return findings
  }

  static func separated(_ report: AnalysisReport, _ run: String, _ thresholds: Thresholds) -> [Finding] {
    // Only pairs that stayed separated for at least one checkpoint after.
    guard tellsClassesApart(report), let last = report.steps.last else { return [] }
    let byID = Dictionary(report.prototypes.map { ($0.id, $0) }) { a, _ in a }
    let pairs = report.pairs.filter {
      ($0.separationStep.map { $0 < last } ?? false) && ($0.confusions.max() ?? 0) >= thresholds.separatedConfusions
    }.sorted { ($0.confusions.max() ?? 0) > ($1.confusions.max() ?? 0) }.prefix(3)
    var findings: [Finding] = []
    for pair in pairs {
      guard let evidence = pair.accumulated, let step = pair.separationStep else { continue }
      for (side, other, list) in [
        (pair.a, pair.b, evidence.discriminativeForA), (pair.b, pair.a, evidence.discriminativeForB),
      ] {
        guard let id = list.first, let p = byID[id], p.presence[side] >= thresholds.separatedPresence,
          p.presence[other] <= thresholds.cueExclusive
        else { continue }
        findings.append(
          Finding(
            kind: "separated-by", severity: "info", classes: [side, other],
            classNames: [name(report, side), name(report, other)], prototype: id,
            statement: "\(name(report, side)) and \(name(report, other)) are separated by prototype \(id) "
              + "(separated at step \(step); the prototype has the most accumulated evidence for "
              + "\(name(report, side)) over \(name(report, other)), present in \(percent(p.presence[side])) of "
              + "\(name(report, side)) probes and \(percent(p.presence[other])) of \(name(report, other))'s)",
            numbers: [
              "separation_step": Double(step), "peak_confusions": Double(pair.confusions.max() ?? 0),
              "presence": p.presence[side], "presence_other": p.presence[other],
            ], command: "i2x pairs \(run)"))
      }
    }
    return findings
  }

  static func swings(_ report: AnalysisReport, _ run: String) -> [Finding] {
    report.uncertain.map { flag in
      let (a, b) = (flag.pair[0], flag.pair[1])
      return Finding(
        kind: "evidence-swings", severity: "medium", classes: [a, b], classNames: [name(report, a), name(report, b)],
        prototype: flag.prototype,
        statement: "prototype \(flag.prototype)'s evidence swings between \(name(report, a)) and \(name(report, b)) "
          + "(\(flag.flips) sign flips over the last \(flag.signs.count) intervals, score "
          + String(format: "%.2f)", flag.score),
        numbers: ["flips": Double(flag.flips), "score": flag.score, "intervals": Double(flag.signs.count)],
        command: "i2x uncertain \(run)")
    }
  }
}

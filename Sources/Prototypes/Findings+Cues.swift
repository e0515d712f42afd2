import Foundation

/// The shape of a spurious cue, read from a prototype's measured traits (DESIGN §6b).
public enum CueShape: String, Sendable, CaseIterable {
  /// Small and at a fixed position: a mark.
  case mark
  /// Mostly on the map's edge cells, with the image's outermost pixels there brighter where
  /// it is present: a frame around the image.
  case border
  /// Mostly on dark (background) pixels: something on the background around the object.
  case background

  /// The finding kind that names a cue of this shape.
  public var kind: String {
    switch self {
    case .mark: "fixed-position-cue"
    case .border: "border-cue"
    case .background: "background-cue"
    }
  }

  /// The kind's words in a statement.
  var words: String {
    switch self {
    case .mark: "a fixed-position cue"
    case .border: "a border cue"
    case .background: "a background cue"
    }
  }
}

extension Findings {
  /// The shape of cue prototype `p` looks like for class `c` before any intervention, or nil:
  /// every shape needs it present in ≥ `cuePresence` of c's probes and ≤ `cueExclusive` of any
  /// other class's, with near-constant content (≤ `cueVariability`); then a **mark** is small
  /// (≤ `cueSize`) and fixed (≥ `cueFixed`); else a **border** has ≥ `cueEdgeShare` of its
  /// footprint on the edge cells and ≥ `cueFrameLifted` of the frame pixels under them lifted;
  /// else a **background** has ≥ `cueDarkShare` of the pixels under its cells dark, lifted by
  /// ≥ `cueDarkLift` above the other probes' background.
  public static func cueShape(
    _ p: AnalysisReport.PrototypeSummary, _ c: Int, thresholds: Thresholds = Thresholds()
  ) -> CueShape? {
    guard let traits = p.traits, p.presence.indices.contains(c), p.presence[c] >= thresholds.cuePresence,
      let variability = traits.contentVariability, variability <= thresholds.cueVariability
    else { return nil }
    let others = p.presence.enumerated().filter { $0.offset != c }.map(\.element).max() ?? 0
    guard others <= thresholds.cueExclusive else { return nil }
    if traits.sizeFraction <= thresholds.cueSize && traits.fixedPosition >= thresholds.cueFixed { return .mark }
    if (traits.edgeShare ?? 0) >= thresholds.cueEdgeShare && (traits.frameLifted ?? 0) >= thresholds.cueFrameLifted {
      return .border
    }
    if (traits.darkShare ?? 0) >= thresholds.cueDarkShare && (traits.darkLift ?? 0) >= thresholds.cueDarkLift {
      return .background
    }
    return nil
  }

  /// Whether prototype `p` looks like a cue of class `c` of any shape (`cueShape`).
  public static func isCueCandidate(
    _ p: AnalysisReport.PrototypeSummary, _ c: Int, thresholds: Thresholds = Thresholds()
  ) -> Bool {
    cueShape(p, c, thresholds: thresholds) != nil
  }

  /// Where the hot cells are, in map cells and image pixels.
  static func location(_ traits: PrototypeTraits, _ report: AnalysisReport) -> String {
    let shape = report.vocabulary.mapShape ?? []
    guard shape.count == 2, shape[1] > 0, !traits.hotCells.isEmpty else { return "cells \(traits.hotCells)" }
    let rows = traits.hotCells.map { $0 / shape[1] }
    let columns = traits.hotCells.map { $0 % shape[1] }
    var text =
      "map cells rows \(rows.min() ?? 0)–\(rows.max() ?? 0), columns \(columns.min() ?? 0)–\(columns.max() ?? 0) "
      + "of \(shape[0])×\(shape[1])"
    if let box = traits.pixelBox, box.count == 4 {
      text += " (pixels y \(box[0])–\(box[2]), x \(box[1])–\(box[3]))"
    }
    return text
  }

  /// Whether intervention `test` confirms a cue: pasting flips other classes' probes beyond the
  /// control's interval and by at least `cuePasteLift` (`cuePasteLiftLarge` for a large
  /// region), and the class's accuracy on the probes
  /// with the prototype is at least `cueClassAccuracy`.
  public static func confirms(_ test: Intervention, thresholds: Thresholds = Thresholds()) -> Bool {
    let lift = test.region == "large" ? thresholds.cuePasteLiftLarge : thresholds.cuePasteLift
    return test.paste.isSignificant && test.paste.pasted.rate - test.paste.control.rate >= lift
      && test.mask.before.rate >= thresholds.cueClassAccuracy
  }

  /// The image edges its hot cells touch ("top", "bottom", "left", "right").
  static func sides(_ traits: PrototypeTraits, _ report: AnalysisReport) -> [String] {
    let shape = report.vocabulary.mapShape ?? []
    guard shape.count == 2, shape[1] > 0 else { return [] }
    let (h, w) = (shape[0], shape[1])
    let rows = traits.hotCells.map { $0 / w }
    let columns = traits.hotCells.map { $0 % w }
    return [
      ("top", rows.contains(0)), ("bottom", rows.contains(h - 1)), ("left", columns.contains(0)),
      ("right", columns.contains(w - 1)),
    ].filter(\.1).map(\.0)
  }

  /// Where a cue of `shape` is, in words, with the traits that place it there.
  static func place(_ shape: CueShape, _ traits: PrototypeTraits, _ report: AnalysisReport) -> String {
    let variability = String(format: "content variability %.2f", traits.contentVariability ?? 0)
    switch shape {
    case .mark:
      return String(
        format: "at %@, fixed-position score %.2f, %.1f cells per image, %@", location(traits, report),
        traits.fixedPosition, traits.meanCells, variability)
    case .border:
      let edges = sides(traits, report)
      return String(
        format: "on the image border (its %@ edge%@; %@): %@ of the image's outermost pixels there are "
          + "brighter where it is present than elsewhere, %@ of its footprint on the map's edge cells, %.1f cells per "
          + "image, %@",
        edges.joined(separator: ", "), edges.count == 1 ? "" : "s", location(traits, report),
        percent(traits.frameLifted ?? 0), percent(traits.edgeShare ?? 0),
        traits.meanCells, variability)
    case .background:
      return String(
        format: "on the background around the object (%@): %@ of the pixels under its cells are dark (below "
          + "%.0f%% of full scale) and on average %.2f brighter than the other probes' background, %.1f cells per "
          + "image (%@ of the map), %@",
        location(traits, report), percent(traits.darkShare ?? 0), 100 * PrototypeTraits.darkBelow,
        traits.darkLift ?? 0, traits.meanCells, percent(traits.sizeFraction), variability)
    }
  }

  static func cues(
    _ report: AnalysisReport, _ interventions: [Intervention], _ run: String, _ thresholds: Thresholds
  ) -> [Finding] {
    guard tellsClassesApart(report) else { return [] }
    var newest: [String: Intervention] = [:]
    for i in interventions where (newest["\(i.prototype)-\(i.label)"]?.step ?? Int.min) < i.step {
      newest["\(i.prototype)-\(i.label)"] = i
    }
    var findings: [Finding] = []
    for p in report.prototypes {
      for c in p.presence.indices {
        guard let shape = cueShape(p, c, thresholds: thresholds), let traits = p.traits else { continue }
        let others = p.presence.enumerated().filter { $0.offset != c }.map(\.element).max() ?? 0
        var numbers: [String: Double] = [
          "presence": p.presence[c], "presence_elsewhere_max": others, "fixed_position": traits.fixedPosition,
          "size_fraction": traits.sizeFraction, "mean_cells": traits.meanCells,
          "content_variability": traits.contentVariability ?? 0, "present_probes": Double(traits.presentProbes),
        ]
        numbers["edge_share"] = traits.edgeShare
        numbers["frame_lifted"] = traits.frameLifted
        numbers["dark_share"] = traits.darkShare
        numbers["dark_lift"] = traits.darkLift
        let described =
          "present in \(percent(p.presence[c])) of \(name(report, c)) probes and ≤ \(percent(others)) of any other "
          + "class's, \(place(shape, traits, report))"
        guard let test = newest["\(p.id)-\(c)"] else {
          findings.append(
            Finding(
              kind: "cue-candidate-untested", severity: "info", classes: [c], classNames: [name(report, c)],
              prototype: p.id,
              statement: "prototype \(p.id) looks like \(shape.words) of class \(name(report, c)) (\(described)); "
                + "not yet tested by intervention", numbers: numbers,
              command: "i2x intervene \(run) --prototype \(p.id) --class \(c)"))
          continue
        }
        let mask = test.mask
        let paste = test.paste
        // Pasting must flip other classes' probes: masking alone also "finds" regions whose
        // replacement by the mean image is merely unusual (measured: the empty left edge of
        // Dress images on a clean run, content variability 0.00, masked accuracy 35% against
        // 61%, paste 1% against 9%).
        // The lift must be large too (measured on a clean run: pasting the empty band above
        // Sneakers flipped 21% against 11%: significant, and a real shape cue, not a mark), and
        // the class learned where the prototype is (≥ 50% accuracy before any intervention).
        guard confirms(test, thresholds: thresholds) else { continue }
        numbers["intervention_step"] = Double(test.step)
        numbers["mask_probes"] = Double(mask.before.trials)
        numbers["mask_accuracy_before"] = mask.before.rate
        for (key, rate) in [
          ("mask_accuracy_masked", mask.masked), ("mask_accuracy_control", mask.control),
          ("paste_flip_rate", paste.pasted), ("paste_control_flip_rate", paste.control),
        ] {
          numbers[key] = rate.rate
          numbers[key + "_lower"] = rate.lower
          numbers[key + "_upper"] = rate.upper
        }
        numbers["paste_probes"] = Double(paste.pasted.trials)
        let controls =
          test.region != "large"
          ? ("a random area of the same size", "a random patch")
          : ("as many random cells", "the same region from another class's probe")
        let parts =
          test.companions.map {
            " (with prototypes \($0.map(String.init).joined(separator: ", ")), the other parts of the same cue)"
          } ?? ""
        let evidence =
          "masking it\(parts) at step \(test.step) leaves \(name(report, c)) accuracy \(interval(mask.masked)) against "
          + "\(interval(mask.control)) for \(controls.0) (before: \(percent(mask.before.rate))); "
          + "pasting it onto other classes' probes flips \(interval(paste.pasted)) to \(name(report, c)) against "
          + "\(interval(paste.control)) for \(controls.1)"
        findings.append(
          Finding(
            kind: shape.kind, severity: mask.isSignificant ? "high" : "medium",
            classes: [c], classNames: [name(report, c)], prototype: p.id,
            statement:
              "class \(name(report, c)) relies on \(shape.words), prototype \(p.id): \(described); \(evidence)",
            numbers: numbers, command: "i2x intervene \(run) --prototype \(p.id) --class \(c)"))
      }
    }
    return findings
  }
}

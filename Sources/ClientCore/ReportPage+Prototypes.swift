import Charts
import Foundation
import Imaging
import Prototypes

extension ReportPage {
  /// Per class: GradCAM overlays of its probes and the prototypes most present in it; then every
  /// prototype with its presence, examples and (when the daemon measures it) footprint.
  func prototypesSection() -> String {
    guard case .success(let analysis) = inputs.analysis else {
      return absent("prototype galleries: \(analysisReason())")
    }
    let report = analysis.report
    let probe: ReportInputs.ProbeData?
    var out = ""
    switch inputs.probe {
    case .success(let data): probe = data
    case .failure(let absence):
      probe = nil
      out += absent("probe images (galleries and GradCAM overlays): \(absence.reason)")
    }
    out +=
      "<p>Prototypes are clusters of target-layer cells over all probe images (a shared vocabulary, not one per "
      + "class), fitted on step \(report.vocabulary.fittedOnStep). ρ is the share of a class's probes where the "
      + "prototype is attended (intensity ≥ 0.5).</p>"
    for c in report.classes.sorted(by: { $0.label < $1.label }) {
      out += "<h3 id=\"class-\(c.label)\">\(esc(c.name))</h3>"
      out +=
        "<p>Probe accuracy \(Self.percent(c.accuracy.last ?? 0)), mean true-class confidence "
        + "\(Self.fixed(c.confidence.last ?? 0, 2)), attention concentration \(Self.fixed(c.concentration.last ?? 0, 2)) "
        + "(0: on one prototype, 1: spread over all).</p>"
      out += "<div class=\"gallery\">"
      if let probe {
        let members = probe.labels.indices.filter { probe.labels[$0] == c.label }.prefix(6)
        if !members.isEmpty {
          out += figure(
            image(
              ReportImages.overlays(probe, probes: Array(members)),
              alt: "GradCAM overlays of \(c.name) probes"),
            caption:
              "GradCAM for the true class on \(members.count) of its probes (probe indices "
              + members.map(String.init).joined(separator: ", ")
              + "), viridis over the image: yellow = where the evidence for \(esc(c.name)) is, dark = none.")
        }
      }
      let top = report.prototypes.filter { ($0.presence[safe: c.label] ?? 0) >= 0.1 }
        .sorted { ($0.presence[safe: c.label] ?? 0) > ($1.presence[safe: c.label] ?? 0) }.prefix(4)
      if top.isEmpty {
        out += "<p>No prototype is attended in at least 10% of this class's probes.</p>"
      }
      for prototype in top {
        var examples = prototype.examples.filter { $0.label == c.label }
        if examples.isEmpty { examples = prototype.examples }
        let strip =
          probe.map { probe -> String in
            image(
              ReportImages.strip(probe, examples: Array(examples.prefix(4))),
              alt: "prototype \(prototype.id) in \(c.name)")
          } ?? ""
        out += figure(
          strip,
          caption:
            "\(prototypeLink(prototype.id)): ρ = \(Self.fixed(prototype.presence[safe: c.label] ?? 0, 2)) in \(esc(c.name))"
            + (prototype.sharedBy.count > 1 ? ", shared by \(prototype.sharedBy.count) classes" : "")
            + ". Red-tinted cells are the prototype's.")
      }
      out += "</div>"
    }
    out += prototypeTable(analysis, probe: probe)
    return out
  }

  /// Every prototype: presence, roles, examples, footprint.
  func prototypeTable(_ analysis: ReportInputs.Analysis, probe: ReportInputs.ProbeData?) -> String {
    let report = analysis.report
    let raw = analysis.raw["prototypes"] as? [[String: Any]] ?? []
    let mapShape =
      ((analysis.raw["vocabulary"] as? [String: Any])?["map_shape"] as? [Int])
      ?? probe.map { [$0.mapHeight, $0.mapWidth] }
    let footprints: [Int: [Double]] = Dictionary(
      raw.compactMap { row -> (Int, [Double])? in
        guard let id = row["id"] as? Int, let traits = row["traits"] as? [String: Any],
          let footprint = traits["footprint"] as? [Double]
        else { return nil }
        return (id, footprint)
      }, uniquingKeysWith: { a, _ in a })
    var out = "<h3>All prototypes</h3>"
    if footprints.isEmpty {
      out += absent(
        "footprints (how often each target-layer cell belongs to a prototype across probes): this daemon's analysis "
          + "does not measure them")
    }
    out += "<details open><summary>\(report.prototypes.count) prototypes</summary><table><tr><th>id</th>"
    out += "<th>most present in (ρ)</th><th>shared by</th><th>specialised for</th><th>examples (cells tinted)</th>"
    out += "<th>footprint</th></tr>"
    for prototype in report.prototypes {
      let present = prototype.presence.indices.sorted { prototype.presence[$0] > prototype.presence[$1] }.prefix(3)
        .filter { prototype.presence[$0] > 0 }
        .map { "\(classLink($0)) \(Self.fixed(prototype.presence[$0], 2))" }.joined(separator: "<br>")
      let examples =
        probe.map {
          image(ReportImages.strip($0, examples: Array(prototype.examples.prefix(4))), alt: "prototype \(prototype.id)")
        } ?? "-"
      var footprint = "-"
      if let values = footprints[prototype.id], let shape = mapShape, shape.count == 2,
        values.count == shape[0] * shape[1]
      {
        footprint = GridMap(
          title: "footprint of prototype \(prototype.id)", values: values, rows: shape[0], columns: shape[1],
          range: (0, 1)
        ).svg()
      }
      out += "<tr id=\"prototype-\(prototype.id)\"><td class=\"num\">\(prototype.id)</td><td>\(present)</td>"
      out += "<td>\(prototype.sharedBy.map { classLink($0) }.joined(separator: ", "))</td>"
      out += "<td>\(prototype.specialisedFor.map { classLink($0) }.joined(separator: ", "))</td>"
      out += "<td>\(examples)</td><td>\(footprint)</td></tr>"
    }
    out += "</table></details>"
    out +=
      "<p class=\"caption\">Shared: attended in ≥ 80% of the class's probes. Specialised: in 10–80% and enriched "
      + "in one learning group. A footprint square is yellow where the prototype sits in most probes that have it "
      + "(a fixed position is suspicious: a mark rather than an object part).</p>"
    return out
  }

  /// Intra-class attention profile over checkpoints: one heat map per class.
  func attentionSection() -> String {
    guard case .success(let analysis) = inputs.analysis else {
      return absent("attention profiles: \(analysisReason())")
    }
    let samples = inputs.profiles
    guard samples.count >= 2 else {
      return absent("attention profiles over checkpoints: fewer than two analysed checkpoints to compare")
    }
    let classes = analysis.report.classes.sorted { $0.label < $1.label }
    let high = samples.flatMap { $0.profiles.flatMap { $0 } }.filter(\.isFinite).max() ?? 1
    var out =
      "<p>Each map shows, for one class, how much attention (mean GradCAM intensity over the class's probes) each "
      + "prototype gets at \(samples.count) checkpoints"
      + (samples.count < analysis.report.steps.count
        ? " (evenly spaced among the \(analysis.report.steps.count) analysed, always including the latest)" : "")
      + (inputs.profilesVocabularyStep.map {
        ". Every column is under one vocabulary, the one fitted at step \($0), recomputed from each checkpoint's "
          + "cached GradCAM maps (I2X's retrospective view), so a prototype keeps its row. Rows: the 12 "
      }
        ?? (". Each column is the analysis as it stood at that checkpoint, under the vocabulary fitted then; ids are "
          + "kept across refits by cell overlap, and a grey cell means the prototype did not exist then. Rows: the 12 "))
      + "prototypes with the most attention in the class at any shown checkpoint. One colour scale for all classes "
      + "(0 to \(Self.fixed(high, 2))), so maps compare.</p><div class=\"gallery\">"
    for c in classes {
      var peak: [Int: Double] = [:]
      for sample in samples {
        guard sample.profiles.indices.contains(c.label) else { continue }
        for (k, id) in sample.prototypeIDs.enumerated() where k < sample.profiles[c.label].count {
          peak[id] = max(peak[id] ?? 0, sample.profiles[c.label][k])
        }
      }
      let rows = peak.keys.sorted { (peak[$0] ?? 0, -$0) > (peak[$1] ?? 0, -$1) }.prefix(NiceTicks.limit)
      guard !rows.isEmpty else { continue }
      let values = rows.map { id in
        samples.map { sample -> Double? in
          guard sample.profiles.indices.contains(c.label), let k = sample.prototypeIDs.firstIndex(of: id),
            k < sample.profiles[c.label].count
          else { return nil }
          return sample.profiles[c.label][k]
        }
      }
      var map = HeatMap(
        title: "\(c.name): attention per prototype", rowLabels: rows.map { "prototype \($0)" },
        columnLabels: samples.map { "\($0.step)" }, values: values, columnAxisLabel: "checkpoint step",
        valueLabel: "attention", range: (0, high))
      map.width = 520
      map.rowLinks = rows.map { "prototype-\($0)" }
      out += figure(
        map.svg(),
        caption:
          "\(classLink(c.label)): a row that brightens is a part the model learns to look at for this class; a row "
          + "that fades is one it stops using. Drift at the latest interval: \(Self.fixed(c.drift.last ?? 0)) "
          + "(1 − cosine between consecutive profiles).")
    }
    return out + "</div>"
  }

  func analysisReason() -> String {
    if case .failure(let absence) = inputs.analysis { return absence.reason }
    return "no analysis"
  }
}

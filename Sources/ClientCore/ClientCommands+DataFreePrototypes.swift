import CLI
import Foundation
import Wire

/// `i2x prototypes RUN --data-free`: ProDG's question (DESIGN §8) as a daemon explainer job —
/// do the prototypes the classifier's weights imply, seen through guided samples, match the ones
/// its probe images use?
extension ClientCommands {
  /// The class of explanation rows about every class (the daemon's `DaemonStore.everyClass`).
  static let everyClass = -1

  static let dataFreePrototypesDiscussion = """
    With --data-free: the daemon's explainer draws guided samples of every class (up to 50 each)
    from its generative prior, observes them with the checkpoint's classifier for their class and
    assigns their cells to the run's current vocabulary. Per class it reports the cosine between the
    samples' attention profile and the probe images' profile from the checkpoint's analysis, next to
    the control: the mean cosine with the other classes' probe profiles. It also fits a vocabulary on
    the synthetic cells alone and compares it with the run's by nearest-prototype accuracy on the
    probe images (95% Wilson intervals, chance 1/classes): the probe images are evaluation data
    only. Default checkpoint: the latest analysed one. Under the explain policy auto the daemon
    makes one per run, at the first analysis that flags an uncertain prototype.
    """

  static func dataFreePrototypes(_ options: ParsedOptions, out: (String) -> Void) throws -> ExitCode {
    for name in ["id", "class"] where options.string(name) != nil {
      throw UsageError("--\(name) does not apply with --data-free", hint: prototypesSpec.hint)
    }
    if options.flag("history") {
      throw UsageError("--history does not apply with --data-free", hint: prototypesSpec.hint)
    }
    let header = CommandHeader(
      command: "prototypes", run: options.positionals[0], step: try options.int("checkpoint", minimum: 0))
    let row = try requestAndWait(options, header)
    if options.flag("json") {
      try printJSON(row.merging(["schema_version": schemaVersion]) { _, new in new }, out: out)
    } else {
      out(dataFreePrototypesText(row))
    }
    return row["state"] as? String == "failed" ? .dataError : .success
  }

  /// A data-free prototypes row in words: per class the profile cosine and its control, then
  /// the two vocabularies' nearest-prototype accuracies.
  static func dataFreePrototypesText(_ row: [String: Any]) -> String {
    guard row["state"] as? String == "done", let d = row["explanation"] as? [String: Any] else {
      return "data-free prototypes \(row["id"] ?? "?"): \(row["state"] ?? "?") \(row["error"] as? String ?? "")"
    }
    let names = d["class_names"] as? [String] ?? []
    let cosines = d["profile_cosine"] as? [Double] ?? []
    let others = d["profile_cosine_other_classes"] as? [Double] ?? []
    var lines = [
      "data-free prototypes at step \(d["step"] ?? "?") (vocabulary of step \(d["vocabulary_step"] ?? "?"), "
        + "\(d["samples_per_class"] ?? "?") guided samples per class, \(d["probes"] ?? "?") probe images):",
      "  class           profile cosine  other classes' profiles (control)",
    ]
    for (c, cosine) in cosines.enumerated() {
      let name = names.indices.contains(c) ? names[c] : "class \(c)"
      lines.append(
        "  " + name.padding(toLength: 14, withPad: " ", startingAt: 0)
          + String(format: "  %.3f           %.3f", cosine, others.indices.contains(c) ? others[c] : 0))
    }
    if let best = d["own_profile_best"] as? [String: Any] {
      lines.append(
        "  own class's profile the closest for \(best["hits"] as? Int ?? 0) of \(best["trials"] as? Int ?? 0) classes "
          + proportionText(best))
    }
    lines.append(
      "  nearest-prototype accuracy on the probe images: synthetic vocabulary "
        + proportionText(d["accuracy_synthetic_vocabulary"]) + ", the run's vocabulary "
        + proportionText(d["accuracy_data_vocabulary"])
        + String(format: " (chance %.0f%%)", (d["chance"] as? Double ?? 0) * 100))
    if let statement = d["data_free"] as? String { lines.append("  " + statement) }
    for warning in (row["warnings"] as? [String]) ?? [] { lines.append("warning: \(warning)") }
    return lines.joined(separator: "\n")
  }

  /// The class-summary sentence from a done data-free prototypes row, citing its numbers: the
  /// prototypes the class's guided samples attend to most and how their profile matches the
  /// probe images'; nil when the row has no numbers for the class.
  static func dataFreePrototypesSentence(_ row: [String: Any], classIndex c: Int, name: String) -> String? {
    guard let d = row["explanation"] as? [String: Any], let ids = d["prototype_ids"] as? [Int],
      let profiles = d["synthetic_profiles"] as? [[Double]], profiles.indices.contains(c),
      profiles[c].count == ids.count, let cosine = (d["profile_cosine"] as? [Double])?[safe: c],
      let other = (d["profile_cosine_other_classes"] as? [Double])?[safe: c]
    else { return nil }
    let profile = profiles[c]
    let top = profile.indices.filter { profile[$0] > 0 }.sorted { profile[$0] > profile[$1] }.prefix(3)
    guard !top.isEmpty else { return nil }
    return "Data-free, its guided samples attend most to prototypes "
      + top.map { String(format: "%d (mean intensity %.2f)", ids[$0], profile[$0]) }.joined(separator: ", ")
      + String(format: "; their profile has cosine %.2f with its probe images' at step ", cosine)
      + "\(d["step"] ?? "?")" + String(format: " (%.2f with the other classes', the control).", other)
  }
}

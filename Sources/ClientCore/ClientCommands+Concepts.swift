import CLI
import Foundation
import Wire

/// `i2x concepts`, `i2x counterfactual` and the templated class summary (`i2x explain --text`):
/// DESIGN §8's concepts, counterfactuals and text, from the daemon's explainer jobs.
extension ClientCommands {
  static let waitOptions: [OptionSpec] = [
    .value("checkpoint", "STEP", "Checkpoint to explain (default: the latest)."),
    .value("wait", "SECONDS", "How long to wait for the result (0: queue it and return).", default: "600"),
    .value("png", "DIR", "Write the result's images to DIR."),
  ]

  static let conceptsSpec = CommandSpec(
    name: "i2x concepts", abstract: "Which concepts of the generative prior drive a class (data-free).",
    arguments: [("run", "Run name.")],
    options: commonOptions + [.value("class", "C", "Class (name or index).")] + waitOptions,
    discussion: """
      Four Gumbel-softmax slots choose concepts of the prior's 64-concept codebook so that the
      decoded mean of their latents is classified as the class (DEXTER's search, with its
      history-mean pseudo-label loss); three runs, each excluding the concepts chosen before. The
      same search without the pseudo-label loss is reported next to it (the ablation). Scores: the
      classifier's and the oracle's share of 100 images decoded from fresh slot draws.
      """)

  static let counterfactualSpec = CommandSpec(
    name: "i2x counterfactual",
    abstract: "The smallest natural change that flips a probe image's prediction, against PGD.",
    arguments: [("run", "Run name.")],
    options: commonOptions + [
      .value("probe", "I", "Index of the image in the run's probe set."),
      .value("to", "C", "Target class (name or index)."),
    ] + waitOptions,
    discussion: """
      Optimises the prior's latent from the image's encoding (Liu et al. 2019) with the smallest
      classification weight λ that flips the prediction; reports validity, the oracle's verdict,
      L1/L2 and latent distance, next to a targeted PGD adversarial example with the smallest L∞
      budget that flips it. Counterfactuals start from a probe image: they are not data-free.
      """)

  static func concepts(_ arguments: [String], out: (String) -> Void) throws -> ExitCode {
    let options = try ParsedOptions(arguments, spec: conceptsSpec)
    guard let className = options.string("class") else {
      throw UsageError("--class C is required", hint: conceptsSpec.hint)
    }
    let header = CommandHeader(
      command: "concepts", run: options.positionals[0], className: className,
      step: try options.int("checkpoint", minimum: 0))
    let row = try requestAndWait(options, header)
    if options.flag("json") {
      try printJSON(row.merging(["schema_version": schemaVersion]) { _, new in new }, out: out)
    } else {
      out(conceptsText(row))
    }
    return row["state"] as? String == "failed" ? .dataError : .success
  }

  static func counterfactual(_ arguments: [String], out: (String) -> Void) throws -> ExitCode {
    let options = try ParsedOptions(arguments, spec: counterfactualSpec)
    guard let probe = try options.int("probe", minimum: 0), let to = options.string("to") else {
      throw UsageError("--probe I and --to C are required", hint: counterfactualSpec.hint)
    }
    let header = CommandHeader(
      command: "counterfactual", run: options.positionals[0], step: try options.int("checkpoint", minimum: 0),
      probe: probe, target: to)
    let row = try requestAndWait(options, header)
    if options.flag("json") {
      try printJSON(row.merging(["schema_version": schemaVersion]) { _, new in new }, out: out)
    } else {
      out(counterfactualText(row))
    }
    return row["state"] as? String == "failed" ? .dataError : .success
  }

  static func proportionText(_ object: Any?) -> String {
    guard let p = object as? [String: Any], let r = p["rate"] as? Double else { return "-" }
    return String(
      format: "%.0f%% [%.0f, %.0f]", r * 100, (p["low"] as? Double ?? 0) * 100, (p["high"] as? Double ?? 0) * 100)
  }

  static func conceptsText(_ row: [String: Any]) -> String {
    guard row["state"] as? String == "done", let document = row["explanation"] as? [String: Any] else {
      return "concepts \(row["id"] ?? "?"): \(row["state"] ?? "?") \(row["error"] as? String ?? "")"
    }
    var lines = ["concepts of class \(row["class_name"] ?? row["class"] ?? "?") (step \(row["step"] ?? "?")):"]
    for (key, title) in [("with_pseudo_labels", "with pseudo-labels"), ("without_pseudo_labels", "ablation, without")] {
      lines.append("  \(title):")
      for (index, run) in ((document[key] as? [[String: Any]]) ?? []).enumerated() {
        let concepts = ((run["concepts"] as? [Int]) ?? []).map(String.init).joined(separator: " ")
        lines.append(
          "    run \(index + 1): concepts \(concepts); activation \(proportionText(run["activation"])), oracle \(proportionText(run["oracle"]))"
        )
      }
    }
    for warning in (row["warnings"] as? [String]) ?? [] { lines.append("warning: \(warning)") }
    return lines.joined(separator: "\n")
  }

  static func counterfactualText(_ row: [String: Any]) -> String {
    guard row["state"] as? String == "done", let document = row["explanation"] as? [String: Any],
      let o = document["outcome"] as? [String: Any]
    else {
      return "counterfactual \(row["id"] ?? "?"): \(row["state"] ?? "?") \(row["error"] as? String ?? "")"
    }
    func flag(_ key: String) -> String { (o[key] as? Bool).map { $0 ? "yes" : "no" } ?? "-" }
    var locality: [String] = []
    if let l = document["locality"] as? [String: Any] {
      locality.append(
        String(
          format:
            "  locality:   IoU of the edit with uncertain prototype %d's cells %.2f, with prototype %d's %.2f (control)",
          l["prototype"] as? Int ?? -1, l["iou"] as? Double ?? 0, l["control_prototype"] as? Int ?? -1,
          l["control_iou"] as? Double ?? 0))
    }
    return [
      "counterfactual of probe \(row["probe"] ?? "?") (class \(row["class_name"] ?? row["class"] ?? "?")) → \(row["target_name"] ?? row["target"] ?? "?"):",
      String(
        format:
          "  generative: flips the classifier %@, the oracle agrees %@; mean |Δx| %.3f per pixel, ‖Δx‖₂ %.2f, ‖Δz‖₂ %.2f, λ %@",
        flag("valid"), flag("oracle_valid"), o["l1"] as? Double ?? 0, o["l2"] as? Double ?? 0,
        o["latent_distance"] as? Double ?? 0, (o["lambda"] as? Double).map { String(format: "%.3g", $0) } ?? "none"),
      String(
        format: "  PGD:        flips the classifier %@, the oracle agrees %@; ε (L∞) %.3f, ‖Δx‖₂ %.2f",
        flag("pgd_valid"),
        flag("pgd_oracle_valid"), o["pgd_linf"] as? Double ?? 0, o["pgd_l2"] as? Double ?? 0),
    ]
    .joined(separator: "\n") + locality.map { "\n" + $0 }.joined()
  }

  /// The templated summary of a class (DESIGN §8 "Text"): every sentence is built from a number
  /// in the daemon's stored results, and cites it; parts not measured yet are said to be absent.
  static func classSummary(_ options: ParsedOptions, run: String, classIndex c: Int, explanation: [String: Any])
    throws -> String
  {
    let analysis = (try? query(options, QueryHeader(query: "analysis", run: run))) ?? [:]
    let names = analysis["class_names"] as? [String] ?? []
    let name = names.indices.contains(c) ? names[c] : "class \(c)"
    var sentences: [String] = []
    // Prototypes: the class's attention profile at the latest checkpoint.
    let ids = ((analysis["prototypes"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? Int }
    if let classes = analysis["classes"] as? [[String: Any]],
      let progress = classes.first(where: { $0["label"] as? Int == c }),
      let profile = progress["profile"] as? [Double], profile.count == ids.count, !ids.isEmpty
    {
      let top = profile.indices.sorted { profile[$0] > profile[$1] }.prefix(3)
      sentences.append(
        "\(name) attends most to prototypes "
          + top.map { String(format: "%d (mean intensity %.2f)", ids[$0], profile[$0]) }.joined(separator: ", ")
          + " at step \(analysis["step"] ?? "?").")
      if let accuracy = (progress["accuracy"] as? [Double])?.last {
        sentences.append(String(format: "Its probe accuracy is %.0f%%.", accuracy * 100))
      }
    } else {
      sentences.append("No analysis of \(name)'s prototypes is available yet.")
    }
    // Confusion: the pair with the most probe confusions at the latest checkpoint.
    let pairs = ((analysis["pairs"] as? [[String: Any]]) ?? []).filter { $0["a"] as? Int == c || $0["b"] as? Int == c }
    if let worst = pairs.max(by: {
      (($0["confusions"] as? [Int])?.last ?? 0) < (($1["confusions"] as? [Int])?.last ?? 0)
    }),
      let confusions = (worst["confusions"] as? [Int])?.last, confusions > 0
    {
      let other = worst["a"] as? Int == c ? worst["b"] as? Int ?? 0 : worst["a"] as? Int ?? 0
      sentences.append(
        "It is most confused with \(names.indices.contains(other) ? names[other] : "class \(other)") (\(confusions) probe confusions both ways)."
      )
    }
    // Scores and sanity check.
    if let e = explanation["explanation"] as? [String: Any] {
      sentences.append(
        "Guided by the classifier alone, the prior's samples are called \(name) in \(proportionText(e["activation"])) of cases, against \(proportionText(e["prior_activation"])) unguided."
      )
      if e["oracle"] != nil {
        sentences.append("The independent oracle calls \(proportionText(e["oracle"])) of the guided samples \(name).")
      }
      if let sanity = e["sanity"] as? [String: Any], let seeds = sanity["distance_seeds"] as? Double {
        let ratios = ((sanity["stages"] as? [[String: Any]]) ?? []).compactMap { $0["distance"] as? Double }.map {
          String(format: "%.1f×", $0 / max(seeds, 1e-12))
        }
        sentences.append(
          (sanity["passed"] as? Bool == true ? "The sanity check passed" : "The sanity check FAILED")
            + ": re-randomising the model moved the samples \(ratios.joined(separator: " and ")) the seed-to-seed distance."
        )
      }
    } else {
      sentences.append("The class explanation is not done (\(explanation["state"] ?? "?")).")
    }
    // Concepts and counterfactuals already made for the class.
    let rows =
      (try query(options, QueryHeader(query: "explanations", run: run, classIndex: c))["explanations"]
        as? [[String: Any]]) ?? []
    let done = rows.filter { $0["state"] as? String == "done" }
    if let concepts = done.last(where: { $0["kind"] as? String == "concepts" }),
      let first = ((concepts["explanation"] as? [String: Any])?["with_pseudo_labels"] as? [[String: Any]])?.first
    {
      let ids = ((first["concepts"] as? [Int]) ?? []).map(String.init).joined(separator: ", ")
      let share = ((first["activation"] as? [String: Any])?["rate"] as? Double) ?? 0
      sentences.append(
        share >= 0.5
          ? "The concepts that drive it are \(ids) (decoded images from them are called \(name) in \(proportionText(first["activation"])) of 100 draws)."
          : "The concept search found no combination that drives it: its best, \(ids), is called \(name) in only \(proportionText(first["activation"])) of 100 draws."
      )
    } else {
      sentences.append("No concept search for \(name) yet ('i2x concepts \(run) --class \(c)').")
    }
    // Data-free prototypes (every class in one row): the prototypes its guided samples attend to.
    let everyClassRows =
      (try? query(options, QueryHeader(query: "explanations", run: run, classIndex: everyClass))["explanations"]
        as? [[String: Any]]) ?? []
    if let prototypes = everyClassRows.last(where: {
      $0["kind"] as? String == "prototypes" && $0["state"] as? String == "done"
    }), let sentence = dataFreePrototypesSentence(prototypes, classIndex: c, name: name) {
      sentences.append(sentence)
    }
    let counterfactuals = done.filter { $0["kind"] as? String == "counterfactual" }
    if counterfactuals.isEmpty {
      sentences.append("No counterfactual of a \(name) probe yet ('i2x counterfactual \(run) --probe I --to C').")
    } else {
      let outcomes = counterfactuals.compactMap { ($0["explanation"] as? [String: Any])?["outcome"] as? [String: Any] }
      let valid = outcomes.filter { $0["valid"] as? Bool == true }.count
      let oracle = outcomes.filter { $0["oracle_valid"] as? Bool == true }.count
      let pgd = outcomes.filter { $0["pgd_oracle_valid"] as? Bool == true }.count
      sentences.append(
        "Of \(outcomes.count) counterfactuals of \(name) probes, \(valid) flip the classifier and the oracle agrees with \(oracle); for the PGD baseline the oracle agrees with \(pgd)."
      )
    }
    return sentences.joined(separator: " ")
  }
}

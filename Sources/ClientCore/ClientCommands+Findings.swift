import CLI
import Foundation
import Wire

/// `i2x findings`, `i2x intervene` and `i2x prototypes --id K --history` (DESIGN §6b).
extension ClientCommands {
  static let findingsSpec: CommandSpec = {
    var spec = analysisSpec("findings", "What the evidence means: cues, early classes, separating prototypes, swings.")
    spec.discussion = """
      Each finding has a kind, a severity, the numbers it rests on and the command that shows the
      evidence. Kinds: fixed-position-cue (a prototype exclusive to one class, small, at a fixed place,
      with near-constant pixels, whose pasting flips other classes' probes to the class beyond a random
      patch's 95% interval; high when masking it also lowers the class's accuracy beyond its control's),
      border-cue (the same, for a prototype on the image's edge cells where the outermost pixels are
      brighter in its probes: a frame), background-cue (the same, for one on dark pixels lifted above
      the other probes' background: a texture), cue-candidate-untested (one of those shapes, no
      intervention yet), learned-early, separated-by, evidence-swings. Thresholds: see the README.
      """
    return spec
  }()

  static let interveneSpec = CommandSpec(
    name: "i2x intervene", abstract: "Mask and paste a prototype on the probe set; compare with random controls.",
    arguments: [("run", "Run name.")],
    options: commonOptions + [
      .value("prototype", "K", "Prototype id (see 'i2x prototypes RUN').", required: true),
      .value("class", "C", "Class (name or index; default: where the prototype is most present)."),
      .value("wait", "SECONDS", "How long to wait for the daemon to run it.", default: "300"),
    ],
    discussion: """
      The daemon runs it at the run's latest analysed checkpoint, after any checkpoint analyses waiting.
      mask: the prototype's cells (upsampled) are replaced by the probe set's mean image on the class's
      probes where it is present; control: as many cells of a random other prototype of the same image.
      paste: its pixels from class images are copied onto other classes' probes at the same cells;
      control: a random patch of the same size. Rates come with their sample size and a 95% Wilson interval.
      """)

  static func findings(_ arguments: [String], out: (String) -> Void) throws -> ExitCode {
    let (options, answer) = try analysisQuery("findings", findingsSpec, arguments)
    if options.flag("json") {
      try printJSON(answer, out: out)
      return .success
    }
    let run = options.positionals[0]
    let findings = answer["findings"] as? [[String: Any]] ?? []
    let tested = answer["interventions_measured"] as? Int ?? 0
    out(
      "run \(run), checkpoint \(answer["step"] as? Int ?? 0): \(findings.count) finding(s); "
        + "\(tested) intervention(s) measured"
        + ((answer["intervention_steps"] as? [Int])?.last.map { " (latest at step \($0))" } ?? ""))
    for (index, finding) in findings.enumerated() {
      out(
        "\(index + 1). [\(finding["severity"] as? String ?? "")] \(finding["kind"] as? String ?? ""): "
          + (finding["statement"] as? String ?? ""))
      out("   evidence: \(finding["command"] as? String ?? "")")
    }
    return .success
  }

  static func intervene(_ arguments: [String], out: (String) -> Void) throws -> ExitCode {
    let options = try ParsedOptions(arguments, spec: interveneSpec)
    let run = options.positionals[0]
    guard let prototype = try options.int("prototype", minimum: 0) else {
      throw UsageError("--prototype K is required", hint: interveneSpec.hint)
    }
    let wait = Double(try options.int("wait", minimum: 0) ?? 300)
    let answer = try request(
      options,
      try WireMessage(
        type: .command,
        header: CommandHeader(
          command: "intervene", run: run, prototypes: [prototype], className: options.string("class")))
    ).answer
    guard let id = answer["intervention"] as? Int else {
      throw ClientError("the daemon did not queue the intervention", exitCode: .dataError)
    }
    let deadline = Date().addingTimeInterval(wait)
    var record: [String: Any] = [:]
    while true {
      let list = try query(options, QueryHeader(query: "interventions", run: run))["interventions"] as? [[String: Any]]
      record = list?.first { $0["id"] as? Int == id } ?? [:]
      if record["state"] as? String != "queued" && !record.isEmpty { break }
      guard Date() < deadline else {
        throw ClientError(
          "intervention \(id) is still queued after \(Int(wait)) s (the daemon analyses checkpoints first); "
            + "'i2x findings \(run)' will use it once it has run", exitCode: .unavailable)
      }
      Thread.sleep(forTimeInterval: 0.5)
    }
    if options.flag("json") {
      try printJSON(["schema_version": schemaVersion, "run": run, "intervention": record], out: out)
    }
    guard record["state"] as? String == "done", let outcome = record["outcome"] as? [String: Any] else {
      throw ClientError(
        "intervention \(id) failed: \(record["error"] as? String ?? "unknown reason")", exitCode: .dataError)
    }
    if options.flag("json") { return .success }
    let names = (try? query(options, QueryHeader(query: "prototypes", run: run)))?["class_names"] as? [String] ?? []
    let label = outcome["class"] as? Int ?? 0
    let name = names.indices.contains(label) ? names[label] : "\(label)"
    let mask = outcome["mask"] as? [String: Any] ?? [:]
    let paste = outcome["paste"] as? [String: Any] ?? [:]
    out(
      "run \(run), prototype \(prototype), class \(name), step \(outcome["step"] as? Int ?? 0) "
        + String(format: "(%.1f cells per image)", outcome["mean_cells"] as? Double ?? 0))
    out(
      TextTable.render(
        header: ["TEST", "WHAT", "RATE [95% CI]", "CONTROL [95% CI]", "BEYOND CONTROL"],
        rows: [
          [
            "mask", "\(name) accuracy (before \(rate(mask["before"])))", rate(mask["masked"]), rate(mask["control"]),
            significance((mask["control"] as? [String: Any]), above: (mask["masked"] as? [String: Any])),
          ],
          [
            "mask", "\(name) confidence (before \(String(format: "%.3f", mask["confidence_before"] as? Double ?? 0)))",
            String(format: "%.3f", mask["confidence_masked"] as? Double ?? 0),
            String(format: "%.3f", mask["confidence_control"] as? Double ?? 0), "",
          ],
          [
            "paste", "other classes' probes flipped to \(name)", rate(paste["pasted"]), rate(paste["control"]),
            significance((paste["pasted"] as? [String: Any]), above: (paste["control"] as? [String: Any])),
          ],
        ]))
    return .success
  }

  /// "k/n = p% [lo–hi%]" of a `BinomialInterval` as JSON.
  static func rate(_ value: Any?) -> String {
    guard let b = value as? [String: Any] else { return "-" }
    return String(
      format: "%d/%d = %.0f%% [%.0f–%.0f%%]", b["successes"] as? Int ?? 0, b["trials"] as? Int ?? 0,
      100 * (b["rate"] as? Double ?? 0), 100 * (b["lower"] as? Double ?? 0), 100 * (b["upper"] as? Double ?? 0))
  }

  static func significance(_ high: [String: Any]?, above low: [String: Any]?) -> String {
    guard let high, let low else { return "-" }
    return (high["lower"] as? Double ?? 0) > (low["upper"] as? Double ?? 1) ? "yes" : "no"
  }

  /// `i2x prototypes RUN --id K --history`.
  static func prototypeHistory(_ options: ParsedOptions, id: Int, out: (String) -> Void) throws -> ExitCode {
    let run = options.positionals[0]
    let answer = try query(options, QueryHeader(query: "lineage", run: run, prototype: id))
    let history = answer["history"] as? [[String: Any]] ?? []
    if options.flag("json") {
      try printJSON(answer, out: out)
      return history.isEmpty ? .dataError : .success
    }
    guard let first = history.last else {
      throw ClientError(
        "prototype \(id) is in no vocabulary of run \(run); 'i2x prototypes \(run)' lists the current ids",
        exitCode: .dataError)
    }
    out(
      "prototype \(id) of run \(run): first appeared at step \(first["step"] as? Int ?? 0) as id \(first["id"] as? Int ?? 0)"
        + " (followed back through refits while the cell overlap (Jaccard) is ≥ "
        + String(format: "%.1f)", answer["minimum_jaccard"] as? Double ?? 0))
    let rows = history.reversed().map { row -> [String] in
      [
        "\(row["step"] as? Int ?? 0)", "\(row["id"] as? Int ?? 0)",
        (row["previous_id"] as? Int).map(String.init) ?? "-",
        (row["jaccard"] as? Double).map { String(format: "%.2f", $0) } ?? "-",
      ]
    }
    out(TextTable.render(header: ["STEP", "ID", "MATCHED PREVIOUS ID", "JACCARD"], rows: rows))
    return .success
  }
}

extension ClientCommands {
  /// Footprint as text rows, traits and the presence split of one prototype.
  static func printTraits(_ traits: [String: Any], names: [String], shape: [Int]?, out: (String) -> Void) {
    let footprint = traits["footprint"] as? [Double] ?? []
    out(
      String(
        format:
          "present in %d probes; fixed-position score %.2f; %.1f cells per image (%.0f%% of the map); content variability %@",
        traits["present_probes"] as? Int ?? 0, traits["fixed_position"] as? Double ?? 0,
        traits["mean_cells"] as? Double ?? 0, 100 * (traits["size_fraction"] as? Double ?? 0),
        (traits["content_variability"] as? Double).map { String(format: "%.2f", $0) } ?? "-"))
    if let shape, shape.count == 2, footprint.count == shape[0] * shape[1] {
      out("footprint (% of present probes with the cell assigned to it):")
      for row in 0..<shape[0] {
        out(
          "  "
            + (0..<shape[1]).map { String(format: "%3.0f", 100 * footprint[row * shape[1] + $0]) }.joined(
              separator: " "))
      }
    }
    let rows = (traits["presence_split"] as? [[String: Any]] ?? []).map { split -> [String] in
      let label = split["class"] as? Int ?? 0
      func accuracy(_ correct: String, _ total: String) -> String {
        let n = split[total] as? Int ?? 0
        let k = split[correct] as? Int ?? 0
        return n > 0 ? String(format: "%d/%d = %.0f%%", k, n, 100 * Double(k) / Double(n)) : "-"
      }
      return [
        names.indices.contains(label) ? names[label] : "\(label)", accuracy("present_correct", "present_probes"),
        accuracy("absent_correct", "absent_probes"),
      ]
    }
    if !rows.isEmpty {
      out(TextTable.render(header: ["CLASS", "ACCURACY WITH IT", "WITHOUT IT"], rows: rows))
    }
  }
}

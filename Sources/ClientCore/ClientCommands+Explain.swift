import CLI
import Explainer
import Foundation
import Wire

/// `i2x explain`: data-free class explanations (DESIGN §8) from the daemon's explainer.
extension ClientCommands {
  static let explainSpec = CommandSpec(
    name: "i2x explain", abstract: "Data-free explanation of a class: guided samples, scores, sanity check.",
    arguments: [("run", "Run name.")],
    options: commonOptions + [
      .value("class", "C", "Class to explain (name or index); without it, list the run's explanations."),
      .value("checkpoint", "STEP", "Checkpoint to explain (default: the latest)."),
      .value(
        "wait", "SECONDS", "How long to wait for the explanation to finish (0: queue it and return).", default: "600"),
      .value("png", "DIR", "Write the guided, prior and randomized sample grids to DIR."),
      .flag(
        "text",
        "Print a templated summary of the class from measured facts only: prototypes (and data-free prototypes when made), confusion, scores, concepts, counterfactuals, sanity check."
      ),
    ],
    discussion: """
      Queues the explanation on the daemon (started with --generator) unless one exists for that
      class and checkpoint, waits for it (progress on stderr), then prints the activation score (the
      classifier's share of guided samples in the class), the unguided prior's and the oracle's
      scores with 95% intervals, the model-randomisation sanity check and plain verdicts.
      Data-free: only the classifier's weights and the generative prior are used.
      """)

  static func explain(_ arguments: [String], out: (String) -> Void) throws -> ExitCode {
    let options = try ParsedOptions(arguments, spec: explainSpec)
    let run = options.positionals[0]
    guard let className = options.string("class") else {
      let answer = try query(options, QueryHeader(query: "explanations", run: run))
      if options.flag("json") {
        try printJSON(answer, out: out)
      } else {
        out(explanationList(answer))
      }
      return .success
    }
    let header = CommandHeader(
      command: "explain", run: run, className: className, step: try options.int("checkpoint", minimum: 0))
    let row = try requestAndWait(options, header)
    if options.flag("text") {
      let text = try classSummary(options, run: run, classIndex: row["class"] as? Int ?? 0, explanation: row)
      if options.flag("json") {
        try printJSON(["schema_version": schemaVersion, "class": row["class"] ?? 0, "text": text], out: out)
      } else {
        out(text)
      }
      return .success
    }
    if options.flag("json") {
      try printJSON(row.merging(["schema_version": schemaVersion]) { _, new in new }, out: out)
    } else {
      out(explanationText(row))
    }
    return row["state"] as? String == "failed" ? .dataError : .success
  }

  /// Sends an `explain`/`concepts`/`counterfactual` command, waits for the result (progress on
  /// stderr), writes its images with `--png`, and returns its row.
  static func requestAndWait(_ options: ParsedOptions, _ header: CommandHeader) throws -> [String: Any] {
    let run = header.run
    let queued = try request(options, try WireMessage(type: .command, header: header)).answer
    guard var row = queued["explanation"] as? [String: Any], let id = row["id"] as? Int else {
      throw ClientError("the daemon's \(header.command) reply has no explanation", exitCode: .software)
    }
    let wait = try options.double("wait", minimum: 0) ?? 600
    let deadline = Date().addingTimeInterval(wait)
    var lastState = ""
    while let state = row["state"] as? String, state == "queued" || state == "running" {
      if state != lastState {
        let what =
          row["class"] as? Int == everyClass ? "every class" : "class \(row["class_name"] ?? row["class"] ?? "?")"
        Log.write("\(header.command) \(id) of \(what): \(state)")
        lastState = state
      }
      guard Date() < deadline else {
        if wait > 0 {
          throw ClientError(
            "still \(state) after \(Int(wait)) s; 'i2x explain \(run)' lists it when done", exitCode: .unavailable)
        }
        return row
      }
      Thread.sleep(forTimeInterval: 0.5)
      let answer = try query(options, QueryHeader(query: "explanations", run: run, classIndex: row["class"] as? Int))
      row = (answer["explanations"] as? [[String: Any]])?.first { ($0["id"] as? Int) == id } ?? row
    }
    if let directory = options.string("png"), row["state"] as? String == "done" {
      let url = URL(fileURLWithPath: directory)
      try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
      for name in (row["images"] as? [String]) ?? [] {
        let (_, payload) = try queryWithPayload(
          options, QueryHeader(query: "explanation-image", run: run, explanation: id, image: name))
        guard let payload else { throw ClientError("the explanation-image reply has no payload", exitCode: .software) }
        let file = url.appendingPathComponent("explanation-\(id)-\(name).png")
        try Data(payload).write(to: file)
        Log.write("wrote \(file.path)")
      }
    }
    return row
  }

  /// One explanation row in words.
  static func explanationText(_ row: [String: Any]) -> String {
    var lines: [String] = []
    let id = row["id"] as? Int ?? 0
    let state = row["state"] as? String ?? "?"
    if state == "failed" {
      lines.append("explanation \(id) failed: \(row["error"] as? String ?? "no reason recorded")")
    } else if let document = row["explanation"] as? [String: Any],
      let data = try? JSONSerialization.data(withJSONObject: document),
      let explanation = try? JSONDecoder().decode(ClassExplanation.self, from: data)
    {
      lines.append("explanation \(id) (step \(row["step"] as? Int ?? 0), \(row["source"] as? String ?? "")):")
      lines.append(explanation.text)
    } else {
      lines.append("explanation \(id): \(state)")
    }
    for warning in (row["warnings"] as? [String]) ?? [] { lines.append("warning: \(warning)") }
    return lines.joined(separator: "\n")
  }

  /// The run's explanations as a table.
  static func explanationList(_ answer: [String: Any]) -> String {
    let rows = (answer["explanations"] as? [[String: Any]]) ?? []
    var lines = ["run \(answer["run"] as? String ?? ""): explain policy \(answer["explain_policy"] as? String ?? "?")"]
    if rows.isEmpty { lines.append("no explanations yet ('i2x explain RUN --class C' asks for one)") }
    for row in rows {
      let document = row["explanation"] as? [String: Any]
      func percent(_ object: Any?) -> String {
        ((object as? [String: Any])?["rate"] as? Double).map { String(format: "%3.0f%%", $0 * 100) } ?? "   -"
      }
      let name =
        row["class"] as? Int == everyClass ? "every class" : row["class_name"] as? String ?? "\(row["class"] ?? "?")"
      let head =
        "  \(row["id"] ?? "?")  \((row["kind"] as? String ?? "explain").padding(toLength: 14, withPad: " ", startingAt: 0)) \(name.padding(toLength: 12, withPad: " ", startingAt: 0)) step \(row["step"] ?? "?")  \((row["state"] as? String ?? "").padding(toLength: 7, withPad: " ", startingAt: 0))"
      var detail = ""
      if row["state"] as? String == "done" {
        switch row["kind"] as? String {
        case "concepts":
          let first = (document?["with_pseudo_labels"] as? [[String: Any]])?.first
          detail =
            "concepts \(((first?["concepts"] as? [Int]) ?? []).map(String.init).joined(separator: " ")), activation \(percent(first?["activation"]))"
        case "prototypes":
          let cosines = document?["profile_cosine"] as? [Double] ?? []
          let others = document?["profile_cosine_other_classes"] as? [Double] ?? []
          detail =
            String(
              format: "profile cosine %.2f (other classes %.2f), accuracy synthetic ",
              cosines.reduce(0, +) / Double(max(1, cosines.count)), others.reduce(0, +) / Double(max(1, others.count)))
            + "\(percent(document?["accuracy_synthetic_vocabulary"])), data \(percent(document?["accuracy_data_vocabulary"]))"
        case "counterfactual":
          let o = document?["outcome"] as? [String: Any]
          detail =
            "probe \(row["probe"] ?? "?") → \(row["target_name"] ?? row["target"] ?? "?"): valid \(o?["valid"] as? Bool ?? false), oracle \(o?["oracle_valid"] as? Bool ?? false), PGD oracle \(o?["pgd_oracle_valid"] as? Bool ?? false)"
        default:
          let passed =
            ((document?["sanity"] as? [String: Any])?["passed"] as? Bool).map { $0 ? "passed" : "FAILED" } ?? "-"
          detail =
            "activation \(percent(document?["activation"]))  prior \(percent(document?["prior_activation"]))  oracle \(percent(document?["oracle"]))  sanity \(passed)"
        }
      } else if let error = row["error"] as? String {
        detail = error
      }
      lines.append(head + "  " + detail)
    }
    if let statement = answer["data_free"] as? String {
      lines.append(statement)
      if rows.contains(where: { ["counterfactual", "prototypes"].contains($0["kind"] as? String ?? "") }) {
        lines.append(
          "Except: counterfactuals start from probe images, and data-free prototypes read them to score their accuracies."
        )
      }
    }
    return lines.joined(separator: "\n")
  }
}

import CLI
import Foundation
import Wire

/// `i2x policy`, `i2x finetune` and `i2x directives`: the fine-tune loop from the client.
extension ClientCommands {
  static let policySpec = CommandSpec(
    name: "i2x policy", abstract: "Show or set a run's fine-tune and explainer policies.",
    arguments: [("run", "Run name.")],
    options: commonOptions + [
      .value(
        "set", "POLICY",
        "auto (a new uncertain-prototype flag triggers a fine-tune of its pair), manual (only 'i2x finetune') or off."),
      .value(
        "explain", "POLICY",
        "Explainer policy: auto (both classes of a flagged pair are explained), manual (only 'i2x explain') or off."),
    ])

  static let finetuneSpec = CommandSpec(
    name: "i2x finetune", abstract: "Ask the run's trainer to fine-tune a confused pair (policy auto or manual).",
    arguments: [("run", "Run name.")],
    options: commonOptions + [
      .value("pair", "A,B", "The pair, as class names or indices (e.g. Shirt,T-shirt/top or 0,6)."),
      .value("prototype", "K", "Uncertain prototype id (default: the prototypes flagged for the pair)."),
    ])

  static let directivesSpec = CommandSpec(
    name: "i2x directives", abstract: "Fine-tune directives of a run, their states and outcomes.",
    arguments: [("run", "Run name.")],
    options: commonOptions + [
      .value(
        "export", "ID", "Print directive ID's full payload (JSON) for 'i2x-train experiment finetune --directive'.")
    ],
    discussion: """
      States: pending (created), delivered (sent in an ack, resent until the trainer reports), received,
      running, done, failed (with the reason; 'interrupted' when the trainer went silent past the lease).
      The outcome compares the pair's probe confusions and accuracy at the last analysed checkpoint
      before the fine-tune segment with the latest one after it, and says whether the directive's
      prototypes are still flagged.
      """)

  static func policy(_ arguments: [String], out: (String) -> Void) throws -> ExitCode {
    let options = try ParsedOptions(arguments, spec: policySpec)
    let run = options.positionals[0]
    let answer: [String: Any]
    if let explain = options.string("explain") {
      guard ["auto", "manual", "off"].contains(explain) else {
        throw UsageError("--explain must be auto, manual or off, not '\(explain)'", hint: policySpec.hint)
      }
      let answer = try request(
        options,
        try WireMessage(type: .command, header: CommandHeader(command: "set-explain-policy", run: run, policy: explain))
      ).answer
      if options.flag("json") {
        try printJSON(answer, out: out)
      } else {
        out(
          "run \(run): explain policy \(answer["previous_explain_policy"] as? String ?? "?") → \(answer["explain_policy"] as? String ?? "?")"
        )
      }
      if options.string("set") == nil { return .success }
    }
    if let policy = options.string("set") {
      guard ["auto", "manual", "off"].contains(policy) else {
        throw UsageError("--set must be auto, manual or off, not '\(policy)'", hint: policySpec.hint)
      }
      answer = try request(
        options, try WireMessage(type: .command, header: CommandHeader(command: "set-policy", run: run, policy: policy))
      ).answer
    } else {
      answer = try query(options, QueryHeader(query: "directives", run: run))
    }
    if options.flag("json") {
      var trimmed = answer
      trimmed.removeValue(forKey: "directives")
      try printJSON(trimmed, out: out)
    } else if let previous = answer["previous_policy"] as? String {
      out("run \(run): fine-tune policy \(previous) → \(answer["policy"] as? String ?? "?")")
    } else {
      out("run \(run): fine-tune policy \(answer["policy"] as? String ?? "?")")
    }
    return .success
  }

  static func finetune(_ arguments: [String], out: (String) -> Void) throws -> ExitCode {
    let options = try ParsedOptions(arguments, spec: finetuneSpec)
    guard let pairText = options.string("pair") else {
      throw UsageError("--pair A,B is required", hint: finetuneSpec.hint)
    }
    let pair = pairText.split(separator: ",", omittingEmptySubsequences: false).map {
      $0.trimmingCharacters(in: .whitespaces)
    }
    guard pair.count == 2, pair.allSatisfy({ !$0.isEmpty }) else {
      throw UsageError("--pair takes two classes separated by a comma, e.g. Shirt,Coat or 6,4", hint: finetuneSpec.hint)
    }
    let prototype = try options.int("prototype", minimum: 0)
    let header = CommandHeader(
      command: "finetune", run: options.positionals[0], pair: pair, prototypes: prototype.map { [$0] })
    let answer = try request(options, try WireMessage(type: .command, header: header)).answer
    if options.flag("json") {
      try printJSON(answer, out: out)
    } else if let directive = answer["directive"] as? [String: Any] {
      let prototypes = (directive["prototypes"] as? [Int] ?? []).map(String.init).joined(separator: ", ")
      out(
        "directive \(directive["id"] as? Int ?? 0) created for run \(options.positionals[0]) (prototypes \(prototypes)); "
          + "it reaches the trainer in its next acknowledgement ('i2x directives \(options.positionals[0])' follows it)"
      )
    }
    return .success
  }

  static func directives(_ arguments: [String], out: (String) -> Void) throws -> ExitCode {
    let options = try ParsedOptions(arguments, spec: directivesSpec)
    let run = options.positionals[0]
    if let id = try options.int("export", minimum: 0) {
      let answer = try query(options, QueryHeader(query: "directive-payload", run: run, directive: id))
      try printJSON(answer["directive"] as? [String: Any] ?? [:], out: out)
      return .success
    }
    let answer = try query(options, QueryHeader(query: "directives", run: run))
    if options.flag("json") {
      try printJSON(answer, out: out)
      return .success
    }
    let rows = (answer["directives"] as? [[String: Any]] ?? []).map { d -> [String] in
      let metrics = d["metrics"] as? [String: Any] ?? [:]
      let removed = (metrics["removed"] as? NSNumber).map { "\($0.intValue)" } ?? "-"
      let steps =
        (metrics["first_step"] as? NSNumber).map { first in
          "\(first.intValue)…\((metrics["last_step"] as? NSNumber)?.intValue ?? 0)"
        } ?? "-"
      return [
        "\(d["id"] as? Int ?? 0)", (d["pair"] as? [Int] ?? []).map(String.init).joined(separator: ","),
        (d["prototypes"] as? [Int] ?? []).map(String.init).joined(separator: ","), d["source"] as? String ?? "",
        "\(d["step"] as? Int ?? 0)",
        clipped((d["state"] as? String ?? "") + ((d["reason"] as? String).map { ": \($0)" } ?? "")),
        removed, steps, outcomeSummary(d["outcome"] as? [String: Any]),
      ]
    }
    out("run \(run): fine-tune policy \(answer["policy"] as? String ?? "?")")
    if rows.isEmpty {
      out("no directives yet")
    } else {
      out(
        TextTable.render(
          header: ["ID", "PAIR", "PROTOTYPES", "SOURCE", "AT STEP", "STATE", "|R|", "SEGMENT", "OUTCOME"], rows: rows))
    }
    return .success
  }

  /// A table cell of at most 48 characters (`--json` has the whole text).
  static func clipped(_ text: String) -> String {
    text.count <= 48 ? text : String(text.prefix(47)) + "…"
  }

  /// "confusions 14→9, accuracy 0.71→0.78, stopped flipping" or what is still missing.
  static func outcomeSummary(_ outcome: [String: Any]?) -> String {
    guard let outcome else { return "-" }
    guard outcome["analysed"] as? Bool == true else { return outcome["note"] as? String ?? "waiting for analysis" }
    let confusions =
      "confusions \(outcome["pair_confusions_before"] as? Int ?? 0)→\(outcome["pair_confusions_after"] as? Int ?? 0)"
    let accuracy = String(
      format: "accuracy %.2f→%.2f", outcome["pair_accuracy_before"] as? Double ?? 0,
      outcome["pair_accuracy_after"] as? Double ?? 0)
    let flipping = outcome["evidence_stopped_flipping"] as? Bool == true ? "stopped flipping" : "still flagged"
    return "\(confusions), \(accuracy), \(flipping)"
  }
}

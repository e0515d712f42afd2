import Foundation

/// What `i2x watch` knows about a run from its events, and how it prints them: one line per
/// event, or a compact screen repainted on a terminal.
struct WatchView {
  var run: String
  var classNames: [String] = []
  var latestCheckpoint: [String: Any]?
  var analysedStep: Int?
  var failedAnalyses = 0
  /// Steps stored and steps whose analysis ended (done or failed), for the waiting count.
  var storedSteps: Set<Int> = []
  var endedSteps: Set<Int> = []
  /// Flags by "prototype@a-b", newest last.
  var flags: [String: [String: Any]] = [:]
  var flagOrder: [String] = []
  /// Latest state of each directive and explanation by id.
  var directives: [Int: [String: Any]] = [:]
  var explanations: [Int: [String: Any]] = [:]
  var recent: [String] = []

  init(run: String) { self.run = run }

  func name(_ c: Int) -> String { classNames.indices.contains(c) ? classNames[c] : "class \(c)" }

  func pairText(_ pair: [Int]) -> String { pair.map(name).joined(separator: " / ") }

  mutating func apply(_ event: [String: Any]) {
    let detail = event["detail"] as? [String: Any] ?? [:]
    switch event["kind"] as? String {
    case "checkpoint":
      var row = detail
      row["step"] = event["step"]
      latestCheckpoint = row
      if let step = event["step"] as? Int { storedSteps.insert(step) }
    case "analysis":
      if let step = event["step"] as? Int { endedSteps.insert(step) }
      if detail["state"] as? String == "done" { analysedStep = max(analysedStep ?? 0, event["step"] as? Int ?? 0) }
      if detail["state"] as? String == "failed" { failedAnalyses += 1 }
    case "flag":
      let key =
        "\(detail["prototype"] as? Int ?? 0)@\((detail["pair"] as? [Int] ?? []).map(String.init).joined(separator: "-"))"
      if flags[key] == nil { flagOrder.append(key) }
      var row = detail
      row["step"] = event["step"]
      flags[key] = row
    case "directive":
      if let id = detail["id"] as? Int { directives[id] = detail }
    case "explanation":
      if let id = detail["id"] as? Int { explanations[id] = detail }
    default: break
    }
    recent.append(line(event))
    if recent.count > 8 { recent.removeFirst(recent.count - 8) }
  }

  /// One line: time, step, kind and what happened.
  func line(_ event: [String: Any]) -> String {
    let detail = event["detail"] as? [String: Any] ?? [:]
    let time = Self.time(event["at"] as? Double ?? 0)
    let step = (event["step"] as? Int).map { "step \($0)" } ?? ""
    let kind = event["kind"] as? String ?? "?"
    var text: String
    switch kind {
    case "checkpoint":
      let metrics = (detail["metrics"] as? [String: Any] ?? [:]).sorted { $0.key < $1.key }.compactMap { key, value in
        (value as? NSNumber).map { "\(key)=\(String(format: "%.4g", $0.doubleValue))" }
      }
      text = "checkpoint stored (epoch \(detail["epoch"] as? Int ?? 0)) " + metrics.joined(separator: " ")
    case "analysis":
      text =
        detail["state"] as? String == "failed"
        ? "analysis FAILED: \(detail["error"] as? String ?? "")" : "analysis done"
    case "flag":
      text =
        "uncertain prototype \(detail["prototype"] as? Int ?? 0) between \(pairText(detail["pair"] as? [Int] ?? [])) "
        + String(format: "(flips %d, score %.3f)", detail["flips"] as? Int ?? 0, detail["score"] as? Double ?? 0)
    case "directive":
      text =
        "fine-tune #\(detail["id"] as? Int ?? 0) of \(pairText(detail["pair"] as? [Int] ?? [])): \(detail["state"] as? String ?? "")"
        + ((detail["reason"] as? String).map { " (\($0))" } ?? "")
    case "explanation":
      text =
        "explanation #\(detail["id"] as? Int ?? 0) of \(name(detail["class"] as? Int ?? 0)): \(detail["state"] as? String ?? "")"
      if let rate = detail["activation"] as? Double { text += String(format: ", activation %.0f%%", rate * 100) }
      if let error = detail["error"] as? String { text += " (\(error))" }
    default:
      text = kind
    }
    return [time, step.padding(toLength: max(step.count, 10), withPad: " ", startingAt: 0), text].joined(
      separator: "  ")
  }

  /// The compact view, starting with the escape codes that clear the terminal.
  func screen() -> String {
    var lines = ["\u{1B}[H\u{1B}[2J" + "i2x watch \(run)   (Ctrl-C stops)", ""]
    if let c = latestCheckpoint {
      let metrics = (c["metrics"] as? [String: Any] ?? [:]).sorted { $0.key < $1.key }.compactMap { key, value in
        (value as? NSNumber).map { "\(key)=\(String(format: "%.4g", $0.doubleValue))" }
      }
      lines.append(
        "checkpoint   step \(c["step"] as? Int ?? 0), epoch \(c["epoch"] as? Int ?? 0)  \(metrics.joined(separator: " "))"
      )
    } else {
      lines.append("checkpoint   none yet")
    }
    lines.append(
      "analysis     " + (analysedStep.map { "analysed up to step \($0)" } ?? "nothing analysed yet")
        + (failedAnalyses > 0 ? ", \(failedAnalyses) failed" : "")
        + "; \(storedSteps.subtracting(endedSteps).count) checkpoint(s) waiting")
    lines.append("flags        \(flags.isEmpty ? "none" : "")")
    for key in flagOrder.suffix(5) {
      guard let f = flags[key] else { continue }
      lines.append(
        "  prototype \(f["prototype"] as? Int ?? 0) between \(pairText(f["pair"] as? [Int] ?? [])) since step \(f["step"] as? Int ?? 0)"
      )
    }
    lines.append("fine-tunes   \(directives.isEmpty ? "none" : "")")
    for id in directives.keys.sorted().suffix(5) {
      let d = directives[id] ?? [:]
      lines.append("  #\(id) \(pairText(d["pair"] as? [Int] ?? [])): \(d["state"] as? String ?? "")")
    }
    lines.append("explanations \(explanations.isEmpty ? "none" : "")")
    for id in explanations.keys.sorted().suffix(5) {
      let e = explanations[id] ?? [:]
      lines.append(
        "  #\(id) \(name(e["class"] as? Int ?? 0)): \(e["state"] as? String ?? "")"
          + ((e["activation"] as? Double).map { String(format: ", activation %.0f%%", $0 * 100) } ?? ""))
    }
    lines.append("")
    lines.append("recent events")
    lines += recent.map { "  " + $0 }
    return lines.joined(separator: "\n")
  }

  static func time(_ seconds: Double) -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "HH:mm:ss"
    return formatter.string(from: Date(timeIntervalSince1970: seconds))
  }
}

import Charts
import Foundation

extension ReportPage {
  /// Findings first (DESIGN §6b), each linked to its evidence in this report; when the daemon has
  /// no `findings` query the section says so.
  func findingsSection() -> String {
    let reply: [String: Any]
    switch inputs.findings {
    case .failure(let absence): return absent(absence.reason)
    case .success(let value): reply = value
    }
    let findings = reply["findings"] as? [[String: Any]] ?? []
    var out = ""
    if let measured = reply["interventions_measured"] as? Int {
      out +=
        "<p>\(measured) intervention(s) measured (masking and pasting prototypes on probes, against random controls).</p>"
    }
    guard !findings.isEmpty else {
      return out
        + "<p>No findings: none of the rules (fixed-position cue, class learned early, pair separated by a prototype, "
        + "evidence swinging) is met by the measured numbers at step \(reply["step"] as? Int ?? 0).</p>"
    }
    out += "<ol class=\"findings\">"
    for finding in findings {
      let severity = finding["severity"] as? String ?? "info"
      let kind = finding["kind"] as? String ?? "?"
      out += "<li><span class=\"sev-\(esc(severity))\">\(esc(severity))</span> <b>\(esc(kind))</b>: "
      out += esc(finding["statement"] as? String ?? "")
      var evidence: [String] = []
      let classes = finding["classes"] as? [Int] ?? []
      if classes.count == 2 { evidence.append(pairLink(classes[0], classes[1])) }
      evidence += classes.map { classLink($0) }
      if let prototype = finding["prototype"] as? Int { evidence.append(prototypeLink(prototype)) }
      if kind == "evidence-swings" { evidence.append("<a href=\"#uncertain\">uncertain prototypes</a>") }
      if !evidence.isEmpty { out += "<br>Evidence in this report: " + evidence.joined(separator: ", ") }
      let numbers = (finding["numbers"] as? [String: Any] ?? [:]).sorted { $0.key < $1.key }.map { key, value in
        "\(esc(key)) = \(esc((value as? NSNumber).map { NiceTicks.trimmed($0.doubleValue) } ?? "\(value)"))"
      }
      if !numbers.isEmpty {
        out += "<details><summary>numbers</summary><p>\(numbers.joined(separator: "; "))</p></details>"
      }
      if let command = finding["command"] as? String { out += "Shown by <code>\(esc(command))</code>" }
      out += "</li>"
    }
    return out + "</ol>"
  }
}

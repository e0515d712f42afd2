import CLI
import Foundation
import Wire

/// `i2x report RUN -o FILE.html [--checkpoint S]`: gathers the run's answers from the daemon and
/// writes the self-contained HTML report (`ReportPage`).
extension ClientCommands {
  static let reportSpec = CommandSpec(
    name: "i2x report", abstract: "Write a run's self-contained HTML report.", arguments: [("run", "Run name.")],
    options: commonOptions + [
      .value("out", "FILE", "The HTML file to write (also -o FILE).", required: true),
      .value("checkpoint", "STEP", "The report as it stood after this checkpoint (default: the latest analysed)."),
      .value(
        "profile-columns", "N", "Checkpoints sampled for the attention heat maps (evenly spaced, latest included).",
        default: "40"),
    ],
    discussion: """
      One HTML file with everything inline (PNG as data: URIs, SVG charts, CSS): no script, no
      network, readable offline and with JavaScript disabled. Sections: findings, run summary and
      learning curves, prototype galleries with GradCAM overlays, intra-class attention heat maps,
      pair confusions and the learning order, uncertain prototypes and fine-tunes, faithfulness,
      and the data-free explainer. A part the daemon cannot give is stated, with the reason.
      """)

  static func report(_ arguments: [String], out: (String) -> Void) throws -> ExitCode {
    // -o is the one short option (the CLI parser is long-options only).
    let rewritten = arguments.map { $0 == "-o" ? "--out" : ($0.hasPrefix("-o=") ? "--out=" + $0.dropFirst(3) : $0) }
    let options = try ParsedOptions(rewritten, spec: reportSpec)
    let path = try options.requiredString("out")
    let columns = try options.int("profile-columns", minimum: 2) ?? 40
    let started = Date()
    let inputs = try gatherReport(options, run: options.positionals[0], profileColumns: columns)
    let html = ReportPage(inputs).html()
    let url = URL(fileURLWithPath: path)
    do {
      try Data(html.utf8).write(to: url, options: .atomic)
    } catch {
      throw ClientError("cannot write \(path): \(error.localizedDescription); check the directory", exitCode: .ioError)
    }
    let bytes = html.utf8.count
    let seconds = Date().timeIntervalSince(started)
    if options.flag("json") {
      try printJSON(
        ["schema_version": schemaVersion, "path": url.path, "bytes": bytes, "seconds": seconds, "run": inputs.run],
        out: out)
    } else {
      out(String(format: "wrote %@ (%.1f MB) in %.1f s", url.path, Double(bytes) / 1_000_000, seconds))
    }
    return .success
  }

  /// Asks the daemon for everything the report shows. Only an unreachable daemon or an unknown
  /// run fails the command; any other missing part becomes an `Absence` the report states.
  static func gatherReport(_ options: ParsedOptions, run: String, profileColumns: Int) throws -> ReportInputs {
    let step = try options.int("checkpoint", minimum: 0)
    // A long run's analysis replies are large: wait at least 30 s for those (status and the
    // small queries keep --timeout, so a missing daemon is reported as quickly as elsewhere).
    let long = max(try options.int("timeout", minimum: 1) ?? 3000, 30_000)
    var inputs = ReportInputs(run: run, requestedStep: step)
    inputs.daemonVersion = try query(options, QueryHeader(query: "status"))["version"] as? String
    guard
      let row = (try query(options, QueryHeader(query: "runs"))["runs"] as? [[String: Any]])?.first(where: {
        $0["name"] as? String == run
      })
    else {
      throw ClientError("no run named '\(run)'; 'i2x runs' lists the runs", exitCode: .noInput)
    }
    inputs.runRow = row
    let checkpoints =
      try query(options, QueryHeader(query: "checkpoints", run: run))["checkpoints"] as? [[String: Any]] ?? []
    if let step, !checkpoints.contains(where: { $0["step"] as? Int == step }) {
      throw ClientError(
        "run '\(run)' has no checkpoint at step \(step); 'i2x checkpoints \(run)' lists them", exitCode: .noInput)
    }
    inputs.checkpoints = checkpoints.filter { step == nil || ($0["step"] as? Int ?? 0) <= step! }
    /// A part the daemon refuses (not ready, failed, unknown query) becomes its reason.
    func part<T>(_ body: () throws -> T) -> Result<T, ReportInputs.Absence> {
      do { return .success(try body()) } catch let error as ClientError where error.exitCode != .unavailable {
        return .failure(.init(error.code == "unknown-query" ? "this daemon does not answer it" : error.description))
      } catch let absence as ReportInputs.Absence {
        return .failure(absence)
      } catch {
        return .failure(.init("\(error)"))
      }
    }
    inputs.analysis = part {
      try ReportInputs.Analysis(
        reply: try query(options, QueryHeader(query: "analysis", run: run, step: step), timeout: long))
    }
    if case .success(let analysis) = inputs.analysis {
      let steps = analysis.report.steps
      var samples: [ReportInputs.ProfileSample] = []
      // Preferred: every sample under one vocabulary (the daemon's `profiles` query); a daemon
      // without it gets one `analysis` query per sampled checkpoint, each under its own refit.
      let header = ProfilesQueryHeader(run: run, step: step, limit: profileColumns)
      if case .success(let reply) = part({
        try request(options, try WireMessage(type: .query, header: header), timeout: long).answer
      }), let ids = reply["prototype_ids"] as? [Int], let at = reply["steps"] as? [Int],
        let values = reply["profiles"] as? [[[Double]]], values.count == at.count
      {
        inputs.profiles = zip(at, values).map { ReportInputs.ProfileSample(step: $0, prototypeIDs: ids, profiles: $1) }
        inputs.profilesVocabularyStep = reply["step"] as? Int
      }
      for index in sampledIndices(count: steps.count, most: profileColumns) where inputs.profilesVocabularyStep == nil {
        if steps[index] == analysis.step {
          samples.append(ReportInputs.ProfileSample(analysis.report))
        } else if case .success(let earlier) = part({
          try ReportInputs.Analysis(
            reply: try query(options, QueryHeader(query: "analysis", run: run, step: steps[index]), timeout: long))
        }) {
          samples.append(ReportInputs.ProfileSample(earlier.report))
        }
      }
      if inputs.profilesVocabularyStep == nil { inputs.profiles = samples }
      inputs.probe = part {
        let probe = try queryWithPayload(options, QueryHeader(query: "probe", run: run), timeout: long).payload ?? []
        let observation =
          try queryWithPayload(options, QueryHeader(query: "observation", run: run, step: analysis.step), timeout: long)
          .payload ?? []
        return try ReportInputs.ProbeData(probe: probe, observation: observation)
      }
    } else {
      inputs.probe = .failure(.init("no analysis, so no GradCAM maps to show"))
    }
    inputs.directives = part {
      var reply = try query(options, QueryHeader(query: "directives", run: run))
      if let step {
        reply["directives"] = (reply["directives"] as? [[String: Any]] ?? []).filter {
          ($0["step"] as? Int ?? 0) <= step
        }
      }
      return reply
    }
    inputs.explanations = part { try query(options, QueryHeader(query: "explanations", run: run)) }
    if case .success(let reply) = inputs.explanations {
      for row in reply["explanations"] as? [[String: Any]] ?? [] {
        guard let id = row["id"] as? Int, row["state"] as? String == "done",
          step == nil || (row["step"] as? Int ?? 0) <= step!
        else { continue }
        for name in row["images"] as? [String] ?? [] {
          let header = QueryHeader(query: "explanation-image", run: run, explanation: id, image: name)
          if case .success(let bytes) = part({ try queryWithPayload(options, header).payload }), let bytes {
            inputs.explanationImages[id, default: [:]][name] = bytes
          }
        }
      }
    }
    inputs.findings = part { try query(options, QueryHeader(query: "findings", run: run, step: step)) }
    if case .failure(let absence) = inputs.findings, absence.reason == "this daemon does not answer it" {
      inputs.findings = .failure(.init("findings are not available from this daemon"))
    }
    return inputs
  }

  /// At most `most` indices of `0..<count`, evenly spaced, first and last included.
  static func sampledIndices(count: Int, most: Int) -> [Int] {
    guard count > most else { return Array(0..<count) }
    let picked = (0..<most).map { Int((Double($0) * Double(count - 1) / Double(most - 1)).rounded()) }
    return Array(Set(picked)).sorted()
  }
}

/// The `profiles` query's header: `QueryHeader`'s fields plus the number of checkpoints.
struct ProfilesQueryHeader: Encodable {
  var query = "profiles"
  var run: String
  var step: Int?
  var limit: Int
}

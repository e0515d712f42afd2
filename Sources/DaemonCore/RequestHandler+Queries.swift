import Foundation
import Prototypes
import Store
import Wire

extension RequestHandler {
  /// Version of the JSON answers (bumped on incompatible changes; 2: snake_case keys throughout,
  /// README "JSON interface").
  public static let schemaVersion = 2

  func query(_ message: WireMessage) throws -> WireMessage {
    let header = try message.decode(QueryHeader.self)
    var answer: [String: Any] = ["schema_version": Self.schemaVersion, "query": header.query]
    switch header.query {
    case "status":
      let jobs = try store.jobCounts()
      answer["version"] = Self.version
      answer["uptime_seconds"] = Date().timeIntervalSince(started)
      answer["runs"] = try store.runs().count
      answer["queue_depth"] = (jobs["queued"] ?? 0) + (jobs["running"] ?? 0)
      // Runs whose full re-analysis waits until they stop publishing (`i2xd --refresh-after`).
      answer["refreshes_pending"] = try store.settlingRuns().count
      answer["jobs"] = jobs
      answer["lag"] = try store.lag().map { lag -> [String: Any] in
        var row: [String: Any] = [
          "run": lag.run, "queued": lag.queued, "oldest_queued_seconds": lag.oldestSeconds,
          "latest_step": lag.latestStep,
        ]
        if let analysed = lag.analysedStep { row["analysed_step"] = analysed }
        return row
      }
      // Who is analysing what, and (on a PostgreSQL store) for how long its lease still holds.
      answer["workers"] = try store.runningJobs().map { held -> [String: Any] in
        var row: [String: Any] = [
          "worker": held.worker, "job": held.job.id, "kind": held.job.kind, "run": held.job.run, "step": held.job.step,
        ]
        if let left = held.leaseSeconds { row["lease_seconds_left"] = left }
        return row
      }
    case "runs":
      answer["runs"] = try store.runs().map { run -> [String: Any] in
        [
          "name": run.name, "classes": run.classes, "probe_count": run.probeCount, "checkpoints": run.checkpoints,
          "architecture": (try? JSONSerialization.jsonObject(with: Data(run.architecture.utf8))).map {
            ($0 as? [String: Any])?["name"] ?? ""
          } ?? "",
        ]
      }
    case "checkpoints":
      guard let run = header.run else { throw DaemonError(.badData, "the checkpoints query needs a run") }
      guard try store.runExists(run) else {
        throw DaemonError(.unknownRun, "no run named '\(run)'; 'i2x runs' lists the runs")
      }
      answer["run"] = run
      answer["checkpoints"] = try store.checkpoints(run: run).map { c -> [String: Any] in
        var row: [String: Any] = [
          "step": c.step, "epoch": c.epoch, "sha256": c.sha256, "size": c.size,
          "metrics": (try? JSONSerialization.jsonObject(with: Data(c.metrics.utf8))) ?? [:],
          "job": c.jobState ?? "none",
        ]
        if let count = c.parameterCount { row["parameter_count"] = count }
        if let error = c.jobError { row["job_error"] = error }
        return row
      }
    case "explanations":
      answer.merge(try explanationsQuery(header)) { _, new in new }
    case "events":
      answer.merge(try eventsQuery(message)) { _, new in new }
    case "profiles":
      answer.merge(try profilesQuery(message)) { _, new in new }
    case "explanation-image":
      return try explanationImage(header)
    case "verify":
      answer.merge(try verify(header, payload: message.payload)) { _, new in new }
    case "findings", "interventions", "lineage":
      answer.merge(try findingsQuery(header)) { _, new in new }
    case "directives":
      guard let run = header.run, let policy = try store.policy(run: run) else {
        throw DaemonError(.unknownRun, "no run named '\(header.run ?? "")'; 'i2x runs' lists the runs")
      }
      answer["run"] = run
      answer["policy"] = policy.rawValue
      answer["directives"] = try directivesWithOutcomes(run)
    case "directive-payload":
      // One directive's full payload (`i2x directives RUN --export ID`).
      guard let run = header.run, let id = header.directive, let record = try store.directive(id: id),
        record.run == run
      else {
        throw DaemonError(.unknownRun, "run '\(header.run ?? "")' has no directive \(header.directive ?? -1)")
      }
      answer["run"] = run
      answer["directive"] = (try? JSONSerialization.jsonObject(with: Data(record.payload.utf8))) ?? [:]
    case "probe", "observation":
      // Binary answers: the probe set, or one checkpoint's cached observation, as the payload.
      guard let run = header.run, try store.runExists(run) else {
        throw DaemonError(.unknownRun, "no run named '\(header.run ?? "")'; 'i2x runs' lists the runs")
      }
      let sha: String?
      if header.query == "probe" {
        sha = try store.database.query("SELECT probe_sha256 FROM runs WHERE name = ?", [.text(run)]).first?.first?
          .string
      } else {
        let rows =
          if let step = header.step {
            try store.database.query(
              "SELECT sha256, step FROM observations WHERE run = ? AND step = ?", [.text(run), .integer(Int64(step))])
          } else {
            try store.database.query(
              "SELECT sha256, step FROM observations WHERE run = ? ORDER BY step DESC LIMIT 1", [.text(run)])
          }
        sha = rows.first?.first?.string
        answer["step"] = rows.first?[1].int
      }
      guard let sha else { throw DaemonError(.notReady, "run '\(run)' has no \(header.query) yet") }
      answer["run"] = run
      let data = try JSONSerialization.data(withJSONObject: answer, options: [.sortedKeys])
      return WireMessage(type: .reply, headerBytes: [UInt8](data), payload: try store.blobs.get(sha))
    case "prototypes", "progress", "pairs", "uncertain", "analysis":
      guard let run = header.run else { throw DaemonError(.badData, "the \(header.query) query needs a run") }
      guard try store.runExists(run) else {
        throw DaemonError(.unknownRun, "no run named '\(run)'; 'i2x runs' lists the runs")
      }
      let failures = try store.failedJobs(run: run)
      guard let analysis = try store.analysis(run: run, step: header.step) else {
        let failure = header.step.map { step in failures.first { $0.step == step } } ?? failures.last
        if let failure {
          throw DaemonError(
            .analysisFailed, "the analysis of run '\(run)' step \(failure.step) failed: \(failure.error)")
        }
        let which = header.step.map { "step \($0)" } ?? "any checkpoint"
        throw DaemonError(
          .notReady,
          "run '\(run)' has no analysis for \(which) yet; analyses follow checkpoints (see 'i2x status' for the queue)")
      }
      guard var report = try JSONSerialization.jsonObject(with: Data(analysis.report.utf8)) as? [String: Any] else {
        throw DaemonError(.internalError, "stored analysis for run '\(run)' is unreadable")
      }
      report.removeValue(forKey: "schema_version")
      let sections: [String: [String]] = [
        "prototypes": ["vocabulary", "prototypes", "class_names", "steps"],
        "progress": ["classes", "intervals", "faithfulness", "zero_maps", "class_names", "steps"],
        "pairs": ["pairs", "learning_order", "class_names", "steps"],
        "uncertain": ["uncertain", "class_names", "steps"],
      ]
      if let keys = sections[header.query] { report = report.filter { keys.contains($0.key) } }
      answer.merge(report) { current, _ in current }
      answer["run"] = run
      answer["step"] = analysis.step
      answer["analysis_seconds"] = analysis.seconds
      answer["failed_checkpoints"] = failures.map { ["step": $0.step, "error": $0.error] as [String: Any] }
      if header.query == "uncertain" {
        answer["finetune_policy"] = try store.policy(run: run)?.rawValue
        answer["finetunes"] = try directivesWithOutcomes(run)
      }
      answer["timings"] = (try? JSONSerialization.jsonObject(with: Data(analysis.timings.utf8))) ?? [:]
    default:
      throw DaemonError(
        .unknownQuery,
        "unknown query '\(header.query)'; known: status, runs, checkpoints, prototypes, progress, pairs, uncertain, analysis, "
          + "directives, directive-payload, verify, explanations, explanation-image, findings, interventions, lineage"
      )
    }
    let data = try JSONSerialization.data(withJSONObject: answer, options: [.sortedKeys])
    return WireMessage(type: .reply, headerBytes: [UInt8](data))
  }

  /// The run's directives as JSON rows, each with its outcome from the latest analysis.
  func directivesWithOutcomes(_ run: String) throws -> [[String: Any]] {
    let latest = try store.analysis(run: run, step: nil).flatMap {
      try? JSONDecoder().decode(AnalysisReport.self, from: Data($0.report.utf8))
    }
    return try store.directives(run: run).map { record in
      Self.directiveJSON(record, outcome: latest.flatMap { FineTuneTrigger.outcome(of: record, report: $0) })
    }
  }
}

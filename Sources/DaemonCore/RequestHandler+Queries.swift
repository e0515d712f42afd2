import Foundation
import Wire

extension RequestHandler {
  /// Version of the JSON answers (bumped on incompatible changes).
  public static let schemaVersion = 1

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
      answer["jobs"] = jobs
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
    default:
      throw DaemonError(.unknownQuery, "unknown query '\(header.query)'; known: status, runs, checkpoints")
    }
    let data = try JSONSerialization.data(withJSONObject: answer, options: [.sortedKeys])
    return WireMessage(type: .reply, headerBytes: [UInt8](data))
  }
}

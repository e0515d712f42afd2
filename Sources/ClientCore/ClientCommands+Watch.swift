import CLI
import Foundation
import Wire

#if canImport(Glibc)
  import Glibc
#endif

/// `i2x watch RUN`: follows a live run through the daemon's `events` query until interrupted.
extension ClientCommands {
  static let watchSpec = CommandSpec(
    name: "i2x watch", abstract: "Follow a live run: checkpoints, analyses, flags, directives, explanations.",
    arguments: [("run", "Run name (waited for if it has not registered yet).")],
    options: commonOptions + [
      .value("interval", "SECONDS", "How often to ask for new events.", default: "1"),
      .value("after", "ID", "Start after this event id (0: the run's first event).", default: "0"),
      .value("count", "N", "Stop after N events (default: follow until interrupted)."),
      .flag("lines", "One line per event even when stdout is a terminal (no repainting view)."),
    ],
    discussion: """
      On a terminal, a compact view is repainted as events arrive: the latest checkpoint and its
      metrics, how far the analysis is, the uncertain-prototype flags, directives and
      explanations, and the last events. Otherwise (a pipe, a file) it prints one line per event,
      or with --json one JSON object per line (id, run, kind, step, at, detail). Ctrl-C stops it
      (exit 0). A daemon that stops answering is retried; the watch resumes from its cursor.
      """)

  static func watch(_ arguments: [String], out: @escaping (String) -> Void) throws -> ExitCode {
    let options = try ParsedOptions(arguments, spec: watchSpec)
    let run = options.positionals[0]
    let interval = try options.double("interval", minimum: 0.05) ?? 1
    var cursor = try options.int("after", minimum: 0) ?? 0
    let count = try options.int("count", minimum: 1)
    let json = options.flag("json")
    let repaint = !json && !options.flag("lines") && isatty(STDOUT_FILENO) == 1
    WatchInterrupt.install()
    var view = WatchView(run: run)
    var seen = 0
    var waitingSaid = false
    var failing = false
    while !WatchInterrupt.requested {
      let answer: [String: Any]
      do {
        answer = try request(options, try WireMessage(type: .query, header: EventsQueryHeader(run: run, after: cursor)))
          .answer
        if failing { Log.write("the daemon answers again; following run \(run) from event \(cursor)") }
        failing = false
      } catch let error as ClientError where error.code == "unknown-run" {
        if !waitingSaid { Log.write("run '\(run)' has not registered yet; waiting for it (Ctrl-C stops)") }
        waitingSaid = true
        WatchInterrupt.sleep(interval)
        continue
      } catch let error as ClientError where error.exitCode == .unavailable && (seen > 0 || waitingSaid) {
        if !failing { Log.write("\(error.description); retrying every \(interval) s") }
        failing = true
        WatchInterrupt.sleep(interval)
        continue
      } catch let error as ClientError where error.code == "unknown-query" {
        throw ClientError(
          "this daemon has no events query (it is older than i2x watch); upgrade i2xd", exitCode: .unavailable)
      }
      if view.classNames.isEmpty, let names = try? runClassNames(options, run: run) { view.classNames = names }
      let events = answer["events"] as? [[String: Any]] ?? []
      for event in events {
        view.apply(event)
        if json {
          var line = event
          line["run"] = run
          line["schema_version"] = schemaVersion
          try printJSON(line, out: out)
        } else if !repaint {
          out(view.line(event))
        }
        seen += 1
        if let count, seen >= count { break }
      }
      cursor = answer["cursor"] as? Int ?? cursor
      if repaint && !events.isEmpty { out(view.screen()) }
      if let count, seen >= count { break }
      if answer["more"] as? Bool == true { continue }
      WatchInterrupt.sleep(interval)
    }
    return .success
  }

  static func runClassNames(_ options: ParsedOptions, run: String) throws -> [String] {
    let runs = try query(options, QueryHeader(query: "runs"))["runs"] as? [[String: Any]] ?? []
    return runs.first { $0["name"] as? String == run }?["classes"] as? [String] ?? []
  }
}

/// The `events` query's header: `QueryHeader`'s fields plus the cursor.
struct EventsQueryHeader: Encodable {
  var query = "events"
  var run: String
  var after: Int
}

/// Ctrl-C (SIGINT) or SIGTERM ends the watch between polls, with exit 0.
enum WatchInterrupt {
  nonisolated(unsafe) static var flag: sig_atomic_t = 0

  static var requested: Bool { flag != 0 }

  static func install() {
    signal(SIGINT) { _ in WatchInterrupt.flag = 1 }
    signal(SIGTERM) { _ in WatchInterrupt.flag = 1 }
  }

  /// Sleeps up to `seconds`, waking early when interrupted.
  static func sleep(_ seconds: Double) {
    let end = Date().addingTimeInterval(seconds)
    while !requested && Date() < end { Thread.sleep(forTimeInterval: min(0.05, max(0, end.timeIntervalSinceNow))) }
  }
}

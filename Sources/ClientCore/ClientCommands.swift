import CLI
import Foundation
import Wire

/// The `i2x` client: queries the daemon and prints tables or `--json`.
public enum ClientCommands {
  /// Version printed by `--version`.
  public static let version = "i2x 0.1.0"

  static let commonOptions: [OptionSpec] = [
    .value(
      "endpoint", "ENDPOINT", "Daemon endpoint; a comma-separated list fails over between daemons sharing a store.",
      default: "tcp://127.0.0.1:7070"),
    .value("timeout", "MS", "Milliseconds to wait for each reply.", default: "3000"),
    .value("retries", "N", "Attempts before giving up (exit 69).", default: "3"),
    .flag("json", "Print the daemon's JSON answer (with schema_version)."),
  ]

  /// The tool with its subcommands; `out` receives results, `err` errors.
  public static func tool(out: @escaping (String) -> Void = { print($0) }) -> Tool {
    Tool(
      name: "i2x", abstract: "Query an i2x daemon about training runs.", version: version,
      subcommands: [
        .init(name: "status", abstract: "Daemon version, runs, queue depth, uptime.") { try status($0, out: out) },
        .init(name: "runs", abstract: "Registered runs.") { try runs($0, out: out) },
        .init(name: "checkpoints", abstract: "Checkpoints of a run.") { try checkpoints($0, out: out) },
        .init(name: "prototypes", abstract: "Prototype vocabulary of a run.") { try prototypes($0, out: out) },
        .init(name: "progress", abstract: "Intra-class progress of a run.") { try progress($0, out: out) },
        .init(name: "pairs", abstract: "Inter-class progress and learning order.") { try pairs($0, out: out) },
        .init(name: "uncertain", abstract: "Uncertain prototypes of a run.") { try uncertain($0, out: out) },
        .init(name: "directives", abstract: "Fine-tune directives of a run, their states and outcomes.") {
          try directives($0, out: out)
        },
        .init(name: "finetune", abstract: "Ask the trainer of a run to fine-tune a confused pair.") {
          try finetune($0, out: out)
        },
        .init(name: "explain", abstract: "Data-free explanation of a class (generator-guided samples and scores).") {
          try explain($0, out: out)
        },
        .init(name: "concepts", abstract: "Which concepts of the generative prior drive a class.") {
          try concepts($0, out: out)
        },
        .init(name: "counterfactual", abstract: "The smallest natural change that flips a probe image.") {
          try counterfactual($0, out: out)
        },
        .init(name: "policy", abstract: "Show or set a run's fine-tune policy (auto, manual, off).") {
          try policy($0, out: out)
        },
        .init(name: "findings", abstract: "What the evidence means, with its numbers and commands.") {
          try findings($0, out: out)
        },
        .init(name: "intervene", abstract: "Test a prototype by masking and pasting it on the probe set.") {
          try intervene($0, out: out)
        },
        .init(name: "report", abstract: "Write a run's self-contained HTML report.") { try report($0, out: out) },
        .init(name: "watch", abstract: "Follow a live run: checkpoints, analyses, flags, directives, explanations.") {
          try watch($0, out: out)
        },
      ])
  }

  static func query(_ options: ParsedOptions, _ header: QueryHeader, timeout: Int? = nil) throws -> [String: Any] {
    try queryWithPayload(options, header, timeout: timeout).answer
  }

  /// A query whose reply may carry a binary payload (probe set, cached observation).
  static func queryWithPayload(_ options: ParsedOptions, _ header: QueryHeader, timeout: Int? = nil) throws -> (
    answer: [String: Any], payload: [UInt8]?
  ) {
    try request(options, try WireMessage(type: .query, header: header), timeout: timeout)
  }

  /// Sends a query or command and returns the reply's JSON and payload; error replies become
  /// `ClientError`s with the matching exit code. `timeout` (ms) overrides `--timeout`.
  static func request(_ options: ParsedOptions, _ message: WireMessage, timeout: Int? = nil) throws -> (
    answer: [String: Any], payload: [UInt8]?
  ) {
    let client = RequestClient(
      endpoint: try options.connectEndpoint("endpoint"),
      timeoutMilliseconds: try timeout ?? options.int("timeout", minimum: 1) ?? 3000,
      attempts: try options.int("retries", minimum: 1) ?? 3,
      options: try options.clientSocketOptions())
    defer { client.close() }
    let reply: WireMessage
    do { reply = try client.request(message) } catch let error
      as DaemonUnreachable
    {
      throw ClientError(error.description, exitCode: .unavailable)
    } catch let error as ZMQError {
      throw ClientError("\(error); check --endpoint", exitCode: .usage)
    }
    if reply.type == .error {
      let error = try reply.decode(ErrorHeader.self)
      let code: ExitCode =
        switch error.code {
        case "unknown-run": .noInput
        case "not-ready": .unavailable
        case "conflict": .usage
        default: .dataError
        }
      throw ClientError(error.message, exitCode: code, code: error.code)
    }
    guard reply.type == .reply,
      let object = try JSONSerialization.jsonObject(with: Data(reply.header)) as? [String: Any]
    else {
      throw ClientError("the daemon sent an unexpected \(reply.type) message", exitCode: .dataError)
    }
    return (object, reply.payload)
  }

  /// Version of the JSON the client writes itself (`report`, `intervene`, `explain --text`); the
  /// daemon's answers carry the daemon's (`RequestHandler.schemaVersion`, the same number).
  static let schemaVersion = 2

  static func printJSON(_ object: [String: Any], out: (String) -> Void) throws {
    out(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
  }

  static let statusSpec = CommandSpec(
    name: "i2x status", abstract: "Daemon version, runs, queue depth, uptime.", options: commonOptions)

  static func status(_ arguments: [String], out: (String) -> Void) throws -> ExitCode {
    let options = try ParsedOptions(arguments, spec: statusSpec)
    let answer = try query(options, QueryHeader(query: "status"))
    if options.flag("json") {
      try printJSON(answer, out: out)
    } else {
      let jobs = answer["jobs"] as? [String: Int] ?? [:]
      out("daemon      \(answer["version"] as? String ?? "?")")
      out("uptime      \(Int(answer["uptime_seconds"] as? Double ?? 0)) s")
      out("runs        \(answer["runs"] as? Int ?? 0)")
      out(
        "queue depth \(answer["queue_depth"] as? Int ?? 0) (done \(jobs["done"] ?? 0), failed \(jobs["failed"] ?? 0))")
      if let pending = answer["refreshes_pending"] as? Int, pending > 0 {
        out("settling    \(pending) run(s) get their full re-analysis once they stop publishing")
      }
      // How far analysis lags, per run with work waiting: say it rather than fall behind silently.
      for lag in answer["lag"] as? [[String: Any]] ?? [] {
        let analysed = (lag["analysed_step"] as? Int).map { "analysed up to step \($0)" } ?? "nothing analysed yet"
        out(
          "lag         run \(lag["run"] as? String ?? ""): \(lag["queued"] as? Int ?? 0) checkpoint(s) waiting, "
            + "oldest \(Int(lag["oldest_queued_seconds"] as? Double ?? 0)) s; latest step \(lag["latest_step"] as? Int ?? 0), "
            + analysed)
      }
      // Running jobs and their workers (several on a shared PostgreSQL store).
      for held in answer["workers"] as? [[String: Any]] ?? [] {
        let lease = (held["lease_seconds_left"] as? Double).map { String(format: ", lease %.0f s left", $0) } ?? ""
        let worker = (held["worker"] as? String).flatMap { $0.isEmpty ? nil : $0 } ?? "this daemon"
        out(
          "worker      \(worker): \(held["kind"] as? String ?? "") of run \(held["run"] as? String ?? "") "
            + "step \(held["step"] as? Int ?? 0) (job \(held["job"] as? Int ?? 0)\(lease))")
      }
    }
    return .success
  }

  static let runsSpec = CommandSpec(name: "i2x runs", abstract: "Registered runs.", options: commonOptions)

  static func runs(_ arguments: [String], out: (String) -> Void) throws -> ExitCode {
    let options = try ParsedOptions(arguments, spec: runsSpec)
    let answer = try query(options, QueryHeader(query: "runs"))
    if options.flag("json") {
      try printJSON(answer, out: out)
      return .success
    }
    let rows = (answer["runs"] as? [[String: Any]] ?? []).map { run in
      [
        run["name"] as? String ?? "", run["architecture"] as? String ?? "", "\(run["checkpoints"] as? Int ?? 0)",
        "\(run["probe_count"] as? Int ?? 0)",
      ]
    }
    out(TextTable.render(header: ["RUN", "ARCHITECTURE", "CHECKPOINTS", "PROBE"], rows: rows))
    return .success
  }

  static let checkpointsSpec = CommandSpec(
    name: "i2x checkpoints", abstract: "Checkpoints of a run.", arguments: [("run", "Run name.")],
    options: commonOptions)

  static func checkpoints(_ arguments: [String], out: (String) -> Void) throws -> ExitCode {
    let options = try ParsedOptions(arguments, spec: checkpointsSpec)
    let answer = try query(options, QueryHeader(query: "checkpoints", run: options.positionals[0]))
    if options.flag("json") {
      try printJSON(answer, out: out)
      return .success
    }
    let rows = (answer["checkpoints"] as? [[String: Any]] ?? []).map { c -> [String] in
      let metrics = (c["metrics"] as? [String: Double] ?? [:]).sorted { $0.key < $1.key }
        .map { "\($0.key)=\(String(format: "%.4g", $0.value))" }.joined(separator: " ")
      let parameters = (c["parameter_count"] as? Int).map(String.init) ?? "-"
      return [
        "\(c["step"] as? Int ?? 0)", "\(c["epoch"] as? Int ?? 0)", String((c["sha256"] as? String ?? "").prefix(12)),
        "\(c["size"] as? Int ?? 0)", c["job"] as? String ?? "", parameters, metrics,
      ]
    }
    out(TextTable.render(header: ["STEP", "EPOCH", "SHA256", "BYTES", "JOB", "PARAMS", "METRICS"], rows: rows))
    return .success
  }
}

/// A client failure with its exit code (69 unreachable, 66 unknown run, 65 bad data).
struct ClientError: Error, CustomStringConvertible, ExitCodeProviding {
  var description: String
  var exitCode: ExitCode
  /// The daemon's error code (`unknown-query`, `not-ready`, …) when the daemon refused.
  var code: String?
  init(_ description: String, exitCode: ExitCode, code: String? = nil) {
    self.description = description
    self.exitCode = exitCode
    self.code = code
  }
}

/// Left-aligned columns separated by two spaces.
enum TextTable {
  static func render(header: [String], rows: [[String]]) -> String {
    let all = [header] + rows
    let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
    return all.map { row in
      row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
        .trimmingCharacters(in: .whitespaces)
    }.joined(separator: "\n")
  }
}

import CLI
import Dispatch
import Foundation
import Store
import Synchronization
import Wire

/// `i2xd`: option parsing and wiring of the store, the job worker and the request loop.
public enum DaemonCommand {
  static let spec = CommandSpec(
    name: "i2xd", abstract: "The i2x daemon: stores checkpoints from trainers and answers the i2x client.",
    options: [
      .value("data-dir", "DIR", "Where the SQLite store and the blob directory live.", default: "i2x-data"),
      .value(
        "store", "URL",
        "Keep the store in PostgreSQL instead (postgresql://user@host:port/database; the password from ~/.pgpass or PGPASSWORD), shared with other daemons; blobs go in the database unless --blob-dir is given."
      ),
      .value(
        "blob-dir", "DIR",
        "Keep a PostgreSQL store's blobs in this directory instead of the database; every daemon sharing the store must reach it (e.g. NFS) and pass it."
      ),
      .value(
        "role", "ROLE",
        "all (accept checkpoints and queries, and analyse), frontend (accept and answer only) or worker (analyse only); frontend and worker need a PostgreSQL --store.",
        default: "all"),
      .value(
        "job-lease", "SECONDS",
        "On a PostgreSQL store: how long a claimed job stays this worker's without a renewal (renewed every quarter of it); a worker that dies or stalls longer loses the job to another.",
        default: "30"),
      .value(
        "worker-name", "NAME",
        "On a PostgreSQL store: this worker's name in the jobs it holds (default host:pid). A stable name, unique to one daemon, lets a restarted worker take back the jobs it held at once instead of after their leases."
      ),
      .value(
        "endpoint", "ENDPOINT", "ZeroMQ endpoint to bind (tcp://host:port or ipc://path).",
        default: "tcp://127.0.0.1:7070"),
      .value(
        "max-message-size", "BYTES", "Largest accepted message; bigger senders are disconnected.", default: "268435456"),
      .value("curve-secret-key", "Z85", "Server CURVE secret key (40 chars); required to bind a non-loopback address."),
      .value("curve-secret-key-file", "FILE", "File with the server secret key (mode 0600; not visible in 'ps')."),
      .value("curve-allow", "FILE", "File of allowed client CURVE public keys (Z85, one per line)."),
      .value("faithfulness-sample", "N", "Probe images per checkpoint for deletion/insertion AUC.", default: "50"),
      .value(
        "faithfulness-every", "N",
        "Measure faithfulness at every N-th checkpoint of a run and at its latest once it is quiet.", default: "5"),
      .value(
        "analysis-scheduling", "POLICY",
        "How analysis processes yield to trainers on the same cores: idle (only idle cores) or nice (niceness +10).",
        default: "idle"),
      .value(
        "refresh-after", "SECONDS",
        "Quiet time after a run's latest checkpoint before its full retrospective re-analysis.", default: "10"),
      .value(
        "finetune-cooldown", "N", "Checkpoints before a pair's flag may trigger another fine-tune (policy auto).",
        default: "6"),
      .value(
        "directive-lease", "SECONDS", "A fine-tune with no status or checkpoint for this long is failed: interrupted.",
        default: "600"),
      .value(
        "job-memory-limit", "BYTES",
        "Resident-memory cap of each analysis process; a job over it is retried, then failed.",
        default: "4294967296"),
      .value(
        "job-timeout", "SECONDS", "Longest one analysis job may run; a job over it is retried, then failed.",
        default: "3600"),
      .value("max-probe-images", "N", "Largest probe set a run may register.", default: "10000"),
      .value(
        "max-analysis-bytes", "BYTES", "Largest probe set × target-layer size the analysis may hold (×4 bytes).",
        default: "2147483648"),
      .value("max-parameters", "N", "Largest parameter count of a run's architecture.", default: "100000000"),
      .value(
        "max-activation-elements", "N", "Largest output of any layer, in elements per image.", default: "16777216"),
      .value("max-classes", "N", "Most classes an architecture may have.", default: "100000"),
      .value("max-tensors", "N", "Most tensors in a checkpoint or probe file.", default: "65536"),
      .value("max-header-bytes", "BYTES", "Largest safetensors header.", default: "16777216"),
      .value("generator", "FILE", "Generative prior for the data-free explainer (i2x-train generator)."),
      .value("oracle", "FILE", "Oracle classifier trained on the generator split (i2x-train train --split generator)."),
      .value(
        "explain", "POLICY",
        "Explainer policy of runs: auto (both classes of a flagged pair, and on demand), manual or off. Default: auto with --generator, else off."
      ),
      .value("explain-samples", "N", "Samples per set in an explanation.", default: "100"),
      .value("explain-scale", "S", "Classifier-guidance scale of the explainer.", default: "10"),
      .value("explain-guided-fraction", "F", "Guidance on for t ≤ F·T.", default: "0.6"),
    ],
    discussion: """
      Logs go to stderr. SIGINT/SIGTERM finish the requests in progress and exit 0. A checkpoint is
      acknowledged only after it fits its run's architecture with finite values, its file is fsynced
      and its row committed. Each analysis job runs in its own process (capped by --job-memory-limit);
      a job that crashes it 3 times is marked failed with the reason, and the daemon keeps serving.
      CURVE: 'i2xd keygen' prints a key pair; keep the server's secret key in a 0600 file
      (--curve-secret-key-file). Clients (i2x, i2x-train) use CURVE when I2X_CURVE_SERVER_KEY,
      I2X_CURVE_PUBLIC_KEY and I2X_CURVE_SECRET_KEY are all set.
      Explainer: with --generator, explanations run as low-priority jobs after every pending
      analysis; each reads only the checkpoint's weights, the generator and the oracle.
      """)

  /// Runs the daemon with `arguments`; returns the exit code.
  public static func main(_ arguments: [String]) -> Int32 {
    let log: @Sendable (String) -> Void = { Log.write("i2xd: \($0)") }
    if arguments.first == "run-job" { return runJob(Array(arguments.dropFirst()), log: log) }
    if arguments.first == "migrate" { return migrate(Array(arguments.dropFirst()), log: log) }
    if arguments.first == "keygen" {
      guard let pair = try? CurveKeyPair.generate() else {
        Log.write("error: this libzmq cannot make CURVE keys (built without libsodium?)")
        return ExitCode.unavailable.rawValue
      }
      print("public \(pair.publicKey)\nsecret \(pair.secretKey)")
      return 0
    }
    return exitCode(spec) {
      let options = try ParsedOptions(arguments, spec: spec)
      let configuration = try DaemonConfiguration(options)
      return try run(configuration, log: log)
    }
  }

  /// Runs a command's `body`: what it throws becomes a message on stderr and its exit code
  /// (`--help` prints the help and exits 0; usage errors 64 with a hint from `spec`).
  static func exitCode(_ spec: CommandSpec, _ body: () throws -> Int32) -> Int32 {
    do { return try body() } catch let help as HelpRequested {
      print(help.text)
      return 0
    } catch let usage as UsageError {
      Log.write("error: \(usage.message)")
      Log.write("hint: \(usage.hint ?? spec.hint)")
      return ExitCode.usage.rawValue
    } catch let error as ExitCodeProviding {
      Log.write("error: \(error)")
      return error.exitCode.rawValue
    } catch {
      Log.write("error: \(error)")
      return ExitCode.failure.rawValue
    }
  }

  static func run(_ configuration: DaemonConfiguration, log: @escaping @Sendable (String) -> Void) throws -> Int32 {
    let stop = StopFlag()
    let signals = [SIGINT, SIGTERM].map { number -> DispatchSourceSignal in
      signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
      source.setEventHandler {
        log("received signal \(number); finishing the current request")
        stop.set()
      }
      source.resume()
      return source
    }
    defer { for source in signals { source.cancel() } }

    let store = try DataDirectory.open(configuration.store, log: log)
    var worker: JobWorker?
    if configuration.role != "frontend" {
      let analysing = JobWorker(
        location: configuration.store, settings: configuration.analysis,
        isolation: .process(
          executable: JobProcess.currentExecutable(), memoryLimit: configuration.jobMemoryLimit,
          timeout: configuration.jobTimeout),
        log: log)
      analysing.lease = configuration.jobLease
      if let name = configuration.workerName { analysing.name = name }
      try analysing.start()
      worker = analysing
    }
    defer { worker?.stop() }
    if configuration.role == "worker" {
      log(
        "\(RequestHandler.version) analysing as worker \(worker?.name ?? ""), data in \(configuration.store.description)"
      )
      while !stop.isSet { Thread.sleep(forTimeInterval: 0.1) }
      log("shut down")
      return 0
    }
    let authenticator = try configuration.curve.map { try CurveAuthenticator(allowedKeys: $0.allowedKeys, log: log) }
    defer { authenticator?.stop() }
    let socket: RouterServerSocket
    do { socket = try RouterServerSocket(endpoint: configuration.endpoint, options: configuration.socketOptions) } catch
    {
      throw DaemonStartError("cannot bind \(configuration.endpoint): \(error); is another i2xd running there?")
    }
    defer { socket.close() }
    let limits = configuration.limits
    let writer = RequestHandler(store: store, log: log)
    writer.limits = limits
    writer.explainer = configuration.analysis.explainer
    writer.onStored = { worker?.notify() }
    let reader = RequestHandler(store: try DataDirectory.open(configuration.store, log: log), log: log)
    reader.limits = limits
    reader.explainer = configuration.analysis.explainer
    log("\(RequestHandler.version) listening on \(socket.endpoint), data in \(configuration.store.description)")
    let server = try DispatchingServer(socket: socket, reader: reader, writer: writer, log: log)
    server.run { stop.isSet }
    log("shut down after \(server.served) requests")
    return 0
  }

  static let migrateSpec = CommandSpec(
    name: "i2xd migrate",
    abstract: "Copy an embedded store (a data directory) into an empty PostgreSQL store, verified by SHA-256.",
    options: [
      .value("from", "DIR", "The data directory of the embedded store (stop its daemon first)."),
      .value("to", "URL", "The PostgreSQL store (postgresql://user@host:port/database), empty."),
      .value(
        "blob-dir", "DIR",
        "The blob directory the PostgreSQL store's daemons will use (--blob-dir); without it, blobs go in the database."
      ),
      .flag("json", "Print what was copied as JSON (schema_version 2)."),
    ],
    discussion: """
      Copies every table (ids kept) in one PostgreSQL transaction and every blob, then checks that
      each blob hashes to its name and each table reads back with the same SHA-256 over its rows;
      on any difference nothing is committed. Exit 65 when the target already has runs or the
      copy differs, 69 when PostgreSQL cannot be reached.
      """)

  /// `i2xd migrate`.
  static func migrate(_ arguments: [String], log: @escaping @Sendable (String) -> Void) -> Int32 {
    exitCode(migrateSpec) {
      let options = try ParsedOptions(arguments, spec: migrateSpec)
      let from = URL(fileURLWithPath: try options.requiredString("from"))
      let url = try options.requiredString("to")
      guard url.hasPrefix("postgresql://") || url.hasPrefix("postgres://") else {
        throw UsageError(
          "--to must be a PostgreSQL URL (postgresql://…), not '\(PostgreSQLDatabase.redacted(url))'",
          hint: migrateSpec.hint)
      }
      let blobs = options.string("blob-dir").map { URL(fileURLWithPath: $0) }
      let summary: StoreMigration.Summary
      do { summary = try StoreMigration.run(from: from, to: url, blobDirectory: blobs, log: log) } catch let error
        as PostgreSQLError where error.isTransient
      {
        throw DaemonStartError("cannot reach \(PostgreSQLDatabase.redacted(url)): \(error)")
      }
      if options.flag("json") {
        let object: [String: Any] = [
          "schema_version": 2, "rows": summary.rows, "blobs": summary.blobs, "blob_bytes": summary.blobBytes,
          "sha256": summary.digests,
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
      } else {
        print(
          "migrated \(summary.rows["runs"] ?? 0) runs, \(summary.rows["checkpoints"] ?? 0) checkpoints, "
            + "\(summary.rows.values.reduce(0, +)) rows and \(summary.blobs) blobs into \(PostgreSQLDatabase.redacted(url))"
        )
      }
      return 0
    }
  }

  /// `i2xd run-job`: the child process of one analysis job (not for users; see `JobProcess`).
  static func runJob(_ arguments: [String], log: @escaping @Sendable (String) -> Void) -> Int32 {
    var values: [String: String] = [:]
    var index = 0
    while index + 1 < arguments.count {
      values[arguments[index]] = arguments[index + 1]
      index += 2
    }
    guard let location = StoreLocation.child(values), let job = values["--job"].flatMap(Int.init),
      let parent = values["--parent"].flatMap(Int32.init)
    else {
      Log.write("error: run-job is started by i2xd itself, not by hand")
      return ExitCode.usage.rawValue
    }
    return JobProcess.childMain(
      location: location, jobID: job, fence: values["--fence"].flatMap(Int.init),
      settings: AnalysisSettings(values: values),
      parent: parent, log: log)
  }
}

extension StoreMigration.Refused: ExitCodeProviding {
  /// 65 (EX_DATAERR): the target is not empty, or the copy differs.
  public var exitCode: ExitCode { .dataError }
}

/// Set once by a signal handler, read by the request loop.
final class StopFlag: Sendable {
  private let flag = Atomic<Bool>(false)
  func set() { flag.store(true, ordering: .sequentiallyConsistent) }
  var isSet: Bool { flag.load(ordering: .sequentiallyConsistent) }
}

/// The daemon could not start (port taken, store unreadable): exit 69.
struct DaemonStartError: Error, CustomStringConvertible, ExitCodeProviding {
  var description: String
  init(_ description: String) { self.description = description }
  var exitCode: ExitCode { .unavailable }
}

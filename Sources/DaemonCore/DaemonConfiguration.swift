import CLI
import Explainer
import Foundation
import Models
import Store
import Wire

/// Validated `i2xd` settings.
struct DaemonConfiguration {
  var store: StoreLocation
  /// all, frontend or worker.
  var role = "all"
  /// Seconds of a job claim's lease on a PostgreSQL store.
  var jobLease = 30.0
  /// `--worker-name`, or nil for `host:pid`.
  var workerName: String?
  var endpoint: String
  var socketOptions = SocketOptions()
  var curve: (secretKey: String, allowedKeys: [String])?
  var analysis = AnalysisSettings()
  var jobMemoryLimit = 4 << 30
  var jobTimeout = 3600.0
  var limits = RequestLimits()

  init(_ options: ParsedOptions) throws {
    store = try Self.store(options)
    role = options.string("role") ?? role
    guard ["all", "frontend", "worker"].contains(role) else {
      throw UsageError("--role must be all, frontend or worker, not '\(role)'", hint: DaemonCommand.spec.hint)
    }
    if role != "all", case .directory = store {
      throw UsageError(
        "--role \(role) needs a PostgreSQL --store shared with the other daemons; the embedded store has one daemon",
        hint: DaemonCommand.spec.hint)
    }
    jobLease = Double(try options.int("job-lease", minimum: 2) ?? Int(jobLease))
    if let name = options.string("worker-name") {
      guard !name.isEmpty, name.utf8.count <= 200,
        !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
      else {
        throw UsageError(
          "--worker-name must be 1–200 bytes without control characters", hint: DaemonCommand.spec.hint)
      }
      guard case .postgreSQL = store else {
        throw UsageError("--worker-name belongs to a PostgreSQL --store", hint: DaemonCommand.spec.hint)
      }
      workerName = name
    }
    do { endpoint = try Endpoint.validate(try options.requiredString("endpoint"), for: .bind) } catch let error
      as EndpointError
    {
      throw UsageError("--endpoint: \(error)", hint: error.hint)
    }
    guard let size = try options.int("max-message-size", minimum: 1024) else {
      throw UsageError("--max-message-size is required", hint: DaemonCommand.spec.hint)
    }
    socketOptions.maximumMessageSize = Int64(size)
    analysis.faithfulnessSample = try options.int("faithfulness-sample", minimum: 0) ?? analysis.faithfulnessSample
    analysis.faithfulnessEvery = try options.int("faithfulness-every", minimum: 1) ?? analysis.faithfulnessEvery
    analysis.refreshAfter = Double(try options.int("refresh-after", minimum: 0) ?? Int(analysis.refreshAfter))
    if let scheduling = options.string("analysis-scheduling") {
      guard ["idle", "nice"].contains(scheduling) else {
        throw UsageError(
          "--analysis-scheduling must be idle or nice, not '\(scheduling)'", hint: DaemonCommand.spec.hint)
      }
      analysis.analysisScheduling = scheduling
    }
    analysis.finetuneCooldown = try options.int("finetune-cooldown", minimum: 0) ?? analysis.finetuneCooldown
    analysis.directiveLease = Double(try options.int("directive-lease", minimum: 1) ?? Int(analysis.directiveLease))
    jobMemoryLimit = try options.int("job-memory-limit", minimum: 64 << 20) ?? jobMemoryLimit
    jobTimeout = Double(try options.int("job-timeout", minimum: 1) ?? Int(jobTimeout))
    limits.maximumProbeImages = try options.int("max-probe-images", minimum: 1) ?? limits.maximumProbeImages
    limits.maximumAnalysisBytes = try options.int("max-analysis-bytes", minimum: 1 << 20) ?? limits.maximumAnalysisBytes
    limits.architecture.maximumParameters =
      try options.int("max-parameters", minimum: 1) ?? limits.architecture.maximumParameters
    limits.architecture.maximumActivationElements =
      try options.int("max-activation-elements", minimum: 1) ?? limits.architecture.maximumActivationElements
    limits.architecture.maximumClasses =
      try options.int("max-classes", minimum: 2) ?? limits.architecture.maximumClasses
    limits.safetensors.maximumTensors = try options.int("max-tensors", minimum: 1) ?? limits.safetensors.maximumTensors
    limits.safetensors.maximumHeaderBytes =
      try options.int("max-header-bytes", minimum: 1024) ?? limits.safetensors.maximumHeaderBytes
    analysis.explainer = try Self.explainer(options)
    curve = try Self.curve(options)
    socketOptions.curveServerSecretKey = curve?.secretKey
    guard Self.isLocal(endpoint) || curve != nil else {
      throw UsageError(
        "refusing to bind \(endpoint) without encryption: a non-loopback endpoint needs --curve-secret-key and --curve-allow",
        hint: DaemonCommand.spec.hint)
    }
  }

  /// `--store` (and `--blob-dir`, else blobs in the database), or `--data-dir`.
  static func store(_ options: ParsedOptions) throws -> StoreLocation {
    guard let url = options.string("store") else {
      guard options.string("blob-dir") == nil else {
        throw UsageError("--blob-dir belongs to a PostgreSQL --store", hint: DaemonCommand.spec.hint)
      }
      return .directory(URL(fileURLWithPath: try options.requiredString("data-dir")))
    }
    guard url.hasPrefix("postgresql://") || url.hasPrefix("postgres://") else {
      throw UsageError(
        "--store must be a PostgreSQL URL (postgresql://user@host:port/database), not '\(PostgreSQLDatabase.redacted(url))'; "
          + "the embedded SQLite store is --data-dir", hint: DaemonCommand.spec.hint)
    }
    return .postgreSQL(url: url, blobs: options.string("blob-dir").map { URL(fileURLWithPath: $0) })
  }

  /// The explainer settings; the generator and the oracle are loaded and checked now, so a
  /// bad file stops the daemon at start-up instead of failing every explanation later.
  private static func explainer(_ options: ParsedOptions) throws -> ExplainerSettings {
    var settings = ExplainerSettings()
    settings.samples = try options.int("explain-samples", minimum: 2) ?? settings.samples
    settings.scale = try options.double("explain-scale", minimum: 0) ?? settings.scale
    settings.guidedFraction = try options.double("explain-guided-fraction", minimum: 0) ?? settings.guidedFraction
    if let path = options.string("generator") {
      guard FileManager.default.fileExists(atPath: path) else {
        throw DaemonFileError("generator \(path) does not exist; make one with i2x-train generator", exitCode: .noInput)
      }
      let prior: GenerativePrior
      do { prior = try GenerativePrior(contentsOf: URL(fileURLWithPath: path)) } catch {
        throw DaemonFileError("\(error)", exitCode: .dataError)
      }
      settings.generatorPath = URL(fileURLWithPath: path).standardizedFileURL.path
      settings.generator = prior.description
      if let oracle = options.string("oracle") {
        guard FileManager.default.fileExists(atPath: oracle) else {
          throw DaemonFileError("oracle \(oracle) does not exist", exitCode: .noInput)
        }
        let checkpoint: ModelCheckpoint
        do { checkpoint = try ModelCheckpoint(contentsOf: URL(fileURLWithPath: oracle), architectureName: nil) } catch {
          throw DaemonFileError("oracle \(oracle): \(error)", exitCode: .dataError)
        }
        guard checkpoint.architecture.input == prior.image else {
          throw DaemonFileError(
            "the oracle takes \(checkpoint.architecture.input) images, the generator makes \(prior.image)",
            exitCode: .dataError)
        }
        settings.oraclePath = URL(fileURLWithPath: oracle).standardizedFileURL.path
      }
    } else if options.string("oracle") != nil {
      throw UsageError("--oracle needs --generator", hint: DaemonCommand.spec.hint)
    }
    let policy = try options.choice("explain", in: DaemonStore.ExplainPolicy.allCases.map(\.rawValue))
    settings.defaultPolicy =
      policy.flatMap(DaemonStore.ExplainPolicy.init(rawValue:)) ?? (settings.generatorPath != nil ? .auto : .off)
    return settings
  }

  /// The CURVE settings: none, or a server secret key (from `--curve-secret-key` or
  /// `--curve-secret-key-file`) with the allow-list of client public keys (`--curve-allow`).
  /// - Throws: `UsageError` for a half configuration, a malformed key, or a key file that
  ///   others could read.
  private static func curve(_ options: ParsedOptions) throws(UsageError) -> (secretKey: String, allowedKeys: [String])?
  {
    let hint = DaemonCommand.spec.hint
    let secret: String?
    switch (options.string("curve-secret-key"), options.string("curve-secret-key-file")) {
    case (nil, nil): secret = nil
    case (let key?, nil): secret = key
    case (nil, let file?): secret = try secretKey(fromFile: file)
    case (_?, _?):
      throw UsageError(
        "--curve-secret-key and --curve-secret-key-file are exclusive",
        hint: "pass the key in a file (--curve-secret-key-file) so it does not show in 'ps'")
    }
    switch (secret, options.string("curve-allow")) {
    case (nil, nil):
      return nil
    case (let secret?, let allowFile?):
      guard CurveKeyPair.isValidKey(secret) else {
        throw UsageError(
          "the server CURVE secret key must be 40 Z85 characters, got \(secret.count) characters",
          hint: "use the 'secret' line of 'i2xd keygen'")
      }
      return (secret, try allowedKeys(allowFile))
    default:
      throw UsageError(
        "--curve-secret-key (or --curve-secret-key-file) and --curve-allow go together", hint: hint)
    }
  }

  /// Reads the server secret key from `path`, which must belong to this user and be readable by
  /// no one else (mode 0600 or stricter), as ssh does for private keys.
  private static func secretKey(fromFile path: String) throws(UsageError) -> String {
    var info = stat()
    guard stat(path, &info) == 0 else {
      throw UsageError(
        "cannot read --curve-secret-key-file \(path): \(String(cString: strerror(errno)))",
        hint: "write the 'secret' line of 'i2xd keygen' to that file and 'chmod 600' it")
    }
    guard info.st_uid == geteuid() else {
      throw UsageError(
        "--curve-secret-key-file \(path) belongs to user id \(info.st_uid), not to this user (\(geteuid()))",
        hint: "chown it to the user running i2xd and 'chmod 600 \(path)'")
    }
    guard info.st_mode & 0o077 == 0 else {
      throw UsageError(
        "--curve-secret-key-file \(path) is readable by others (mode \(String(info.st_mode & 0o777, radix: 8)))",
        hint: "chmod 600 \(path)")
    }
    let text: String
    do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
      throw UsageError(
        "cannot read --curve-secret-key-file \(path): \(error.localizedDescription)", hint: "chmod 600 \(path)")
    }
    // Accept the bare key or the 'secret KEY' line that 'i2xd keygen' prints.
    let line =
      text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
      .first { !$0.isEmpty && !$0.hasPrefix("#") && !$0.hasPrefix("public ") } ?? ""
    return line.hasPrefix("secret ")
      ? String(line.dropFirst("secret ".count)).trimmingCharacters(in: .whitespaces) : line
  }

  /// The client public keys listed in `allowFile`, one per line (`#` comments).
  private static func allowedKeys(_ allowFile: String) throws(UsageError) -> [String] {
    let text: String
    do { text = try String(contentsOfFile: allowFile, encoding: .utf8) } catch {
      throw UsageError(
        "cannot read --curve-allow file \(allowFile): \(error.localizedDescription)", hint: DaemonCommand.spec.hint)
    }
    let keys = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
      .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    guard !keys.isEmpty, keys.allSatisfy(CurveKeyPair.isValidKey) else {
      throw UsageError(
        "--curve-allow needs one or more 40-character Z85 public keys, one per line", hint: DaemonCommand.spec.hint)
    }
    return keys
  }

  /// `ipc://`, `inproc://` and TCP on a loopback address.
  static func isLocal(_ endpoint: String) -> Bool {
    if endpoint.hasPrefix("ipc://") || endpoint.hasPrefix("inproc://") { return true }
    guard endpoint.hasPrefix("tcp://") else { return false }
    let address = endpoint.dropFirst("tcp://".count)
    guard let colon = address.lastIndex(of: ":") else { return false }
    let host = address[..<colon]
    return ["127.0.0.1", "localhost", "[::1]", "::1"].contains(String(host)) || host.hasPrefix("127.")
  }
}

/// A file given to `i2xd` that is missing (66) or unusable (65).
struct DaemonFileError: Error, CustomStringConvertible, ExitCodeProviding {
  var description: String
  var exitCode: ExitCode
  init(_ description: String, exitCode: ExitCode) {
    self.description = description
    self.exitCode = exitCode
  }
}

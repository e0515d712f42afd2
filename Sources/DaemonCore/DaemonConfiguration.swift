import CLI
import Foundation
import Wire

/// Validated `i2xd` settings.
struct DaemonConfiguration {
  var dataDirectory: URL
  var endpoint: String
  var socketOptions = SocketOptions()
  var curve: (secretKey: String, allowedKeys: [String])?
  var analysis = AnalysisSettings()
  var jobMemoryLimit = 4 << 30
  var jobTimeout = 3600.0
  var limits = RequestLimits()

  init(_ options: ParsedOptions) throws {
    dataDirectory = URL(fileURLWithPath: try options.requiredString("data-dir"))
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
    curve = try Self.curve(options)
    socketOptions.curveServerSecretKey = curve?.secretKey
    guard Self.isLocal(endpoint) || curve != nil else {
      throw UsageError(
        "refusing to bind \(endpoint) without encryption: a non-loopback endpoint needs --curve-secret-key and --curve-allow",
        hint: DaemonCommand.spec.hint)
    }
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

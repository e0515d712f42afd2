import CLI
import Foundation
import Wire

/// Validated `i2xd` settings.
struct DaemonConfiguration {
  var dataDirectory: URL
  var endpoint: String
  var socketOptions = SocketOptions()
  var curve: (secretKey: String, allowedKeys: [String])?
  var faithfulnessSample = 50
  var jobMemoryLimit = 4 << 30
  var maximumProbeImages = 10_000

  init(_ options: ParsedOptions) throws {
    dataDirectory = URL(fileURLWithPath: try options.requiredString("data-dir"))
    endpoint = try options.requiredString("endpoint")
    guard let size = try options.int("max-message-size", minimum: 1024) else {
      throw UsageError("--max-message-size is required", hint: DaemonCommand.spec.hint)
    }
    socketOptions.maximumMessageSize = Int64(size)
    faithfulnessSample = try options.int("faithfulness-sample", minimum: 0) ?? 50
    jobMemoryLimit = try options.int("job-memory-limit", minimum: 256 << 20) ?? jobMemoryLimit
    maximumProbeImages = try options.int("max-probe-images", minimum: 1) ?? maximumProbeImages
    switch (options.string("curve-secret-key"), options.string("curve-allow")) {
    case (nil, nil):
      curve = nil
    case (let secret?, let allowFile?):
      guard secret.utf8.count == 40 else {
        throw UsageError("--curve-secret-key must be a 40-character Z85 key", hint: DaemonCommand.spec.hint)
      }
      let text: String
      do { text = try String(contentsOfFile: allowFile, encoding: .utf8) } catch {
        throw UsageError(
          "cannot read --curve-allow file \(allowFile): \(error.localizedDescription)", hint: DaemonCommand.spec.hint)
      }
      let keys = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        .filter { !$0.isEmpty && !$0.hasPrefix("#") }
      guard !keys.isEmpty, keys.allSatisfy({ $0.utf8.count == 40 }) else {
        throw UsageError(
          "--curve-allow needs one or more 40-character Z85 public keys, one per line", hint: DaemonCommand.spec.hint)
      }
      curve = (secret, keys)
      socketOptions.curveServerSecretKey = secret
    default:
      throw UsageError("--curve-secret-key and --curve-allow go together", hint: DaemonCommand.spec.hint)
    }
    guard Self.isLocal(endpoint) || curve != nil else {
      throw UsageError(
        "refusing to bind \(endpoint) without encryption: a non-loopback endpoint needs --curve-secret-key and --curve-allow",
        hint: DaemonCommand.spec.hint)
    }
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

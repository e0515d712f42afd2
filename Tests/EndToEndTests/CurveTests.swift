import Foundation
import Glibc
import Testing
import Wire

/// CURVE with an allow-list: only listed client keys get answers.
@Suite struct CurveTests {
  @Test func onlyAllowListedClientsAreServed() throws {
    let server = try CurveKeyPair.generate()
    let allowed = try CurveKeyPair.generate()
    let stranger = try CurveKeyPair.generate()
    let keys = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: keys) }
    let allowFile = keys.appendingPathComponent("allowed")
    try "# clients\n\(allowed.publicKey)\n".write(to: allowFile, atomically: true, encoding: .utf8)
    let daemon = try DaemonUnderTest(extraArguments: [
      "--curve-secret-key", server.secretKey, "--curve-allow", allowFile.path,
    ])
    try daemon.startWithoutProbe()
    func status(_ pair: CurveKeyPair?) throws -> WireMessage {
      var options = SocketOptions()
      if let pair { options.curveClientKeys = (pair.publicKey, pair.secretKey, server.publicKey) }
      let client = RequestClient(endpoint: daemon.endpoint, timeoutMilliseconds: 1500, attempts: 1, options: options)
      defer { client.close() }
      return try client.request(try WireMessage(type: .query, header: QueryHeader(query: "status")))
    }
    var reply: WireMessage?
    let deadline = Date().addingTimeInterval(20)
    while reply == nil, Date() < deadline { reply = try? status(allowed) }
    #expect(reply?.type == .reply)
    #expect(throws: DaemonUnreachable.self) { try status(stranger) }
    #expect(throws: DaemonUnreachable.self) { try status(nil) }
    daemon.kill(SIGTERM)
  }

  @Test func nonLoopbackWithoutCurveIsRefused() throws {
    let result = try runProduct("i2xd", ["--endpoint", "tcp://0.0.0.0:7999", "--data-dir", NSTemporaryDirectory()])
    #expect(result.status == 64)
    #expect(result.output.contains("--curve-secret-key"))
  }
}

/// The real client binaries take their CURVE keys from `I2X_CURVE_*`, and the daemon its
/// secret from a private file.
@Suite struct CurveClientTests {
  /// A pair printed by `i2xd keygen` (`public KEY` / `secret KEY`).
  static func keygen() throws -> CurveKeyPair {
    let result = try runProduct("i2xd", ["keygen"], environment: [:])
    let lines = result.output.split(separator: "\n")
    let publicKey = lines.first { $0.hasPrefix("public ") }.map { String($0.dropFirst(7)) }
    let secretKey = lines.first { $0.hasPrefix("secret ") }.map { String($0.dropFirst(7)) }
    guard result.status == 0, let publicKey, let secretKey else { throw E2EError("keygen: \(result.output)") }
    return CurveKeyPair(publicKey: publicKey, secretKey: secretKey)
  }

  static func clientEnvironment(_ client: CurveKeyPair, server: CurveKeyPair) -> [String: String] {
    [
      "I2X_CURVE_SERVER_KEY": server.publicKey, "I2X_CURVE_PUBLIC_KEY": client.publicKey,
      "I2X_CURVE_SECRET_KEY": client.secretKey,
    ]
  }

  /// Writes `text` to a new file with `mode`.
  static func write(_ text: String, to url: URL, mode: Int) throws {
    try text.write(to: url, atomically: false, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
  }

  @Test func clientsAndTrainerUseTheEnvironmentsKeys() throws {
    let server = try Self.keygen()
    let client = try Self.keygen()
    let stranger = try CurveKeyPair.generate()
    let keys = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: keys) }
    let secretFile = keys.appendingPathComponent("server.key")
    try Self.write("public \(server.publicKey)\nsecret \(server.secretKey)\n", to: secretFile, mode: 0o600)
    let allowFile = keys.appendingPathComponent("allowed")
    try Self.write("\(client.publicKey)\n", to: allowFile, mode: 0o644)
    let daemon = try DaemonUnderTest(extraArguments: [
      "--curve-secret-key-file", secretFile.path, "--curve-allow", allowFile.path,
    ])
    try daemon.startWithoutProbe()
    defer { daemon.kill(SIGTERM) }
    let listed = Self.clientEnvironment(client, server: server)
    func status(_ environment: [String: String]) throws -> Termination {
      try runProduct(
        "i2x", ["status", "--endpoint", daemon.endpoint, "--timeout", "700", "--retries", "1"],
        environment: environment)
    }
    var served = try status(listed)
    let deadline = Date().addingTimeInterval(20)
    while served.status != 0, Date() < deadline { served = try status(listed) }
    #expect(served.status == 0, "\(served.output)\n\(daemon.process?.output ?? "")")
    #expect(served.output.contains("daemon      i2xd"))

    #expect(try status(Self.clientEnvironment(stranger, server: server)).status == 69)
    #expect(try status([:]).status == 69)
    var partial = listed
    partial["I2X_CURVE_SECRET_KEY"] = nil
    let half = try status(partial)
    #expect(half.status == 64)
    #expect(half.output.contains("I2X_CURVE_SECRET_KEY is not set"))

    // The trainer's background publisher and 'i2x-train publish' both get acknowledgements.
    let run = keys.appendingPathComponent("run")
    let trained = try runProduct(
      "i2x-train",
      [
        "train", "--dataset", "synthetic", "--arch", "smallcnn", "--epochs", "1", "--batch", "100",
        "--validation-size", "100", "--probe-per-class", "2", "--generator-size", "100", "--run", "curve-run",
        "--publish", daemon.endpoint, "--drain-timeout", "30", "--out", run.path,
      ], environment: listed)
    #expect(trained.status == 0, "\(trained.output)")
    #expect(trained.output.contains("all checkpoints acknowledged"), "\(trained.output)")
    let published = try runProduct(
      "i2x-train",
      [
        "publish", "--checkpoint", run.appendingPathComponent("final.safetensors").path, "--run", "curve-copy",
        "--endpoint", daemon.endpoint, "--timeout", "3000",
      ], environment: listed)
    #expect(published.status == 0, "\(published.output)")
    #expect(published.output.contains("checkpoint: stored"))
    let refused = try runProduct(
      "i2x-train",
      [
        "publish", "--checkpoint", run.appendingPathComponent("final.safetensors").path, "--run", "curve-copy",
        "--endpoint", daemon.endpoint,
      ], environment: partial)
    #expect(refused.status == 64)
  }

  @Test func theSecretKeyFileMustBePrivate() throws {
    let server = try CurveKeyPair.generate()
    let client = try CurveKeyPair.generate()
    let keys = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: keys) }
    let secretFile = keys.appendingPathComponent("server.key")
    try Self.write(server.secretKey + "\n", to: secretFile, mode: 0o644)
    let allowFile = keys.appendingPathComponent("allowed")
    try Self.write(client.publicKey + "\n", to: allowFile, mode: 0o644)
    let base = ["--data-dir", keys.appendingPathComponent("data").path, "--curve-allow", allowFile.path]
    let open = try runProduct("i2xd", base + ["--curve-secret-key-file", secretFile.path], environment: [:])
    #expect(open.status == 64)
    #expect(open.output.contains("readable by others (mode 644)"))
    #expect(open.output.contains("chmod 600 \(secretFile.path)"))
    let both = try runProduct(
      // `=` form: a Z85 key may start with '-' and would read as an option.
      "i2xd", base + ["--curve-secret-key-file", secretFile.path, "--curve-secret-key=\(server.secretKey)"],
      environment: [:])
    #expect(both.status == 64)
    #expect(both.output.contains("exclusive"))
    let missing = try runProduct(
      "i2xd", base + ["--curve-secret-key-file", keys.appendingPathComponent("absent").path], environment: [:])
    #expect(missing.status == 64)
  }
}

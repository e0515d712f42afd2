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

import ClientCore
import Testing

/// `i2x --endpoint` is checked before any socket: a typo exits 64, not 69.
@Suite struct EndpointOptionTests {
  @Test(arguments: [
    ("tcp://127.0.0.1:99999", "port '99999' is not a TCP port number 1–65535"),
    (
      "127.0.0.1:7070", "not a ZeroMQ endpoint (the transport must be tcp://, ipc:// or inproc://)"
    ),
    ("tcp://*:7070", "host '*' (every interface) is only valid when binding"),
  ])
  func aBadEndpointIsAUsageError(_ endpoint: String, _ problem: String) {
    var errors: [String] = []
    let code = ClientCommands.tool(out: { _ in }).run(
      ["status", "--endpoint", endpoint], out: { _ in }, err: { errors.append($0) })
    #expect(code == 64)
    #expect(errors.first == "error: --endpoint: invalid endpoint '\(endpoint)': \(problem)")
    #expect(errors.last?.hasPrefix("hint: write tcp://HOST:PORT") == true)
  }
}

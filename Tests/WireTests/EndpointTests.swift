import Testing
import Wire

/// Endpoint syntax is checked before any socket: typos are usage errors, not dead daemons.
@Suite struct EndpointTests {
  @Test(arguments: [
    "tcp://127.0.0.1:7070", "tcp://10.1.2.3:1", "tcp://[::1]:65535", "tcp://[fe80::1]:7070", "tcp://localhost:7070",
    "tcp://daemon.example.org:7070", "tcp://gpu-box-2:7070", "ipc:///tmp/i2x.sock", "inproc://daemon",
  ])
  func acceptsValidEndpointsForConnecting(_ endpoint: String) throws {
    #expect(try Endpoint.validate(endpoint, for: .connect) == endpoint)
  }

  @Test(arguments: [
    ("tcp://127.0.0.1:99999", "port '99999'"), ("tcp://127.0.0.1:0", "port '0'"),
    ("tcp://127.0.0.1:-1", "port '-1'"), ("tcp://127.0.0.1:http", "port 'http'"),
    ("tcp://127.0.0.1", "needs a port"), ("garbage", "not a ZeroMQ endpoint"), ("udp://1.2.3.4:5", "transport"),
    ("tcp://300.1.1.1:7070", "not an IPv4 address"), ("tcp://1.2.3:7070", "not an IPv4 address"),
    ("tcp://[::zz]:7070", "IPv6"), ("tcp://::1:7070", "not an IPv4 address, a bracketed IPv6"),
    ("tcp://bad_host:7070", "host name"), ("tcp://-lead:7070", "host name"), ("tcp://:7070", "host name"),
    ("tcp://*:7070", "only valid when binding"), ("tcp://127.0.0.1:*", "only valid when binding"),
    ("ipc://", "needs a socket file path"), ("inproc://", "needs a name"),
  ])
  func rejectsInvalidEndpointsNamingTheProblem(_ endpoint: String, _ problem: String) {
    #expect {
      try Endpoint.validate(endpoint, for: .connect)
    } throws: { error in
      let error = error as? EndpointError
      return error?.endpoint == endpoint && error?.description.contains(problem) == true
        && error?.hint.contains("tcp://127.0.0.1:7070") == true
    }
  }

  @Test func bindingAllowsWildcardsAndMapsLocalhostToLoopback() throws {
    // libzmq binds only IP literals and interface names: `zmq_bind("tcp://localhost:P")`
    // fails with ENODEV, so binding uses 127.0.0.1; connecting resolves the name itself.
    #expect(try Endpoint.validate("tcp://localhost:7070", for: .bind) == "tcp://127.0.0.1:7070")
    #expect(try Endpoint.validate("tcp://LOCALHOST:7070", for: .bind) == "tcp://127.0.0.1:7070")
    #expect(try Endpoint.validate("tcp://localhost:7070", for: .connect) == "tcp://localhost:7070")
    #expect(try Endpoint.validate("tcp://*:7070", for: .bind) == "tcp://*:7070")
    #expect(try Endpoint.validate("tcp://127.0.0.1:*", for: .bind) == "tcp://127.0.0.1:*")
    #expect(try Endpoint.validate("ipc://*", for: .bind) == "ipc://*")
  }

  @Test func ipcPathsMustFitSunPath() throws {
    // sun_path is 108 bytes with its NUL: 107 bytes of path fit, 108 do not.
    let fits = "/" + String(repeating: "a", count: 106)
    #expect(try Endpoint.validate("ipc://" + fits, for: .bind) == "ipc://" + fits)
    #expect {
      try Endpoint.validate("ipc://" + fits + "a", for: .bind)
    } throws: { error in
      (error as? EndpointError)?.problem.contains("108 bytes; the limit is 107") == true
    }
  }

  @Test func localhostWorksForBindingAndConnecting() throws {
    let server = try ZMQSocket(.router)
    defer { server.close() }
    try server.bind(try Endpoint.validate("tcp://localhost:*", for: .bind))
    let bound = try server.boundEndpoint()
    #expect(bound.hasPrefix("tcp://127.0.0.1:"))
    let port = bound.split(separator: ":").last.map(String.init) ?? ""
    let client = try ZMQSocket(.dealer)
    defer { client.close() }
    try client.connect(try Endpoint.validate("tcp://localhost:\(port)", for: .connect))
    try client.send([Array("hello".utf8)])
    let frames = try #require(try server.receive(timeoutMilliseconds: 3000))
    #expect(frames.last == Array("hello".utf8))
  }
}

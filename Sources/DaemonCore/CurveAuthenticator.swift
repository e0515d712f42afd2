import CZeroMQ
import Foundation
import Wire

/// ZAP handler (ZeroMQ RFC 27) that admits only CURVE clients whose public key is on the
/// allow-list. Runs on its own thread with its own REP socket at `inproc://zeromq.zap.01`.
final class CurveAuthenticator: @unchecked Sendable {
  private let allowed: Set<[UInt8]>
  private let log: @Sendable (String) -> Void
  private let lock = NSLock()
  private var stopping = false
  private let finished = DispatchSemaphore(value: 0)
  private let ready = DispatchSemaphore(value: 0)

  /// Decodes the Z85 keys and starts the handler; returns once it is bound.
  init(allowedKeys: [String], log: @escaping @Sendable (String) -> Void) throws {
    var keys = Set<[UInt8]>()
    for key in allowedKeys {
      var binary = [UInt8](repeating: 0, count: 32)
      guard zmq_z85_decode(&binary, key) != nil else { throw ZMQError("decode CURVE key \(key.prefix(8))…") }
      keys.insert(binary)
    }
    allowed = keys
    self.log = log
    let startError = ErrorBox()
    let thread = Thread { [self] in
      do {
        let socket = try ZMQSocket(.reply)
        try socket.bind("inproc://zeromq.zap.01")
        ready.signal()
        serve(socket)
        socket.close()
      } catch {
        startError.error = error
        ready.signal()
      }
      finished.signal()
    }
    thread.name = "i2xd-zap"
    thread.start()
    ready.wait()
    if let error = startError.error { throw error }
  }

  func stop() {
    lock.withLock { stopping = true }
    finished.wait()
  }

  private func serve(_ socket: ZMQSocket) {
    while !lock.withLock({ stopping }) {
      guard let request = try? socket.receive(timeoutMilliseconds: 100), request.count >= 6 else { continue }
      // [version, request id, domain, address, routing id, mechanism, credentials…]
      let key = request.count >= 7 ? request[6] : []
      let admitted = String(decoding: request[5], as: UTF8.self) == "CURVE" && allowed.contains(key)
      if !admitted {
        log("refused a client at \(String(decoding: request[3], as: UTF8.self)): key not on the allow-list")
      }
      let status = admitted ? "200" : "400"
      try? socket.send([
        request[0], request[1], Array(status.utf8), Array((admitted ? "OK" : "not allowed").utf8), [], [],
      ])
    }
  }
}

/// Carries a start-up error out of a thread (written before `ready` is signalled, read after).
private final class ErrorBox: @unchecked Sendable {
  var error: Error?
}

import CZeroMQ
import Foundation

/// The process's ZeroMQ context (one I/O thread).
public final class ZMQContext: @unchecked Sendable {
  /// Shared context; never terminated (sockets set linger so exit never hangs).
  public static let shared = ZMQContext()
  let handle: UnsafeMutableRawPointer?

  private init() { handle = zmq_ctx_new() }
}

/// A ZeroMQ socket owned by exactly one thread (libzmq sockets are not thread-safe): create,
/// use and close it on the same dedicated thread, never in Swift's cooperative pool.
public final class ZMQSocket {
  /// Socket kinds used by i2x.
  public enum Kind: Int32, Sendable {
    /// Daemon endpoint.
    case router = 6
    /// Strict request/reply client (trainer outbox, client CLI).
    case request = 3
    /// Asynchronous client.
    case dealer = 5
    /// ZAP handler side.
    case reply = 4
  }

  private var handle: UnsafeMutableRawPointer?

  /// Creates a socket and applies `options`.
  /// - Throws: `ZMQError` if libzmq refuses the socket or an option.
  public init(_ kind: Kind, options: SocketOptions = SocketOptions()) throws {
    guard let socket = zmq_socket(ZMQContext.shared.handle, kind.rawValue) else { throw ZMQError("zmq_socket") }
    handle = socket
    try set(ZMQ_LINGER, options.lingerMilliseconds)
    try set(ZMQ_MAXMSGSIZE, options.maximumMessageSize)
    try set(ZMQ_SNDTIMEO, options.sendTimeoutMilliseconds)
    if let secret = options.curveServerSecretKey {
      try set(ZMQ_CURVE_SERVER, Int32(1))
      try setString(ZMQ_CURVE_SECRETKEY, secret)
    }
    if let keys = options.curveClientKeys {
      try setString(ZMQ_CURVE_SERVERKEY, keys.serverKey)
      try setString(ZMQ_CURVE_PUBLICKEY, keys.publicKey)
      try setString(ZMQ_CURVE_SECRETKEY, keys.secretKey)
    }
  }

  deinit { close() }

  /// Closes the socket (idempotent).
  public func close() {
    if let socket = handle { zmq_close(socket) }
    handle = nil
  }

  /// Binds to `endpoint` (`tcp://host:port`, `ipc://path`, `inproc://name`; check it first with
  /// `Endpoint.validate(_:for:)`).
  /// - Throws: `ZMQError` naming the endpoint (address in use, no such interface).
  public func bind(_ endpoint: String) throws {
    try enableIPv6(for: endpoint)
    guard zmq_bind(try live(), endpoint) == 0 else { throw ZMQError("bind \(endpoint)") }
  }

  /// Connects to `endpoint` (libzmq resolves DNS names such as `localhost`).
  /// - Throws: `ZMQError` for an endpoint libzmq cannot parse.
  public func connect(_ endpoint: String) throws {
    try enableIPv6(for: endpoint)
    guard zmq_connect(try live(), endpoint) == 0 else { throw ZMQError("connect \(endpoint)") }
  }

  /// libzmq ignores IPv6 addresses unless `ZMQ_IPV6` is set: set it for `tcp://[…]:port`.
  private func enableIPv6(for endpoint: String) throws {
    if endpoint.hasPrefix("tcp://[") { try set(ZMQ_IPV6, Int32(1)) }
  }

  /// The endpoint actually bound (resolves `tcp://127.0.0.1:*` to the chosen port).
  public func boundEndpoint() throws -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    var size = buffer.count
    guard zmq_getsockopt(try live(), ZMQ_LAST_ENDPOINT, &buffer, &size) == 0 else { throw ZMQError("last endpoint") }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// Sends a multipart message.
  /// - Throws: `ZMQError` (EAGAIN after the send timeout).
  public func send(_ frames: [[UInt8]]) throws {
    let socket = try live()
    for (index, frame) in frames.enumerated() {
      let flags = index == frames.count - 1 ? 0 : ZMQ_SNDMORE
      let sent = frame.withUnsafeBytes { zmq_send(socket, $0.baseAddress, $0.count, flags) }
      guard sent >= 0 else { throw ZMQError("send") }
    }
  }

  /// Receives one multipart message, waiting at most `timeoutMilliseconds` (−1: forever).
  /// - Returns: the frames, or nil on timeout or when a signal interrupted the wait.
  public func receive(timeoutMilliseconds: Int) throws -> [[UInt8]]? {
    let socket = try live()
    var item = zmq_pollitem_t(socket: socket, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
    let ready = zmq_poll(&item, 1, timeoutMilliseconds)
    if ready < 0 {
      if zmq_errno() == EINTR { return nil }
      throw ZMQError("poll")
    }
    guard ready > 0 else { return nil }
    // ZeroMQ delivers multipart messages atomically: once the first part is here, all are.
    var frames: [[UInt8]] = []
    while true {
      var message = zmq_msg_t()
      zmq_msg_init(&message)
      guard zmq_msg_recv(&message, socket, ZMQ_DONTWAIT) >= 0 else {
        let code = zmq_errno()
        zmq_msg_close(&message)
        if code == EINTR || code == EAGAIN { return frames.isEmpty ? nil : frames }
        throw ZMQError("receive")
      }
      let size = zmq_msg_size(&message)
      frames.append(size == 0 ? [] : [UInt8](UnsafeRawBufferPointer(start: zmq_msg_data(&message), count: size)))
      let more = zmq_msg_more(&message) == 1
      zmq_msg_close(&message)
      if !more { break }
    }
    return frames
  }

  /// Waits until this socket has a message or file descriptor `fd` is readable, at most
  /// `timeoutMilliseconds`. Lets one thread serve the socket and wake-ups from other threads
  /// (a pipe), since the socket itself must stay on its thread.
  /// - Parameter watchSocket: false to wait for `fd` only (back-pressure: read no requests).
  /// - Returns: which of the two is readable (both false on timeout or EINTR).
  public func waitReadable(
    watchSocket: Bool = true, alsoWatching fd: Int32, timeoutMilliseconds: Int
  ) throws -> (socket: Bool, fd: Bool) {
    var items = [
      zmq_pollitem_t(
        socket: watchSocket ? try live() : nil, fd: watchSocket ? 0 : -1, events: Int16(ZMQ_POLLIN), revents: 0),
      zmq_pollitem_t(socket: nil, fd: fd, events: Int16(ZMQ_POLLIN), revents: 0),
    ]
    let ready = items.withUnsafeMutableBufferPointer { zmq_poll($0.baseAddress, 2, timeoutMilliseconds) }
    if ready < 0 {
      if zmq_errno() == EINTR { return (false, false) }
      throw ZMQError("poll")
    }
    return (watchSocket && items[0].revents & Int16(ZMQ_POLLIN) != 0, items[1].revents & Int16(ZMQ_POLLIN) != 0)
  }

  private func live() throws -> UnsafeMutableRawPointer {
    guard let handle else { throw ZMQError("socket already closed") }
    return handle
  }

  private func set(_ option: Int32, _ value: Int32) throws {
    var v = value
    guard zmq_setsockopt(try live(), option, &v, MemoryLayout<Int32>.size) == 0 else {
      throw ZMQError("setsockopt \(option)")
    }
  }

  private func set(_ option: Int32, _ value: Int64) throws {
    var v = value
    guard zmq_setsockopt(try live(), option, &v, MemoryLayout<Int64>.size) == 0 else {
      throw ZMQError("setsockopt \(option)")
    }
  }

  private func setString(_ option: Int32, _ value: String) throws {
    let bytes = Array(value.utf8)
    guard zmq_setsockopt(try live(), option, bytes, bytes.count) == 0 else { throw ZMQError("setsockopt \(option)") }
  }
}

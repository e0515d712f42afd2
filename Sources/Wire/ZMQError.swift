import CZeroMQ

/// A failed ZeroMQ call: which call, on what, and libzmq's reason.
public struct ZMQError: Error, CustomStringConvertible {
  /// The failing operation (e.g. `bind tcp://127.0.0.1:7070`).
  public var operation: String
  /// errno as set by libzmq.
  public var code: Int32

  /// Captures `zmq_errno()` for `operation`.
  public init(_ operation: String) {
    self.operation = operation
    self.code = zmq_errno()
  }

  public var description: String {
    "\(operation) failed: \(String(cString: zmq_strerror(code)))"
  }
}

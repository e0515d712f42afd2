import Foundation

/// Options set on every socket before it binds or connects.
public struct SocketOptions: Sendable, Equatable {
  /// Milliseconds unsent messages may delay close (`ZMQ_LINGER`); 0 so shutdown never hangs.
  public var lingerMilliseconds: Int32 = 0
  /// Largest inbound message in bytes (`ZMQ_MAXMSGSIZE`); a peer sending more is disconnected.
  public var maximumMessageSize: Int64 = 256 << 20
  /// Send timeout in milliseconds (`ZMQ_SNDTIMEO`).
  public var sendTimeoutMilliseconds: Int32 = 5000
  /// CURVE: act as server with this Z85 secret key.
  public var curveServerSecretKey: String?
  /// CURVE: act as client with these Z85 keys (own public, own secret, server public).
  public var curveClientKeys: (publicKey: String, secretKey: String, serverKey: String)?

  /// Defaults: linger 0, 256 MiB messages, 5 s send timeout, no CURVE.
  public init() {}

  /// The environment variables a client reads its CURVE keys from, in the order of the
  /// `curveClientKeys` tuple's meaning: server public key, own public key, own secret key.
  public static let curveEnvironmentVariables = [
    "I2X_CURVE_SERVER_KEY", "I2X_CURVE_PUBLIC_KEY", "I2X_CURVE_SECRET_KEY",
  ]

  /// Client options from the environment: CURVE when `I2X_CURVE_SERVER_KEY`,
  /// `I2X_CURVE_PUBLIC_KEY` and `I2X_CURVE_SECRET_KEY` (Z85, 40 characters each) are set,
  /// plaintext when none is.
  /// - Parameter environment: The variables to read (the process environment by default).
  /// - Throws: `CurveEnvironmentError` when only some of the three are set or one is not a
  ///   Z85 key: a client must never fall back to plaintext silently.
  public static func client(
    environment: [String: String] = ProcessInfo.processInfo.environment
  ) throws(CurveEnvironmentError) -> SocketOptions {
    var options = SocketOptions()
    let names = curveEnvironmentVariables
    let values = names.map { environment[$0] }
    let missing = zip(names, values).filter { $0.1 == nil }.map(\.0)
    if missing.count == names.count { return options }
    guard missing.isEmpty else {
      let present = names.filter { !missing.contains($0) }
      throw CurveEnvironmentError(
        "\(missing.joined(separator: " and ")) \(missing.count == 1 ? "is" : "are") not set, but "
          + "\(present.joined(separator: " and ")) \(present.count == 1 ? "is" : "are"): CURVE needs all three",
        hint: "set all of \(names.joined(separator: ", ")) to use CURVE, or unset them all for plaintext")
    }
    var keys: [String] = []
    for (name, value) in zip(names, values) {
      let key = value ?? ""
      guard CurveKeyPair.isValidKey(key) else {
        let found = key.count == 40 ? "characters outside the Z85 alphabet" : "\(key.count) characters"
        throw CurveEnvironmentError(
          "\(name) is not a CURVE key: expected 40 Z85 characters, got \(found)",
          hint: "copy the key from the output of 'i2xd keygen'")
      }
      keys.append(key)
    }
    options.curveClientKeys = (publicKey: keys[1], secretKey: keys[2], serverKey: keys[0])
    return options
  }

  /// Equal when every option, including the CURVE keys, is equal.
  public static func == (lhs: SocketOptions, rhs: SocketOptions) -> Bool {
    lhs.lingerMilliseconds == rhs.lingerMilliseconds && lhs.maximumMessageSize == rhs.maximumMessageSize
      && lhs.sendTimeoutMilliseconds == rhs.sendTimeoutMilliseconds
      && lhs.curveServerSecretKey == rhs.curveServerSecretKey
      && lhs.curveClientKeys?.publicKey == rhs.curveClientKeys?.publicKey
      && lhs.curveClientKeys?.secretKey == rhs.curveClientKeys?.secretKey
      && lhs.curveClientKeys?.serverKey == rhs.curveClientKeys?.serverKey
  }
}

/// The CURVE environment variables cannot be used as they are.
public struct CurveEnvironmentError: Error, CustomStringConvertible, Equatable {
  /// What is wrong, naming the variable.
  public var message: String
  /// What to do about it.
  public var hint: String

  /// Creates an error.
  /// - Parameters:
  ///   - message: What is wrong, naming the variable.
  ///   - hint: What to do about it.
  public init(_ message: String, hint: String) {
    self.message = message
    self.hint = hint
  }

  /// The message.
  public var description: String { message }
}

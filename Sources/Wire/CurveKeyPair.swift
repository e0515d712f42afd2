import CZeroMQ

/// A CURVE key pair in Z85 (40 characters each).
public struct CurveKeyPair: Sendable {
  /// Public key.
  public var publicKey: String
  /// Secret key.
  public var secretKey: String

  /// A pair from known keys (e.g. the lines `i2xd keygen` printed).
  /// - Parameters:
  ///   - publicKey: The Z85 public key.
  ///   - secretKey: The Z85 secret key.
  public init(publicKey: String, secretKey: String) {
    self.publicKey = publicKey
    self.secretKey = secretKey
  }

  /// The Z85 alphabet (ZeroMQ RFC 32): 85 printable characters, four bytes per five characters.
  static let z85Alphabet = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#")

  /// Whether `key` is a CURVE key in Z85: exactly 40 characters of the Z85 alphabet (32 bytes).
  /// - Parameter key: The text to check.
  public static func isValidKey(_ key: String) -> Bool {
    key.count == 40 && key.allSatisfy { z85Alphabet.contains($0) }
  }

  /// Generates a fresh pair with libzmq (libsodium underneath).
  /// - Throws: `ZMQError` when this libzmq was built without CURVE support.
  public static func generate() throws -> CurveKeyPair {
    var publicKey = [CChar](repeating: 0, count: 41)
    var secretKey = [CChar](repeating: 0, count: 41)
    guard zmq_curve_keypair(&publicKey, &secretKey) == 0 else { throw ZMQError("zmq_curve_keypair") }
    func text(_ chars: [CChar]) -> String {
      String(decoding: chars.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    return CurveKeyPair(publicKey: text(publicKey), secretKey: text(secretKey))
  }
}

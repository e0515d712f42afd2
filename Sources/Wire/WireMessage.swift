import Foundation

/// Message kinds of the i2x protocol (DESIGN §4).
public enum MessageType: UInt8, Sendable, CaseIterable {
  /// Trainer → daemon: a run with its architecture, classes and probe set.
  case registerRun = 1
  /// Trainer → daemon: one checkpoint (payload: the safetensors file).
  case checkpoint = 2
  /// Daemon → trainer: stored / duplicate / registered, with pending directives.
  case ack = 3
  /// Daemon → anyone: the request was refused (code + message).
  case error = 4
  /// Client → daemon: a JSON query.
  case query = 5
  /// Daemon → client: the query's JSON answer.
  case reply = 6
  /// Trainer → daemon: a directive changed state (acknowledged with `ack`).
  case directiveStatus = 7
  /// Client → daemon: a change of daemon state (set a policy, request a fine-tune); `reply`.
  case command = 8
}

/// One protocol message: frame 1 = magic `I2X` + version + type, frame 2 = JSON header,
/// optional frame 3 = binary payload.
public struct WireMessage: Equatable, Sendable {
  /// `I2X` in ASCII.
  public static let magic: [UInt8] = [0x49, 0x32, 0x58]
  /// The protocol version this build speaks.
  public static let version: UInt8 = 1

  /// Message kind.
  public var type: MessageType
  /// UTF-8 JSON header.
  public var header: [UInt8]
  /// Binary payload (a safetensors file), if any.
  public var payload: [UInt8]?

  /// Creates a message from raw parts.
  public init(type: MessageType, headerBytes header: [UInt8], payload: [UInt8]? = nil) {
    self.type = type
    self.header = header
    self.payload = payload
  }

  /// Creates a message whose header is `value` encoded as key-sorted JSON.
  public init<Header: Encodable>(type: MessageType, header value: Header, payload: [UInt8]? = nil) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    self.init(type: type, headerBytes: [UInt8](try encoder.encode(value)), payload: payload)
  }

  /// The ZeroMQ frames.
  public var frames: [[UInt8]] {
    [Self.magic + [Self.version, type.rawValue], header] + (payload.map { [$0] } ?? [])
  }

  /// Parses frames, checking magic, version, type, frame count and that the header is a
  /// JSON object.
  /// - Throws: `WireError` saying which rule failed.
  public init(frames: [[UInt8]]) throws(WireError) {
    guard frames.count == 2 || frames.count == 3 else {
      throw WireError(.malformedFrame, "expected 2 or 3 frames (envelope, header[, payload]), got \(frames.count)")
    }
    let envelope = frames[0]
    guard envelope.count == 5, Array(envelope[0..<3]) == Self.magic else {
      throw WireError(.malformedFrame, "first frame is not an i2x envelope (magic 'I2X' + version + type)")
    }
    guard envelope[3] == Self.version else {
      throw WireError(
        .unsupportedVersion, "protocol version \(envelope[3]) is not supported; this daemon speaks \(Self.version)")
    }
    guard let type = MessageType(rawValue: envelope[4]) else {
      throw WireError(.unknownType, "unknown message type \(envelope[4])")
    }
    guard (try? JSONSerialization.jsonObject(with: Data(frames[1]))) is [String: Any] else {
      throw WireError(.invalidHeader, "header frame is not a JSON object")
    }
    self.init(type: type, headerBytes: frames[1], payload: frames.count == 3 ? frames[2] : nil)
  }

  /// Decodes the header as `Header`.
  /// - Throws: `WireError.Kind.invalidHeader` naming the missing or ill-typed field.
  public func decode<Header: Decodable>(_: Header.Type) throws(WireError) -> Header {
    do {
      return try JSONDecoder().decode(Header.self, from: Data(header))
    } catch let DecodingError.keyNotFound(key, _) {
      throw WireError(.invalidHeader, "header lacks field '\(key.stringValue)'")
    } catch let DecodingError.typeMismatch(_, context) {
      throw WireError(
        .invalidHeader,
        "header field '\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type")
    } catch {
      throw WireError(.invalidHeader, "header does not fit a \(type) message: \(error)")
    }
  }
}

/// A message that breaks the protocol.
public struct WireError: Error, CustomStringConvertible, Equatable {
  /// Which rule.
  public enum Kind: String, Sendable {
    /// Wrong frame count or envelope.
    case malformedFrame = "malformed-frame"
    /// Another protocol version.
    case unsupportedVersion = "unsupported-version"
    /// A type byte this build does not know.
    case unknownType = "unknown-type"
    /// Header is not the expected JSON.
    case invalidHeader = "invalid-header"
  }

  /// Which rule failed.
  public var kind: Kind
  /// What is wrong.
  public var message: String

  /// Creates an error.
  public init(_ kind: Kind, _ message: String) {
    self.kind = kind
    self.message = message
  }

  public var description: String { message }
}

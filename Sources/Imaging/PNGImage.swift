import CZlib
import Foundation

/// An 8-bit RGB image and its PNG encoding (our own small encoder over zlib: signature, IHDR,
/// one zlib-compressed IDAT of unfiltered scanlines, IEND; CRC-32 from zlib).
public struct PNGImage: Sendable, Equatable {
  /// Width and height in pixels.
  public let width: Int, height: Int
  /// RGB bytes, row-major, 3 per pixel.
  public var pixels: [UInt8]

  /// A black image.
  public init(width: Int, height: Int) {
    precondition(width > 0 && height > 0, "PNG size \(width)×\(height)")
    self.width = width
    self.height = height
    pixels = [UInt8](repeating: 0, count: width * height * 3)
  }

  /// Sets one pixel (ignored outside the image).
  public mutating func set(_ x: Int, _ y: Int, _ rgb: (UInt8, UInt8, UInt8)) {
    guard x >= 0, y >= 0, x < width, y < height else { return }
    let i = (y * width + x) * 3
    (pixels[i], pixels[i + 1], pixels[i + 2]) = rgb
  }

  /// The PNG file bytes.
  public func encoded() throws -> [UInt8] {
    var raw = [UInt8]()
    raw.reserveCapacity(height * (1 + width * 3))
    for y in 0..<height {
      raw.append(0)  // filter type 0 (none)
      raw.append(contentsOf: pixels[(y * width * 3)..<((y + 1) * width * 3)])
    }
    var bound = compressBound(uLong(raw.count))
    var compressed = [UInt8](repeating: 0, count: Int(bound))
    guard compress2(&compressed, &bound, raw, uLong(raw.count), 6) == Z_OK else {
      throw PNGError("zlib could not compress the image")
    }
    compressed.removeSubrange(Int(bound)...)
    var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    var header = [UInt8]()
    header += Self.bigEndian(UInt32(width)) + Self.bigEndian(UInt32(height))
    header += [8, 2, 0, 0, 0]  // bit depth 8, colour type 2 (RGB), deflate, no filter method, no interlace
    out += Self.chunk("IHDR", header) + Self.chunk("IDAT", compressed) + Self.chunk("IEND", [])
    return out
  }

  /// Writes the PNG file.
  public func write(to url: URL) throws {
    try Data(try encoded()).write(to: url, options: .atomic)
  }

  static func bigEndian(_ value: UInt32) -> [UInt8] {
    [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
  }

  static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
    let body = Array(type.utf8) + data
    let crc = body.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
    return bigEndian(UInt32(data.count)) + body + bigEndian(UInt32(crc))
  }
}

/// The image could not be encoded.
public struct PNGError: Error, CustomStringConvertible {
  public var description: String
  init(_ description: String) { self.description = description }
}

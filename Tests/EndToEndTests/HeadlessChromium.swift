import CZlib
import Foundation

/// Headless Chromium for end-to-end report tests: a screenshot, and the DOM after load. (Headless
/// Chromium needs its own scripting for both, so JavaScript cannot be switched off here; the
/// report tests check instead that the file has no script at all.) Debian's `chromium` package (`scripts/install-prerequisites.sh` installs it);
/// `I2X_CHROMIUM` names another binary.
enum HeadlessChromium {
  static var binary: String? {
    if let override = ProcessInfo.processInfo.environment["I2X_CHROMIUM"], !override.isEmpty { return override }
    return ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first {
      FileManager.default.isExecutableFile(atPath: $0)
    }
  }

  /// Runs Chromium headless on `file`; returns status and stdout.
  static func run(_ binary: String, _ arguments: [String], file: URL, home: URL) throws -> (Int32, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments =
      [
        "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars", "--no-first-run",
        "--user-data-dir=\(home.path)/profile",
      ] + arguments + [file.absoluteString]
    var environment = ProcessInfo.processInfo.environment
    environment["HOME"] = home.path
    process.environment = environment
    let output = home.appendingPathComponent("chromium-\(UUID().uuidString).out")
    _ = FileManager.default.createFile(atPath: output.path, contents: nil)
    let handle = try FileHandle(forWritingTo: output)
    process.standardOutput = handle
    process.standardError = FileHandle.nullDevice
    try process.run()
    let deadline = Date().addingTimeInterval(120)
    while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
    if process.isRunning { process.terminate() }
    process.waitUntilExit()
    try handle.close()
    return (process.terminationStatus, (try? String(contentsOf: output, encoding: .utf8)) ?? "")
  }
}

/// A decoded 8-bit PNG (grey, RGB, grey+alpha or RGBA; any scanline filters), as Chromium writes.
struct DecodedPNG {
  var width = 0, height = 0, channels = 0
  var pixels: [UInt8] = []

  init(_ bytes: [UInt8]) throws {
    guard bytes.count > 8, Array(bytes.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else {
      throw E2EError("not a PNG")
    }
    func be32(_ at: Int) -> Int {
      Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
    }
    var offset = 8
    var idat: [UInt8] = []
    while offset + 12 <= bytes.count {
      let length = be32(offset)
      let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
      guard offset + 12 + length <= bytes.count else { throw E2EError("PNG chunk \(type) runs past the end") }
      let data = Array(bytes[(offset + 8)..<(offset + 8 + length)])
      if type == "IHDR" {
        width = be32(offset + 8)
        height = be32(offset + 12)
        guard data[8] == 8, data[12] == 0 else { throw E2EError("PNG depth \(data[8]) or interlace not supported") }
        channels = [0: 1, 2: 3, 4: 2, 6: 4][Int(data[9])] ?? 0
        guard channels > 0 else { throw E2EError("PNG colour type \(data[9]) not supported") }
      } else if type == "IDAT" {
        idat += data
      }
      offset += 12 + length
    }
    let stride = width * channels
    var raw = [UInt8](repeating: 0, count: height * (stride + 1))
    var size = uLongf(raw.count)
    guard uncompress(&raw, &size, idat, uLong(idat.count)) == Z_OK, Int(size) == raw.count else {
      throw E2EError("PNG data does not inflate to \(height) rows of \(stride) bytes")
    }
    pixels = [UInt8](repeating: 0, count: height * stride)
    for y in 0..<height {
      let filter = raw[y * (stride + 1)]
      for x in 0..<stride {
        let value = Int(raw[y * (stride + 1) + 1 + x])
        let a = x >= channels ? Int(pixels[y * stride + x - channels]) : 0
        let b = y > 0 ? Int(pixels[(y - 1) * stride + x]) : 0
        let c = (x >= channels && y > 0) ? Int(pixels[(y - 1) * stride + x - channels]) : 0
        let predictor: Int
        switch filter {
        case 0: predictor = 0
        case 1: predictor = a
        case 2: predictor = b
        case 3: predictor = (a + b) / 2
        case 4:
          let p = a + b - c
          let (pa, pb, pc) = (abs(p - a), abs(p - b), abs(p - c))
          predictor = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
        default: throw E2EError("PNG filter \(filter)")
        }
        pixels[y * stride + x] = UInt8((value + predictor) & 0xFF)
      }
    }
  }

  /// The share of pixels that are not (near) white, and the number of distinct colours.
  var inkAndColours: (ink: Double, colours: Int) {
    var ink = 0
    var colours = Set<UInt32>()
    for i in 0..<(width * height) {
      let p = i * channels
      let (r, g, b) =
        channels >= 3
        ? (pixels[p], pixels[p + 1], pixels[p + 2]) : (pixels[p], pixels[p], pixels[p])
      if Int(r) + Int(g) + Int(b) < 3 * 245 { ink += 1 }
      colours.insert(UInt32(r) << 16 | UInt32(g) << 8 | UInt32(b))
    }
    return (Double(ink) / Double(max(width * height, 1)), colours.count)
  }
}

import Foundation
import Imaging

/// Renders prototype galleries and GradCAM overlays from probe images (U8, C×H×W each).
public struct Gallery {
  /// Probe image bytes, n×C×H×W.
  public var images: [UInt8]
  /// Channels, height, width of one image.
  public var channels: Int, height: Int, width: Int
  /// Pixels per image pixel in the output.
  public var scale = 3

  /// The smallest whole scale that shows an image at least 112 pixels on its shorter side.
  public static func scale(forHeight height: Int, width: Int) -> Int {
    max(1, (112 + min(height, width) - 1) / max(1, min(height, width)))
  }

  /// Creates a renderer.
  public init(images: [UInt8], channels: Int, height: Int, width: Int) {
    self.images = images
    self.channels = channels
    self.height = height
    self.width = width
  }

  func rgb(_ index: Int, _ x: Int, _ y: Int) -> (Double, Double, Double) {
    let base = index * channels * height * width
    if channels >= 3 {
      let plane = height * width
      let offset = base + y * width + x
      return (Double(images[offset]), Double(images[offset + plane]), Double(images[offset + 2 * plane]))
    }
    let v = Double(images[base + y * width + x])
    return (v, v, v)
  }

  /// A strip of probe images with the given cells (of an h×w map) tinted red; with a
  /// `footprint` (h·w fractions), the first tile is that footprint as a heat map (blue 0 → red 1).
  public func prototypeStrip(
    examples: [(probe: Int, cells: [Int])], mapHeight: Int, mapWidth: Int, footprint: [Double]? = nil
  ) -> PNGImage {
    let tile = width * scale
    let heat = footprint.flatMap { $0.count == mapHeight * mapWidth ? $0 : nil }
    let offset = heat == nil ? 0 : 1
    var image = PNGImage(width: max(1, examples.count + offset) * (tile + 2), height: height * scale)
    if let heat {
      for y in 0..<(height * scale) {
        for x in 0..<tile {
          let cell = (y * mapHeight / (height * scale)) * mapWidth + (x * mapWidth / tile)
          let colour = Self.heatColour(heat[cell])
          image.set(x, y, (UInt8(colour.0), UInt8(colour.1), UInt8(colour.2)))
        }
      }
    }
    for (index, example) in examples.enumerated() {
      let slot = index + offset
      let highlighted = Set(example.cells)
      for y in 0..<(height * scale) {
        for x in 0..<tile {
          let (px, py) = (x / scale, y / scale)
          let cell = (py * mapHeight / height) * mapWidth + (px * mapWidth / width)
          var (r, g, b) = rgb(example.probe, px, py)
          if highlighted.contains(cell) {
            r = 0.55 * r + 0.45 * 255
            g *= 0.55
            b *= 0.55
          }
          image.set(slot * (tile + 2) + x, y, (UInt8(r), UInt8(g), UInt8(b)))
        }
      }
    }
    return image
  }

  /// Probe images side by side with their GradCAM map (bilinearly upsampled, jet-like colours)
  /// blended over them.
  public func overlays(probes: [Int], maps: [Float], mapHeight: Int, mapWidth: Int) -> PNGImage {
    let tile = width * scale
    var image = PNGImage(width: max(1, probes.count) * (tile + 2), height: height * scale)
    for (slot, probe) in probes.enumerated() {
      for y in 0..<(height * scale) {
        for x in 0..<tile {
          let (px, py) = (x / scale, y / scale)
          let heat = Self.bilinear(
            maps, probe, mapHeight, mapWidth, (Double(px) + 0.5) * Double(mapWidth) / Double(width) - 0.5,
            (Double(py) + 0.5) * Double(mapHeight) / Double(height) - 0.5)
          let (r, g, b) = rgb(probe, px, py)
          let colour = Self.heatColour(heat)
          image.set(
            slot * (tile + 2) + x, y,
            (UInt8(0.5 * r + 0.5 * colour.0), UInt8(0.5 * g + 0.5 * colour.1), UInt8(0.5 * b + 0.5 * colour.2)))
        }
      }
    }
    return image
  }

  static func bilinear(_ maps: [Float], _ index: Int, _ h: Int, _ w: Int, _ x: Double, _ y: Double) -> Double {
    let cx = min(max(0, x), Double(w - 1))
    let cy = min(max(0, y), Double(h - 1))
    let (x0, y0) = (Int(cx), Int(cy))
    let (x1, y1) = (min(x0 + 1, w - 1), min(y0 + 1, h - 1))
    let (tx, ty) = (cx - Double(x0), cy - Double(y0))
    func v(_ xx: Int, _ yy: Int) -> Double { Double(maps[index * h * w + yy * w + xx]) }
    return (1 - ty) * ((1 - tx) * v(x0, y0) + tx * v(x1, y0)) + ty * ((1 - tx) * v(x0, y1) + tx * v(x1, y1))
  }

  /// Blue (0) → green → yellow → red (1).
  static func heatColour(_ value: Double) -> (Double, Double, Double) {
    let v = min(1, max(0, value))
    return (
      255 * min(1, max(0, 2 * v - 0.5)), 255 * min(1, max(0, 2 - abs(4 * v - 2))), 255 * min(1, max(0, 1.5 - 2 * v))
    )
  }
}

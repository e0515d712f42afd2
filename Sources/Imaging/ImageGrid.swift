/// Tiles images into one picture: `columns` per row, each scaled by `scale` (nearest), with a
/// `gap`-pixel white border between tiles. Grey images (C = 1) are drawn grey, C = 3 as RGB.
public struct ImageGrid {
  /// Pixel values in [0,1], (N,C,H,W) contiguous.
  public var values: [Float]
  /// Image shape.
  public var count: Int, channels: Int, height: Int, width: Int
  /// Tiles per row.
  public var columns: Int
  /// Integer upscaling (28×28 at 4 gives 112×112 tiles).
  public var scale: Int
  /// Border between tiles.
  public var gap = 2

  /// Creates a grid of `count` images of `channels`×`height`×`width`.
  public init(values: [Float], count: Int, channels: Int, height: Int, width: Int, columns: Int = 10, scale: Int = 2) {
    precondition(
      values.count == count * channels * height * width,
      "ImageGrid: \(values.count) values for \(count)×\(channels)×\(height)×\(width)")
    precondition(channels == 1 || channels == 3, "ImageGrid: 1 or 3 channels, got \(channels)")
    self.values = values
    self.count = count
    self.channels = channels
    self.height = height
    self.width = width
    self.columns = max(1, min(columns, max(count, 1)))
    self.scale = max(1, scale)
  }

  /// The grid as an RGB image.
  public func image() -> PNGImage {
    let rows = max(1, (count + columns - 1) / columns)
    let tileWidth = width * scale
    let tileHeight = height * scale
    var picture = PNGImage(width: columns * (tileWidth + gap) + gap, height: rows * (tileHeight + gap) + gap)
    for y in 0..<picture.height { for x in 0..<picture.width { picture.set(x, y, (255, 255, 255)) } }
    let plane = height * width
    func byte(_ v: Float) -> UInt8 { UInt8(max(0, min(255, (v * 255).rounded()))) }
    for index in 0..<count {
      let left = gap + (index % columns) * (tileWidth + gap)
      let top = gap + (index / columns) * (tileHeight + gap)
      let base = index * channels * plane
      for y in 0..<tileHeight {
        for x in 0..<tileWidth {
          let source = (y / scale) * width + x / scale
          let r = byte(values[base + source])
          let rgb =
            channels == 1
            ? (r, r, r) : (r, byte(values[base + plane + source]), byte(values[base + 2 * plane + source]))
          picture.set(left + x, top + y, rgb)
        }
      }
    }
    return picture
  }
}

import Charts
import Imaging
import Prototypes

/// The report's raster images: GradCAM overlays in viridis and prototype strips, at 3× scale.
enum ReportImages {
  static let scale = 3

  /// Probe images with their normalised GradCAM map (bilinear, half-pixel centres) blended in
  /// viridis: 45% image, 55% colour.
  static func overlays(_ probe: ReportInputs.ProbeData, probes: [Int]) -> PNGImage {
    let gallery = Gallery(images: probe.images, channels: probe.channels, height: probe.height, width: probe.width)
    let tile = probe.width * scale
    var image = PNGImage(width: max(1, probes.count) * (tile + 2), height: probe.height * scale)
    for (slot, index) in probes.enumerated() {
      for y in 0..<(probe.height * scale) {
        for x in 0..<tile {
          let (px, py) = (x / scale, y / scale)
          let heat = Gallery.bilinear(
            probe.maps, index, probe.mapHeight, probe.mapWidth,
            (Double(px) + 0.5) * Double(probe.mapWidth) / Double(probe.width) - 0.5,
            (Double(py) + 0.5) * Double(probe.mapHeight) / Double(probe.height) - 0.5)
          let (r, g, b) = gallery.rgb(index, px, py)
          let colour = Viridis.colour(heat)
          image.set(
            slot * (tile + 2) + x, y,
            (
              UInt8(0.45 * r + 0.55 * Double(colour.red)), UInt8(0.45 * g + 0.55 * Double(colour.green)),
              UInt8(0.45 * b + 0.55 * Double(colour.blue))
            ))
        }
      }
    }
    return image
  }

  /// Probe images with a prototype's cells tinted red (`Gallery.prototypeStrip`).
  static func strip(_ probe: ReportInputs.ProbeData, examples: [AnalysisReport.Example]) -> PNGImage {
    var gallery = Gallery(images: probe.images, channels: probe.channels, height: probe.height, width: probe.width)
    gallery.scale = scale
    return gallery.prototypeStrip(
      examples: examples.filter { $0.probe < probe.labels.count }.map { ($0.probe, $0.cells) },
      mapHeight: probe.mapHeight, mapWidth: probe.mapWidth)
  }
}

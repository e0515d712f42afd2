import Engine
import Foundation

/// A deterministic, learnable image set for tests: class c is a bright Gaussian blob at a
/// class-specific point on a circle around the centre (jittered ±2 px), on seeded noise.
public enum SyntheticImages {
  /// Makes `count` images with balanced labels (`i % classes`, then shuffled).
  public static func make(
    count: Int, classes: Int = 10, channels: Int = 1, height: Int = 28, width: Int = 28, seed: UInt64
  ) -> LabeledImages {
    precondition(count >= 0 && classes > 0 && channels > 0 && height >= 8 && width >= 8, "synthetic: bad sizes")
    var generator = SplitMix64(seed: seed)
    let labels = (0..<count).map { $0 % classes }.shuffled(using: &generator)
    let size = channels * height * width
    var pixels = [UInt8](repeating: 0, count: count * size)
    let radius = Double(min(height, width)) * 0.3
    for (index, label) in labels.enumerated() {
      let angle = 2 * Double.pi * Double(label) / Double(classes)
      let cy = Double(height) / 2 + radius * sin(angle) + Double(Int(generator.next() % 5) - 2)
      let cx = Double(width) / 2 + radius * cos(angle) + Double(Int(generator.next() % 5) - 2)
      for c in 0..<channels {
        // Colour images get a class-specific channel mix so channels carry signal too.
        let gain = channels == 1 ? 1.0 : 0.5 + 0.5 * Double((label + c) % 2)
        for y in 0..<height {
          for x in 0..<width {
            let d2 = (Double(y) - cy) * (Double(y) - cy) + (Double(x) - cx) * (Double(x) - cx)
            let blob = 215 * gain * exp(-d2 / 8)
            let noise = Double(generator.next() % 40)
            pixels[index * size + (c * height + y) * width + x] = UInt8(min(255, blob + noise))
          }
        }
      }
    }
    return LabeledImages(
      channels: channels, height: height, width: width, pixels: pixels, labels: labels,
      classNames: (0..<classes).map { "class-\($0)" })
  }
}

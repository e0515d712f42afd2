import Foundation

/// A deterministic, learnable image set for tests and quick runs.
///
/// Class c of K is a bright Gaussian blob (σ = 2 px, peak 215) centred on the point at angle
/// 2πc/K of a circle of radius 0.3·min(H, W) around the image centre, jittered by ±2 px, on
/// uniform noise 0…39. For C > 1 channels the blob's gain alternates with `(c + channel) % 2`
/// (1 or ½), so colour carries signal too. A small CNN separates the classes in a few steps.
public enum SyntheticImages {
  /// Makes `count` images with balanced labels: `i % classes`, then shuffled.
  /// - Parameters:
  ///   - classes: number of classes K, named `class-0`, `class-1`, ….
  ///   - channels, height, width: image shape; height and width at least 8.
  ///   - seed: equal seeds give equal pixels and labels.
  public static func make(
    count: Int, classes: Int = 10, channels: Int = 1, height: Int = 28, width: Int = 28,
    seed: UInt64
  ) -> LabeledImages {
    precondition(
      count >= 0 && classes > 0 && channels > 0 && height >= 8 && width >= 8,
      "SyntheticImages: need count ≥ 0, classes > 0, channels > 0, height and width ≥ 8; got "
        + "\(count), \(classes), \(channels)×\(height)×\(width)")
    var generator = SeededGenerator(seed: seed)
    let labels = (0..<count).map { $0 % classes }.shuffled(using: &generator)
    let size = channels * height * width
    var pixels = [UInt8](repeating: 0, count: count * size)
    let radius = Double(min(height, width)) * 0.3
    for (index, label) in labels.enumerated() {
      let angle = 2 * Double.pi * Double(label) / Double(classes)
      let cy = Double(height) / 2 + radius * sin(angle) + Double(Int(generator.next() % 5) - 2)
      let cx = Double(width) / 2 + radius * cos(angle) + Double(Int(generator.next() % 5) - 2)
      for c in 0..<channels {
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

/// An sRGB colour, 8 bits per channel.
public struct Colour: Equatable, Sendable {
  /// The channels, 0…255.
  public var red: UInt8, green: UInt8, blue: UInt8

  /// Creates a colour from its channels.
  public init(_ red: UInt8, _ green: UInt8, _ blue: UInt8) {
    (self.red, self.green, self.blue) = (red, green, blue)
  }

  /// Creates a colour from a 24-bit value (0xRRGGBB).
  public init(hex: UInt32) {
    self.init(UInt8((hex >> 16) & 0xFF), UInt8((hex >> 8) & 0xFF), UInt8(hex & 0xFF))
  }

  /// "#rrggbb".
  public var css: String {
    let digits = Array("0123456789abcdef")
    return "#" + String([red >> 4, red & 15, green >> 4, green & 15, blue >> 4, blue & 15].map { digits[Int($0)] })
  }

  /// Relative luminance (ITU-R BT.709 weights on the 8-bit values, 0…1): how light the colour
  /// looks in greyscale.
  public var luminance: Double {
    (0.2126 * Double(red) + 0.7152 * Double(green) + 0.0722 * Double(blue)) / 255
  }
}

/// Viridis (van der Walt and Smith, matplotlib's default map): perceptually uniform, readable by
/// people with the common colour-vision deficiencies, and monotonic in lightness so it survives
/// greyscale printing. Eleven anchors from matplotlib, linearly interpolated.
public enum Viridis {
  static let anchors: [UInt32] = [
    0x440154, 0x482475, 0x414487, 0x355F8D, 0x2A788E, 0x21918C, 0x22A884, 0x44BF70, 0x7AD151, 0xBDDF26, 0xFDE725,
  ]

  /// The colour at `t` (clamped to 0…1; NaN gives the low end).
  public static func colour(_ t: Double) -> Colour {
    let x = t.isNaN ? 0 : min(1, max(0, t)) * Double(anchors.count - 1)
    let index = min(Int(x), anchors.count - 2)
    let f = x - Double(index)
    let (a, b) = (Colour(hex: anchors[index]), Colour(hex: anchors[index + 1]))
    func mix(_ p: UInt8, _ q: UInt8) -> UInt8 { UInt8((Double(p) * (1 - f) + Double(q) * f).rounded()) }
    return Colour(mix(a.red, b.red), mix(a.green, b.green), mix(a.blue, b.blue))
  }
}

/// Line styles for categorical series: the Okabe–Ito colours (distinguishable with every common
/// colour-vision deficiency) crossed with dash patterns, so series stay apart in greyscale too.
public enum SeriesStyle {
  /// Okabe and Ito's eight colours, black last.
  public static let colours: [Colour] = [
    Colour(hex: 0xE69F00), Colour(hex: 0x56B4E9), Colour(hex: 0x009E73), Colour(hex: 0xD55E00),
    Colour(hex: 0x0072B2), Colour(hex: 0xCC79A7), Colour(hex: 0xF0E442), Colour(hex: 0x000000),
  ]
  /// SVG dash arrays (empty: solid).
  public static let dashes = ["", "6 3", "2 2", "8 3 2 3"]

  /// The colour and dash pattern of series `index`.
  public static func style(_ index: Int) -> (colour: Colour, dash: String) {
    (colours[index % colours.count], dashes[(index / colours.count) % dashes.count])
  }
}

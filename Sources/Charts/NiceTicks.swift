import Foundation

/// Tick positions at "nice" numbers (1, 2, 2.5 or 5 times a power of ten; Heckbert,
/// "Nice numbers for graph labels", Graphics Gems 1990), never more than `maximumCount`.
public struct NiceTicks: Equatable, Sendable {
  /// Tick values, ascending, all within [lower, upper].
  public var values: [Double]
  /// The spacing between ticks.
  public var spacing: Double
  /// The axis range the ticks cover: the data range widened to whole spacings.
  public var lower: Double, upper: Double

  /// The most tick labels an axis may carry (readable at 200 checkpoints).
  public static let limit = 12

  /// Ticks for data in `minimum...maximum`, at most `maximumCount` (clamped to 3...`limit`: a
  /// range that straddles 0 needs three ticks, −s, 0 and s, however large s is).
  /// A degenerate range (min == max) is widened by one unit on each side (or 10% of |value|).
  public init(minimum: Double, maximum: Double, maximumCount: Int = 6) {
    precondition(minimum.isFinite && maximum.isFinite, "NiceTicks: range \(minimum)…\(maximum) is not finite")
    precondition(minimum <= maximum, "NiceTicks: minimum \(minimum) > maximum \(maximum)")
    let count = min(max(maximumCount, 3), Self.limit)
    var (low, high) = (minimum, maximum)
    // A range below float resolution of its values is treated as one value.
    if high - low <= max(abs(low), abs(high)) * 1e-9 {
      let pad = low == 0 && high == 0 ? 1 : max(abs(low), abs(high)) * 0.1
      (low, high) = (low - pad, high + pad)
    }
    // The smallest nice spacing that needs at most `count` ticks.
    var spacing = Self.nice((high - low) / Double(count - 1))
    while (floor(high / spacing) - ceil(low / spacing)) + 1 > Double(count)
      || (ceil(high / spacing) - floor(low / spacing)) + 1 > Double(count)
    {
      spacing = Self.nice(spacing * 1.01)
    }
    let first = floor(low / spacing) * spacing
    let last = ceil(high / spacing) * spacing
    let n = Int(((last - first) / spacing).rounded())
    values = (0...n).map { Self.clean(first + Double($0) * spacing, spacing) }
    (lower, upper) = (first, last)
    self.spacing = spacing
  }

  /// The smallest of 1, 2, 2.5, 5, 10 × 10^k that is ≥ `value`.
  static func nice(_ value: Double) -> Double {
    let exponent = floor(log10(value))
    let power = pow(10, exponent)
    let fraction = value / power
    let niceFraction: Double =
      if fraction <= 1 + 1e-9 { 1 } else if fraction <= 2 + 1e-9 { 2 } else if fraction <= 2.5 + 1e-9 {
        2.5
      } else if fraction <= 5 + 1e-9 { 5 } else { 10 }
    return niceFraction * power
  }

  /// Removes float noise (0.30000000000000004 → 0.3) by rounding to the spacing's precision.
  static func clean(_ value: Double, _ spacing: Double) -> Double {
    let digits = max(0, Int(-floor(log10(spacing))) + 2)
    let scale = pow(10, Double(digits))
    let cleaned = (value * scale).rounded() / scale
    return cleaned == 0 ? 0 : cleaned
  }

  /// A label for `value` with as many decimals as the spacing needs ("0.25", "1,000" as "1000").
  public func label(_ value: Double) -> String {
    let decimals = max(0, Int(ceil(-log10(spacing) - 1e-9)) + (isQuarter ? 1 : 0))
    if decimals == 0 { return String(Int(value.rounded())) }
    return String(format: "%.\(decimals)f", value)
  }

  private var isQuarter: Bool {
    let power = pow(10, floor(log10(spacing)))
    return abs(spacing / power - 2.5) < 1e-9
  }

  /// At most `maximumCount` (≤ `limit`) indices into `0..<count` at a nice spacing, starting at 0:
  /// the columns of a heat map (or categories) that get a label.
  public static func indices(count: Int, maximumCount: Int = limit) -> [Int] {
    guard count > 0 else { return [] }
    let most = min(max(maximumCount, 1), limit)
    if count <= most { return Array(0..<count) }
    var spacing = 1
    for candidate in [1, 2, 5] + (1...7).flatMap({ k in [1, 2, 5].map { $0 * Int(pow(10, Double(k))) } }) {
      spacing = candidate
      if (count - 1) / candidate + 1 <= most { break }
    }
    return Array(stride(from: 0, to: count, by: spacing))
  }
}

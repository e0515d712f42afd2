import Foundation

/// A proportion k/n with its 95% Wilson score interval (Wilson 1927):
/// centre (p̂ + z²/2n)/(1 + z²/n), half-width z·√(p̂(1−p̂)/n + z²/4n²)/(1 + z²/n), z = 1.959964.
/// Unlike p̂ ± z·SE it stays inside [0, 1] and is not empty at k = 0 or k = n.
public struct BinomialInterval: Codable, Sendable, Equatable {
  /// Successes k and trials n.
  public var successes: Int
  public var trials: Int
  /// k/n (0 when n = 0).
  public var rate: Double
  /// The interval's ends ([0, 1] when n = 0).
  public var lower: Double
  public var upper: Double

  /// The interval of `successes` out of `trials`.
  public init(successes: Int, trials: Int) {
    precondition(successes >= 0 && successes <= trials, "BinomialInterval: \(successes) of \(trials)")
    self.successes = successes
    self.trials = trials
    guard trials > 0 else {
      (rate, lower, upper) = (0, 0, 1)
      return
    }
    let z = 1.959964
    let n = Double(trials)
    let p = Double(successes) / n
    let denominator = 1 + z * z / n
    let centre = (p + z * z / (2 * n)) / denominator
    let half = z * (p * (1 - p) / n + z * z / (4 * n * n)).squareRoot() / denominator
    rate = p
    lower = max(0, centre - half)
    upper = min(1, centre + half)
  }

  /// Whether this interval lies wholly above `other` (they do not overlap).
  public func isAbove(_ other: BinomialInterval) -> Bool { lower > other.upper }
}

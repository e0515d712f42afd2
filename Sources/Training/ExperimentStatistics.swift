import Engine

/// The statistics of the honest-evaluation experiment (DESIGN §7): mean ± sample standard
/// deviation over seeds, and paired differences with a percentile bootstrap interval.
///
/// Everything is specified exactly so an independent implementation can reproduce it bit for
/// bit (`scripts/crosscheck-bootstrap.py` does):
/// - the standard deviation divides by n − 1 (numpy `ddof=1`); it is 0 for n < 2;
/// - a bootstrap resample draws n indices with `SplitMix64(seed)`, index = ⌊u·n / 2⁶⁴⌋ for
///   each 64-bit draw u (the high word of the full-width product), and takes their mean;
/// - the percentile interval interpolates linearly between order statistics at position
///   q·(B − 1) (numpy's default `percentile`), q = (1 − confidence)/2 and 1 − (1 − confidence)/2.
public enum ExperimentStatistics {
  /// Mean and spread of one outcome over seeds.
  public struct Summary: Codable, Sendable, Equatable {
    /// Arithmetic mean.
    public var mean: Double
    /// Sample standard deviation (n − 1), 0 for fewer than two values.
    public var std: Double
    /// The values, by seed.
    public var values: [Double]
  }

  /// A paired comparison: per seed `arm − control`, its mean and bootstrap interval.
  public struct PairedDifference: Codable, Sendable, Equatable {
    /// Mean of the differences.
    public var meanDifference: Double
    /// Lower end of the percentile bootstrap interval of the mean.
    public var ciLower: Double
    /// Upper end.
    public var ciUpper: Double
    /// The differences, by seed.
    public var differences: [Double]

    enum CodingKeys: String, CodingKey {
      case meanDifference = "mean_difference"
      case ciLower = "ci_lower"
      case ciUpper = "ci_upper"
      case differences
    }
  }

  /// Resamples per bootstrap interval.
  public static let resamples = 10_000
  /// Confidence of the intervals.
  public static let confidence = 0.95
  /// Seed of every bootstrap (the same for each arm, so arms are resampled alike).
  public static let bootstrapSeed: UInt64 = 20_250_701

  /// Mean of `values` (0 for none).
  public static func mean(_ values: [Double]) -> Double {
    values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
  }

  /// Sample standard deviation (divides by n − 1); 0 for fewer than two values.
  public static func standardDeviation(_ values: [Double]) -> Double {
    guard values.count > 1 else { return 0 }
    let m = mean(values)
    return (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count - 1)).squareRoot()
  }

  /// Mean, standard deviation and the values themselves.
  public static func summary(_ values: [Double]) -> Summary {
    Summary(mean: mean(values), std: standardDeviation(values), values: values)
  }

  /// The per-seed differences `arm[i] − control[i]` with their mean and bootstrap interval.
  public static func paired(_ arm: [Double], minus control: [Double], seed: UInt64 = bootstrapSeed)
    -> PairedDifference
  {
    precondition(arm.count == control.count, "paired: \(arm.count) arm values, \(control.count) control values")
    let differences = zip(arm, control).map { $0 - $1 }
    let (lower, upper) = bootstrapInterval(differences, seed: seed)
    return PairedDifference(meanDifference: mean(differences), ciLower: lower, ciUpper: upper, differences: differences)
  }

  /// Percentile bootstrap interval of the mean of `values` (see the type's documentation for
  /// the exact resampling and percentile rules). Empty input gives (0, 0).
  public static func bootstrapInterval(
    _ values: [Double], resamples: Int = resamples, confidence: Double = confidence, seed: UInt64 = bootstrapSeed
  ) -> (lower: Double, upper: Double) {
    precondition(resamples > 0 && confidence > 0 && confidence < 1, "bootstrap: \(resamples) resamples, \(confidence)")
    guard !values.isEmpty else { return (0, 0) }
    let n = values.count
    var generator = SplitMix64(seed: seed)
    var means = [Double](repeating: 0, count: resamples)
    for b in 0..<resamples {
      var sum = 0.0
      for _ in 0..<n { sum += values[Int(generator.next().multipliedFullWidth(by: UInt64(n)).high)] }
      means[b] = sum / Double(n)
    }
    means.sort()
    let tail = (1 - confidence) / 2
    return (percentile(sorted: means, tail), percentile(sorted: means, 1 - tail))
  }

  /// The q-quantile of sorted values, linear between order statistics at q·(n − 1).
  static func percentile(sorted: [Double], _ q: Double) -> Double {
    precondition(!sorted.isEmpty && (0...1).contains(q), "percentile: \(sorted.count) values, q = \(q)")
    let position = q * Double(sorted.count - 1)
    let low = Int(position.rounded(.down))
    let high = min(low + 1, sorted.count - 1)
    let fraction = position - Double(low)
    return sorted[low] + fraction * (sorted[high] - sorted[low])
  }
}

import Engine
import Foundation

/// The measurement behind DESIGN §8's "for an uncertain prototype: does the edit concentrate on
/// the prototype's cells?": over many (probe image, uncertain prototype) cases, the IoU of each
/// counterfactual's edit with the prototype's cells (`EditLocality`) against the IoU with the
/// cells of a random *other* prototype present in the same image (the control), paired per case.
///
/// Each case also carries the IoU a random edit of the same size would have with the region on
/// average (`chance`): for a region of A of the N pixels, E[IoU] ≈ (A/N)/(2 − A/N), so a larger
/// region scores higher by chance alone, and own and control regions differ in size.
public enum LocalityStudy {
  /// One case's numbers.
  public struct Measurement: Codable, Equatable, Sendable {
    /// IoU of the edit with the prototype's cells and with the control prototype's.
    public var own: Double, control: Double
    /// The IoU a random edit of the same size would have with each region, on average.
    public var ownChance: Double, controlChance: Double

    /// Creates a measurement.
    public init(own: Double, control: Double, ownChance: Double, controlChance: Double) {
      self.own = own
      self.control = control
      self.ownChance = ownChance
      self.controlChance = controlChance
    }
  }

  /// What the cases say together.
  public struct Summary: Codable, Equatable, Sendable {
    /// Cases measured.
    public var cases: Int
    /// Mean IoU with the prototype's cells and with the control's; their chance levels.
    public var meanOwn: Double, meanControl: Double, meanOwnChance: Double, meanControlChance: Double
    /// Mean of own − control, with its 95% paired-bootstrap interval (cases resampled).
    public var meanDifference: Double, differenceLow: Double, differenceHigh: Double
    /// Cases with own > control, with its Wilson interval over all cases; ties (own = control)
    /// count as not greater.
    public var ownGreater: Proportion
    /// Cases with own = control.
    public var ties: Int
    /// Two-sided exact sign test of own against control (ties dropped).
    public var signTestP: Double
    /// The same against chance: mean of (own − its chance) − (control − its chance), its 95%
    /// paired-bootstrap interval, and the cases where the own excess is larger (Wilson), so a
    /// control region larger than the prototype's wins nothing by size alone.
    public var excessDifference: Double, excessLow: Double, excessHigh: Double
    public var ownExcessGreater: Proportion

    enum CodingKeys: String, CodingKey {
      case cases, ties
      case meanOwn = "mean_iou_own"
      case meanControl = "mean_iou_control"
      case meanOwnChance = "mean_chance_own"
      case meanControlChance = "mean_chance_control"
      case meanDifference = "mean_difference"
      case differenceLow = "difference_low"
      case differenceHigh = "difference_high"
      case ownGreater = "own_greater"
      case signTestP = "sign_test_p"
      case excessDifference = "mean_excess_difference"
      case excessLow = "excess_difference_low"
      case excessHigh = "excess_difference_high"
      case ownExcessGreater = "own_excess_greater"
    }
  }

  /// The control of one case: a prototype other than `prototype`, chosen uniformly among those
  /// assigned to at least one cell of the image outside `ownCells`, and its cells there.
  /// - Parameter assigned: the image's prototype id per target-layer cell (h·w).
  /// - Returns: nil when no other prototype is present.
  public static func control(
    assigned: [Int], prototype: Int, ownCells: Set<Int>, using generator: inout SplitMix64
  ) -> (prototype: Int, cells: [Int])? {
    let others = Set(
      assigned.indices.filter { !ownCells.contains($0) && assigned[$0] != prototype }.map { assigned[$0] }
    )
    .sorted()
    guard !others.isEmpty else { return nil }
    let chosen = others[Int(generator.next() % UInt64(others.count))]
    return (chosen, assigned.indices.filter { assigned[$0] == chosen && !ownCells.contains($0) })
  }

  /// One case: the edit `delta` (|x − x′| per pixel, H×W) against the prototype's cells and the
  /// control's, on an h×w target-layer map.
  public static func measure(
    delta: [Float], ownCells: [Int], controlCells: [Int], mapHeight h: Int, mapWidth w: Int, height: Int, width: Int
  ) -> Measurement {
    let own = EditLocality.region(cells: ownCells, mapHeight: h, mapWidth: w, height: height, width: width)
    let other = EditLocality.region(cells: controlCells, mapHeight: h, mapWidth: w, height: height, width: width)
    func chance(_ region: Set<Int>) -> Double {
      let share = Double(region.count) / Double(max(1, height * width))
      return share / (2 - share)
    }
    return Measurement(
      own: EditLocality.iou(delta: delta, region: own), control: EditLocality.iou(delta: delta, region: other),
      ownChance: chance(own), controlChance: chance(other))
  }

  /// The cases together: means, the paired bootstrap of the mean difference (`resamples`
  /// resamples of the cases, seeded), the share with own > control and the sign test.
  public static func summarize(_ measurements: [Measurement], resamples: Int = 2000, seed: UInt64 = 1) -> Summary {
    let n = measurements.count
    func mean(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }
    let differences = measurements.map { $0.own - $0.control }
    let excess = measurements.map { ($0.own - $0.ownChance) - ($0.control - $0.controlChance) }
    let (low, high) = bootstrap(differences, resamples: resamples, seed: seed)
    let (excessLow, excessHigh) = bootstrap(excess, resamples: resamples, seed: seed)
    let greater = differences.filter { $0 > 0 }.count
    let less = differences.filter { $0 < 0 }.count
    return Summary(
      cases: n, meanOwn: mean(measurements.map(\.own)), meanControl: mean(measurements.map(\.control)),
      meanOwnChance: mean(measurements.map(\.ownChance)), meanControlChance: mean(measurements.map(\.controlChance)),
      meanDifference: mean(differences), differenceLow: low, differenceHigh: high,
      ownGreater: Proportion(hits: greater, trials: n), ties: n - greater - less,
      signTestP: signTest(greater, greater + less), excessDifference: mean(excess), excessLow: excessLow,
      excessHigh: excessHigh, ownExcessGreater: Proportion(hits: excess.filter { $0 > 0 }.count, trials: n))
  }

  /// The 2.5% and 97.5% quantiles of the mean of `values` over `resamples` resamples with
  /// replacement (seeded); (0, 0) without values.
  static func bootstrap(_ values: [Double], resamples: Int, seed: UInt64) -> (Double, Double) {
    let n = values.count
    guard n > 0, resamples > 0 else { return (0, 0) }
    var generator = SplitMix64(seed: seed)
    var means: [Double] = []
    for _ in 0..<resamples {
      var sum = 0.0
      for _ in 0..<n { sum += values[Int(generator.next() % UInt64(n))] }
      means.append(sum / Double(n))
    }
    means.sort()
    func quantile(_ q: Double) -> Double { means[min(means.count - 1, Int((q * Double(means.count)).rounded(.down)))] }
    return (quantile(0.025), quantile(0.975))
  }

  /// Two-sided exact binomial test of k successes in n trials at p = ½:
  /// min(1, 2·P(X ≤ min(k, n − k))).
  static func signTest(_ k: Int, _ n: Int) -> Double {
    guard n > 0 else { return 1 }
    let tail = min(k, n - k)
    // P(X = i) = C(n, i) / 2^n, summed in log space so n in the thousands does not overflow.
    var total = 0.0
    for i in 0...tail {
      total += exp(lgamma(Double(n + 1)) - lgamma(Double(i + 1)) - lgamma(Double(n - i + 1)) - Double(n) * log(2.0))
    }
    return min(1, 2 * total)
  }
}

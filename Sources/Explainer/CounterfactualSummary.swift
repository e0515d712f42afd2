import Foundation

/// Rates and means over a set of counterfactuals and their PGD baselines, with Wilson
/// intervals for the rates.
public struct CounterfactualSummary: Codable, Equatable, Sendable {
  /// How many.
  public var count: Int
  /// Validity and oracle validity of the generative edits.
  public var validity: Proportion, oracleValidity: Proportion?
  /// The control: how often the oracle already calls the unedited image the target.
  public var oracleOnOriginals: Proportion?
  /// Mean per-pixel L1, mean L2 and mean latent distance of the generative edits.
  public var meanL1: Double, meanL2: Double, meanLatentDistance: Double
  /// The PGD baseline: validity, oracle validity, mean L∞ budget and mean L2.
  public var pgdValidity: Proportion, pgdOracleValidity: Proportion?
  public var pgdMeanLinf: Double, pgdMeanL2: Double

  enum CodingKeys: String, CodingKey {
    case count, validity
    case oracleValidity = "oracle_validity"
    case oracleOnOriginals = "oracle_on_originals"
    case meanL1 = "mean_l1"
    case meanL2 = "mean_l2"
    case meanLatentDistance = "mean_latent_distance"
    case pgdValidity = "pgd_validity"
    case pgdOracleValidity = "pgd_oracle_validity"
    case pgdMeanLinf = "pgd_mean_linf"
    case pgdMeanL2 = "pgd_mean_l2"
  }

  /// Summarises outcomes.
  public init(_ outcomes: [Counterfactual.Outcome]) {
    let n = outcomes.count
    func mean(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }
    count = n
    validity = Proportion(hits: outcomes.filter(\.valid).count, trials: n)
    let judged = outcomes.compactMap(\.oracleValid)
    oracleValidity = judged.count == n && n > 0 ? Proportion(hits: judged.filter { $0 }.count, trials: n) : nil
    let originals = outcomes.compactMap(\.oracleOriginal)
    oracleOnOriginals =
      originals.count == n && n > 0 ? Proportion(hits: originals.filter { $0 }.count, trials: n) : nil
    meanL1 = mean(outcomes.map(\.l1))
    meanL2 = mean(outcomes.map(\.l2))
    meanLatentDistance = mean(outcomes.map(\.latentDistance))
    pgdValidity = Proportion(hits: outcomes.filter(\.pgdValid).count, trials: n)
    let pgdJudged = outcomes.compactMap(\.pgdOracleValid)
    pgdOracleValidity = pgdJudged.count == n && n > 0 ? Proportion(hits: pgdJudged.filter { $0 }.count, trials: n) : nil
    pgdMeanLinf = mean(outcomes.map(\.pgdLinf))
    pgdMeanL2 = mean(outcomes.map(\.pgdL2))
  }

  /// A short rendering.
  public func text(from: Int, to: Int, names: [String]) -> String {
    func name(_ c: Int) -> String { names.indices.contains(c) ? "\(c) (\(names[c]))" : "\(c)" }
    func rate(_ p: Proportion?) -> String {
      p.map { String(format: "%.0f%% [%.0f, %.0f]", $0.rate * 100, $0.low * 100, $0.high * 100) } ?? "-"
    }
    return [
      "counterfactuals \(name(from)) → \(name(to)), \(count) probe images:",
      "  generative: valid \(rate(validity)), oracle agrees \(rate(oracleValidity)), "
        + String(format: "mean |Δx| %.3f per pixel, ‖Δx‖₂ %.2f, ‖Δz‖₂ %.2f", meanL1, meanL2, meanLatentDistance),
      "  PGD:        valid \(rate(pgdValidity)), oracle agrees \(rate(pgdOracleValidity)), "
        + String(format: "ε (L∞) %.3f, ‖Δx‖₂ %.2f", pgdMeanLinf, pgdMeanL2),
      "  control:    the oracle already calls \(rate(oracleOnOriginals)) of the unedited images \(name(to))",
    ].joined(separator: "\n")
  }
}

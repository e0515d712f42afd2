import Foundation

/// The DDPM noise schedule (Ho et al. 2020) with the cosine ᾱ of Nichol & Dhariwal 2021,
/// indexed like diffusers: steps t = 0..<T,
/// `β_t = min(1 − ᾱ(t+1)/ᾱ(t), 0.999)` with `ᾱ(u) = cos²((u/T + s)/(1 + s) · π/2)`, and
/// `alphaBar[t] = Π_{i≤t} (1 − β_i)`. The forward process is
/// `z_t = √ᾱ_t z_0 + √(1 − ᾱ_t) ε`.
public struct NoiseSchedule: Sendable, Equatable {
  /// Number of diffusion steps T.
  public let steps: Int
  /// The cosine offset s (0.008).
  public let offset: Double
  /// ᾱ_t for t = 0..<T.
  public let alphaBar: [Double]

  /// The cosine schedule with T steps.
  public init(cosineSteps steps: Int = 1000, offset: Double = 0.008) {
    precondition(steps >= 2, "NoiseSchedule: need at least 2 steps, got \(steps)")
    self.steps = steps
    self.offset = offset
    func f(_ u: Double) -> Double {
      let angle = (u / Double(steps) + offset) / (1 + offset) * Double.pi / 2
      return cos(angle) * cos(angle)
    }
    var product = 1.0
    var values: [Double] = []
    values.reserveCapacity(steps)
    for t in 0..<steps {
      let beta = min(1 - f(Double(t + 1)) / f(Double(t)), 0.999)
      product *= 1 - beta
      values.append(product)
    }
    alphaBar = values
  }

  /// The DDIM timesteps for `count` sampling steps, from the noisiest down: diffusers'
  /// "leading" spacing, `t_k = k · (T / count)` for k = count−1 … 0.
  public func samplingSteps(_ count: Int) -> [Int] {
    precondition(count >= 1 && count <= steps, "NoiseSchedule: \(count) sampling steps for T = \(steps)")
    let ratio = steps / count
    return (0..<count).reversed().map { $0 * ratio }
  }

  /// ᾱ at `t`, with ᾱ = 1 for t < 0 (the clean end of DDIM's last step).
  public func alphaBar(at t: Int) -> Double { t < 0 ? 1 : alphaBar[t] }
}

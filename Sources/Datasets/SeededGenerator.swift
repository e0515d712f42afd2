import Engine
import Foundation

/// A seedable random number generator for shuffles, splits, synthetic data and weight init.
///
/// The bits are exactly those of `Engine.SplitMix64` with the same seed (Steele, Lea & Flood
/// 2014), so splits and permutations recorded with either type stay reproducible.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
  private var base: SplitMix64

  /// Creates a generator; equal seeds give equal sequences.
  public init(seed: UInt64) { base = SplitMix64(seed: seed) }

  /// Next 64 random bits.
  public mutating func next() -> UInt64 { base.next() }

  /// A uniform Double in [0, 1) with 53 random bits.
  public mutating func nextUniform() -> Double {
    Double(next() >> 11) / Double(1 << 53)
  }

  /// A standard normal Double (Box–Muller; two uniform draws per call).
  public mutating func nextGaussian() -> Double {
    let u1 = (Double(next() >> 11) + 1) / Double(1 << 53)  // (0, 1]: log stays finite
    let u2 = nextUniform()
    return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
  }
}

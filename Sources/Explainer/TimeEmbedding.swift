import Foundation

/// Sinusoidal time embedding (Vaswani et al. 2017, as in DDPM): for a timestep t and width D,
/// `e[i] = sin(t·ω_i)` and `e[D/2 + i] = cos(t·ω_i)` with `ω_i = 10000^(−i/(D/2))`, i < D/2.
public enum TimeEmbedding {
  /// The embedding of `t`, written into `out[0..<width]`.
  public static func write(_ t: Int, width: Int, into out: UnsafeMutablePointer<Float>) {
    precondition(width >= 2 && width % 2 == 0, "TimeEmbedding: width must be even and ≥ 2, got \(width)")
    let half = width / 2
    for i in 0..<half {
      let frequency = exp(-log(10000.0) * Double(i) / Double(half))
      let angle = Double(t) * frequency
      out[i] = Float(sin(angle))
      out[half + i] = Float(cos(angle))
    }
  }

  /// The embedding of `t` as an array.
  public static func embedding(_ t: Int, width: Int) -> [Float] {
    var values = [Float](repeating: 0, count: width)
    values.withUnsafeMutableBufferPointer { write(t, width: width, into: $0.baseAddress!) }
    return values
  }
}

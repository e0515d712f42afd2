/// Sums over contiguous floats with 16 independent lanes: one vector add per 16 values
/// instead of one dependent scalar add per value (a serial float sum is latency-bound and
/// cannot be vectorised, its order being fixed). Rounding differs from a serial sum by the
/// order only; the lanes' partial sums are usually closer to the exact sum.
public enum Reductions {
  /// Σ p[i] for i < count.
  @inlinable
  public static func sum(_ p: UnsafePointer<Float>, count: Int) -> Float {
    var lanes = SIMD16<Float>()
    var i = 0
    while i + 16 <= count {
      lanes += UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
      i += 16
    }
    var total = lanes.sum()
    while i < count {
      total += p[i]
      i += 1
    }
    return total
  }

  /// (Σ (p[i] − shift), Σ (p[i] − shift)²) for i < count. A shift near the values' mean
  /// (e.g. one of them) keeps the squares small, so a variance taken from these sums does not
  /// lose its digits to a large mean.
  @inlinable
  public static func shiftedSumAndSquares(
    _ p: UnsafePointer<Float>, count: Int, shift: Float
  ) -> (sum: Float, squares: Float) {
    let shifts = SIMD16<Float>(repeating: shift)
    var sums = SIMD16<Float>()
    var squares = SIMD16<Float>()
    var i = 0
    while i + 16 <= count {
      let v = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self) - shifts
      sums += v
      squares += v * v
      i += 16
    }
    var (sum, square) = (sums.sum(), squares.sum())
    while i < count {
      let v = p[i] - shift
      sum += v
      square += v * v
      i += 1
    }
    return (sum, square)
  }

  /// (Σ a[i], Σ a[i]·b[i]) for i < count.
  @inlinable
  public static func sumAndDot(
    _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int
  ) -> (sum: Float, dot: Float) {
    var sums = SIMD16<Float>()
    var dots = SIMD16<Float>()
    var i = 0
    while i + 16 <= count {
      let x = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD16<Float>.self)
      let y = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD16<Float>.self)
      sums += x
      dots += x * y
      i += 16
    }
    var (sum, dot) = (sums.sum(), dots.sum())
    while i < count {
      sum += a[i]
      dot += a[i] * b[i]
      i += 1
    }
    return (sum, dot)
  }
}

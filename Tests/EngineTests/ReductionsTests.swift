import Engine
import Testing

/// The lane-parallel sums against the obvious serial sums in Double, for every length around
/// the 16-lane blocks (tails included).
@Suite struct ReductionsTests {
  @Test func lanedSumsMatchSerialDoubleSums() {
    var generator = SplitMix64(seed: 41)
    for count in Array(0...70) + [784, 1_000] {
      let a = (0..<count).map { _ in Float.random(in: -3...3, using: &generator) }
      let b = (0..<count).map { _ in Float.random(in: -3...3, using: &generator) }
      let shift: Float = count > 0 ? a[0] : 0
      let exact = (
        sum: a.reduce(0.0) { $0 + Double($1) }, dot: zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) },
        shifted: a.reduce(0.0) { $0 + Double($1 - shift) },
        squares: a.reduce(0.0) { $0 + Double($1 - shift) * Double($1 - shift) }
      )
      // One padding value past the end: never read, but gives an empty array a pointer.
      let (sum, both, shifted) = (a + [.nan]).withUnsafeBufferPointer { pa in
        (b + [.nan]).withUnsafeBufferPointer { pb in
          let (x, y) = (pa.baseAddress.unsafelyUnwrapped, pb.baseAddress.unsafelyUnwrapped)
          return (
            Reductions.sum(x, count: count), Reductions.sumAndDot(x, y, count: count),
            Reductions.shiftedSumAndSquares(x, count: count, shift: shift)
          )
        }
      }
      // Float rounding over at most `count` additions of values up to 9 in size.
      let tolerance = 1e-6 * 9 * Double(max(count, 1))
      #expect(abs(Double(sum) - exact.sum) <= tolerance, "sum, \(count) values")
      #expect(abs(Double(both.sum) - exact.sum) <= tolerance, "sumAndDot's sum, \(count) values")
      #expect(abs(Double(both.dot) - exact.dot) <= tolerance, "dot, \(count) values")
      #expect(abs(Double(shifted.sum) - exact.shifted) <= tolerance, "shifted sum, \(count) values")
      #expect(abs(Double(shifted.squares) - exact.squares) <= 4 * tolerance, "shifted squares, \(count) values")
    }
  }
}

import Engine
import Testing

/// Max pooling by hand: which entry wins a window (the first maximum, as PyTorch) and where
/// the gradient goes, including overlapping windows.
@Suite struct MaxPoolTests {
  /// 4×4 input, k = 2 (stride 2):
  ///   1  5 | 2 2        top-left  {1, 5, 3, 5}: 5, first at (0,1)
  ///   3  5 | 2 2        top-right {2, 2, 2, 2}: a four-way tie, first at (0,2)
  ///   ─────┼─────       bottom-left {0, −1, 4, 4}: 4, first at (3,0)
  ///   0 −1 | 7 8        bottom-right {7, 8, 9, 6}: 9 at (3,2)
  ///   4  4 | 9 6
  /// Out = [5, 2, 4, 9]; ∂out = [1, 2, 3, 4] lands on those four cells only.
  static let input = Tensor(shape: [1, 1, 4, 4], scalars: [1, 5, 2, 2, 3, 5, 2, 2, 0, -1, 7, 8, 4, 4, 9, 6])

  @Test func twoByTwoRoutesToTheFirstMaximum() {
    let pool = MaxPool2d(name: "pool", kernelSize: 2)
    let output = pool.forward(Self.input, training: true)
    #expect(output.shape == [1, 1, 2, 2])
    #expect(output.scalars == [5, 2, 4, 9])
    let gradient = pool.backward(Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 4]), needs: BackwardNeeds())
    var expected = [Float](repeating: 0, count: 16)
    expected[1] = 1  // (0,1)
    expected[2] = 2  // (0,2)
    expected[12] = 3  // (3,0)
    expected[14] = 4  // (3,2)
    #expect(gradient.shape == Self.input.shape)
    #expect(gradient.scalars == expected)
  }

  /// k = 3, stride 1 (overlapping): windows give 7 at (2,2), 8 at (2,3), and 9 at (3,2) twice,
  /// so (3,2) collects ∂out[1,0] + ∂out[1,1] = 3 + 4 = 7.
  @Test func overlappingWindowsAccumulate() {
    let pool = MaxPool2d(name: "pool", kernelSize: 3, stride: 1)
    let output = pool.forward(Self.input, training: true)
    #expect(output.scalars == [7, 8, 9, 9])
    let gradient = pool.backward(Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 4]), needs: BackwardNeeds())
    var expected = [Float](repeating: 0, count: 16)
    expected[10] = 1  // (2,2)
    expected[11] = 2  // (2,3)
    expected[14] = 7  // (3,2)
    #expect(gradient.scalars == expected)
  }

  /// The general (k ≠ 2) path breaks ties the same way: a constant 3×3 window routes to (0,0).
  /// Two planes (batch 2) check that each plane's gradient stays in its plane.
  @Test func generalWindowTieGoesToTheFirstEntry() {
    let pool = MaxPool2d(name: "pool", kernelSize: 3)
    let input = Tensor(shape: [2, 1, 3, 3], repeating: 1)
    #expect(pool.forward(input, training: true).scalars == [1, 1])
    let gradient = pool.backward(Tensor(shape: [2, 1, 1, 1], scalars: [5, 6]), needs: BackwardNeeds())
    var expected = [Float](repeating: 0, count: 18)
    expected[0] = 5
    expected[9] = 6
    #expect(gradient.scalars == expected)
  }

  /// Output size (H − k)/s + 1 with the remainder dropped: 7×5, k = 3, s = 2 → 3×2.
  @Test func outputShapeDropsTheRemainder() {
    let pool = MaxPool2d(name: "pool", kernelSize: 3, stride: 2)
    #expect(pool.outputShape(for: [2, 3, 7, 5]) == [2, 3, 3, 2])
    #expect(pool.outputShape(for: [2, 3, 2, 5]) == nil)
  }

  @Test func nearTiesAreReported() {
    let pool = MaxPool2d(name: "pool", kernelSize: 2)
    let close = Tensor(shape: [1, 1, 2, 2], scalars: [1, 1.0001, 0, 0])
    let apart = Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 0, 0])
    #expect(pool.hasNearTie(close, relativeGap: 1e-3))
    #expect(!pool.hasNearTie(apart, relativeGap: 1e-3))
  }

  /// The 2×2 stride-2 vector path (8 outputs at a time, the rest of a row scalar) against the
  /// obvious loop, output and the gradient's routing: widths with no full block (7), whole
  /// blocks (16), blocks and a tail (28: 8 + 6), an odd width (33: a column dropped), and
  /// values drawn from {0, 1, 2, 3} so that most windows hold ties (the first maximum wins).
  @Test func vectorPathMatchesTheObviousLoop() {
    var generator = SplitMix64(seed: 9)
    for (h, w) in [(6, 7), (4, 16), (28, 28), (5, 33)] {
      let (n, c) = (2, 3)
      let scalars = (0..<(n * c * h * w)).map { _ in Float(generator.next() % 4) }
      let input = Tensor(shape: [n, c, h, w], scalars: scalars)
      let pool = MaxPool2d(name: "pool", kernelSize: 2)
      let output = pool.forward(input, training: false)
      let (ho, wo) = (h / 2, w / 2)
      var expected = [Float]()
      var gradient = [Float](repeating: 0, count: scalars.count)
      for plane in 0..<(n * c) {
        for oy in 0..<ho {
          for ox in 0..<wo {
            var best = -Float.infinity
            var at = 0
            for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
              let q = plane * h * w + (2 * oy + dy) * w + 2 * ox + dx
              if scalars[q] > best { (best, at) = (scalars[q], q) }
            }
            expected.append(best)
            gradient[at] += Float(expected.count)
          }
        }
      }
      #expect(output.shape == [n, c, ho, wo])
      #expect(output.scalars == expected, "\(h)×\(w)")
      let routed = pool.backward(
        Tensor(shape: [n, c, ho, wo], scalars: (1...expected.count).map(Float.init)), needs: BackwardNeeds())
      #expect(routed.scalars == gradient, "\(h)×\(w)")
    }
  }
}

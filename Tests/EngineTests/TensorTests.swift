import Engine
import Testing

/// Tensor plumbing and the simple layers' forward values by hand.
@Suite struct TensorTests {
  @Test func sliceStackAndReshape() {
    let t = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
    #expect(t.slice(1) == Tensor(shape: [3], scalars: [4, 5, 6]))
    #expect(Tensor.stack([t.slice(0), t.slice(1)]) == t)
    #expect(t.reshaped([3, 2]).shape == [3, 2])
    #expect(t.reshaped([3, 2]).scalars == t.scalars)
    #expect(t.rank == 2 && t.count == 6)
  }

  /// in [[1, 2]], W = [[1, 0], [2, −1], [0.5, 0.5]], b = [0.1, 0.2, 0.3]:
  /// out = in·Wᵀ + b = [1 + 0.1, 2 − 2 + 0.2, 0.5 + 1 + 0.3] = [1.1, 0.2, 1.8].
  @Test func linearByHand() {
    var generator = SplitMix64(seed: 1)
    let layer = Linear(name: "fc", inputFeatures: 2, outputFeatures: 3, generator: &generator)
    layer.weight.value = Tensor(shape: [3, 2], scalars: [1, 0, 2, -1, 0.5, 0.5])
    layer.bias?.value = Tensor(shape: [3], scalars: [0.1, 0.2, 0.3])
    let out = layer.forward(Tensor(shape: [1, 2], scalars: [1, 2]), training: false)
    for (got, expected) in zip(out.scalars, [1.1, 0.2, 1.8] as [Float]) { #expect(abs(got - expected) < 1e-6) }
  }

  /// A 2×2 plane [1, 2, 3, 6] averages to 3; ∂out = 4 spreads 4/4 = 1 to each cell.
  @Test func globalAveragePoolByHand() {
    let pool = GlobalAvgPool(name: "gap")
    let out = pool.forward(Tensor(shape: [1, 2, 2, 2], scalars: [1, 2, 3, 6, -1, -1, -1, -1]), training: false)
    #expect(out == Tensor(shape: [1, 2], scalars: [3, -1]))
    let gradient = pool.backward(Tensor(shape: [1, 2], scalars: [4, 8]), needs: BackwardNeeds())
    #expect(gradient.scalars == [1, 1, 1, 1, 2, 2, 2, 2])
  }

  /// A 3×3 all-ones kernel with padding 1 over a 3×3 all-ones image counts each output's
  /// in-image neighbours: corners 4, edges 6, centre 9 (plus bias 0.5).
  @Test func convolutionByHand() {
    var generator = SplitMix64(seed: 2)
    let conv = Conv2d(
      name: "conv", inputChannels: 1, outputChannels: 1, kernelSize: 3, padding: 1, generator: &generator)
    conv.weight.value = Tensor(shape: [1, 1, 3, 3], repeating: 1)
    conv.bias?.value = Tensor(shape: [1], scalars: [0.5])
    let out = conv.forward(Tensor(shape: [1, 1, 3, 3], repeating: 1), training: false)
    #expect(out.scalars == [4.5, 6.5, 4.5, 6.5, 9.5, 6.5, 4.5, 6.5, 4.5])
  }
}

import Engine
import Testing

/// Seeded randomness: the generator stream, the initialisers built on it, and dropout masks.
@Suite struct RandomTests {
  /// The first outputs of Vigna's reference splitmix64.c from state 0.
  @Test func splitMixMatchesTheReferenceStream() {
    var generator = SplitMix64(seed: 0)
    #expect(generator.next() == 0xE220_A839_7B1D_CDAF)
    #expect(generator.next() == 0x6E78_9E6A_A1B9_65F4)
    #expect(generator.next() == 0x06C4_5D18_8009_454F)
  }

  /// kaiming_uniform(a = √5) is U(±1/√fanIn): Conv2d(3→4, k = 3) has fanIn 27, bound 1/√27.
  @Test func initialisersStayInsideTheirBounds() {
    var generator = SplitMix64(seed: 70)
    let conv = Conv2d(name: "conv", inputChannels: 3, outputChannels: 4, kernelSize: 3, generator: &generator)
    let linear = Linear(name: "fc", inputFeatures: 16, outputFeatures: 5, generator: &generator)
    let convBound = 1 / Float(27).squareRoot()
    for p in conv.parameters { #expect(p.value.scalars.allSatisfy { abs($0) <= convBound }) }
    for p in linear.parameters { #expect(p.value.scalars.allSatisfy { abs($0) <= 0.25 }) }
    #expect(conv.parameters.map(\.value.shape) == [[4, 3, 3, 3], [4]])
    #expect(linear.parameters.map(\.value.shape) == [[5, 16], [5]])
    // Not degenerate: the weights use most of the range.
    #expect((conv.weight.value.scalars.map { abs($0) }.max() ?? 0) > 0.9 * convBound)
  }

  /// p = 0.3 drops about 30 % of 10 000 entries (binomial sd ≈ 0.0046), survivors scaled by 1/0.7;
  /// a second forward of the same layer draws a new mask.
  @Test func dropoutRateAndFreshMasks() {
    let input = Tensor(shape: [10, 1000], repeating: 1)
    let layer = Dropout(name: "drop", probability: 0.3, seed: 5)
    let first = layer.forward(input, training: true)
    let dropped = Double(first.scalars.filter { $0 == 0 }.count) / Double(input.count)
    #expect(abs(dropped - 0.3) < 0.02)
    #expect(first.scalars.allSatisfy { $0 == 0 || abs($0 - 1 / 0.7) < 1e-6 })
    let second = layer.forward(input, training: true)
    #expect(second != first)
    #expect(Dropout(name: "drop", probability: 0, seed: 5).forward(input, training: true) == input)
  }
}

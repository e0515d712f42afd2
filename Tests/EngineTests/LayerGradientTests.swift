import Engine
import Testing

/// Finite-difference checks for every layer.
@Suite struct LayerGradientTests {
  let checker = GradientCheck()

  @Test(arguments: [
    (bias: true, stride: 1, padding: 1, kernel: 3),
    (bias: false, stride: 1, padding: 0, kernel: 3),
    (bias: true, stride: 2, padding: 1, kernel: 3),
    (bias: true, stride: 1, padding: 2, kernel: 5),
    (bias: true, stride: 2, padding: 0, kernel: 1),
  ])
  func conv2d(bias: Bool, stride: Int, padding: Int, kernel: Int) {
    var generator = SplitMix64(seed: 3)
    let layer = Conv2d(
      name: "conv", inputChannels: 2, outputChannels: 3, kernelSize: kernel, stride: stride, padding: padding,
      bias: bias, generator: &generator)
    checker.check(layer, input: randomTensor([2, 2, 6, 5], seed: 4))
  }

  @Test func batchNormTraining() {
    let layer = BatchNorm2d(name: "bn", channels: 3)
    layer.weight.value = Tensor(shape: [3], scalars: [1.5, -0.5, 2])
    layer.bias.value = Tensor(shape: [3], scalars: [0.1, 0.2, -0.3])
    checker.check(layer, input: randomTensor([4, 3, 3, 2], seed: 5), training: true)
  }

  @Test func batchNormEvaluation() {
    let layer = BatchNorm2d(name: "bn", channels: 2)
    layer.runningMean = Tensor(shape: [2], scalars: [0.3, -0.2])
    layer.runningVariance = Tensor(shape: [2], scalars: [0.5, 2])
    layer.weight.value = Tensor(shape: [2], scalars: [1.5, -0.5])
    checker.check(layer, input: randomTensor([2, 2, 3, 3], seed: 6), training: false)
  }

  @Test func relu() {
    checker.check(ReLU(name: "relu"), input: awayFromZero([2, 3, 4, 4], seed: 7))
  }

  @Test(arguments: [(kernel: 2, stride: 2), (kernel: 3, stride: 2)])
  func maxPool(kernel: Int, stride: Int) {
    // Distinct values (a random permutation of a grid) so no window has a tie.
    var generator = SplitMix64(seed: 8)
    let count = 2 * 2 * 7 * 7
    let values = (0..<count).map { Float($0) * 0.01 }.shuffled(using: &generator)
    checker.check(
      MaxPool2d(name: "pool", kernelSize: kernel, stride: stride), input: Tensor(shape: [2, 2, 7, 7], scalars: values))
  }

  @Test func globalAveragePool() {
    checker.check(GlobalAvgPool(name: "gap"), input: randomTensor([3, 4, 3, 5], seed: 9))
  }

  @Test func flatten() {
    checker.check(Flatten(name: "flatten"), input: randomTensor([2, 3, 2, 2], seed: 10))
  }

  @Test(arguments: [true, false])
  func linear(bias: Bool) {
    var generator = SplitMix64(seed: 12)
    let layer = Linear(name: "fc", inputFeatures: 5, outputFeatures: 4, bias: bias, generator: &generator)
    checker.check(layer, input: randomTensor([3, 5], seed: 13))
  }

  /// A fresh layer with the same seed draws the same mask on its first forward, so the
  /// loss is a fixed linear function of the input and the check is exact.
  @Test func dropoutTraining() {
    let input = randomTensor([2, 3, 4, 4], seed: 14)
    let layer = Dropout(name: "drop", probability: 0.3, seed: 99)
    let output = layer.forward(input, training: true)
    let gradient = layer.backward(Tensor(shape: output.shape, repeating: 1), needs: BackwardNeeds())
    var zeros = 0
    for i in 0..<input.count {
      let kept = output.scalars[i] != 0
      zeros += kept ? 0 : 1
      // kept: out = in / 0.7 and ∂in = 1/0.7; dropped: both 0.
      #expect(abs(gradient.scalars[i] - (kept ? 1 / 0.7 : 0)) < 1e-6)
      if kept { #expect(abs(output.scalars[i] - input.scalars[i] / 0.7) < 1e-6) }
    }
    #expect(zeros > 0 && zeros < input.count)
    let same = Dropout(name: "drop", probability: 0.3, seed: 99).forward(input, training: true)
    #expect(same == output)
  }

  /// Finite differences through a freshly seeded layer per forward (same mask every time):
  /// ∂in must be R · m/(1 − p), i.e. R · out/in wherever the input is non-zero.
  @Test func dropoutTrainingMatchesFiniteDifferences() {
    let input = awayFromZero([2, 2, 3, 3], seed: 18)
    checker.check(making: { Dropout(name: "drop", probability: 0.5, seed: 7) }, input: input, training: true)
    let layer = Dropout(name: "drop", probability: 0.5, seed: 7)
    let output = layer.forward(input, training: true)
    let upstream = randomTensor(output.shape, seed: 19)
    let gradient = layer.backward(upstream, needs: BackwardNeeds())
    for i in 0..<input.count {
      let ratio = output.scalars[i] / input.scalars[i]  // the mask entry: 0 or 1/(1 − 0.5) = 2
      #expect(ratio == 0 || ratio == 2)
      #expect(abs(gradient.scalars[i] - upstream.scalars[i] * ratio) < 1e-6)
    }
  }

  @Test func dropoutIsIdentityInEvaluation() {
    let input = randomTensor([2, 5], seed: 15)
    let layer = Dropout(name: "drop", probability: 0.5, seed: 1)
    #expect(layer.forward(input, training: false) == input)
    checker.check(layer, input: input, training: false)
  }

  @Test func residual() {
    var generator = SplitMix64(seed: 16)
    let body: [any Layer] = [
      Conv2d(name: "block.conv", inputChannels: 2, outputChannels: 2, kernelSize: 3, padding: 1, generator: &generator),
      ReLU(name: "block.relu"),
    ]
    checker.check(Residual(name: "block", body: body), input: randomTensor([2, 2, 4, 4], seed: 17))
  }
}

import Engine
import Testing

@Suite struct NetworkTests {
  func makeNetwork(seed: UInt64) -> Network {
    var g = SplitMix64(seed: seed)
    let layers: [any Layer] = [
      Conv2d(name: "conv1", inputChannels: 1, outputChannels: 3, kernelSize: 3, padding: 1, generator: &g),
      BatchNorm2d(name: "bn1", channels: 3),
      ReLU(name: "relu1"),
      MaxPool2d(name: "pool1", kernelSize: 2),
      Conv2d(name: "conv2", inputChannels: 3, outputChannels: 4, kernelSize: 3, padding: 1, generator: &g),
      ReLU(name: "relu2"),
      GlobalAvgPool(name: "gap"),
      Linear(name: "fc", inputFeatures: 4, outputFeatures: 3, generator: &g),
    ]
    return Network(layers: layers, inputShape: [1, 6, 6], targetLayerIndex: 5)
  }

  /// The whole network's loss gradient with respect to the input and every parameter.
  @Test func wholeNetworkGradientMatchesFiniteDifferences() {
    let network = makeNetwork(seed: 1)
    let input = randomTensor([3, 1, 6, 6], seed: 2)
    let labels = [0, 2, 1]
    func loss(_ x: Tensor) -> Double {
      Double(SoftmaxCrossEntropy.evaluate(logits: network.forward(x, training: true).logits, labels: labels).loss)
    }
    let result = SoftmaxCrossEntropy.evaluate(logits: network.forward(input, training: true).logits, labels: labels)
    let inputGradient = network.backward(result.gradient, parameterGradients: true)
    let numeric = numericGradient(of: loss, at: input)
    #expect(normalisedError(inputGradient, numeric) < 2e-2)
    for (name, parameter) in network.namedParameters {
      let analytic = parameter.gradient
      let numericParameter = numericGradient(of: { loss(input) }, parameter: parameter)
      // conv1.bias feeds BatchNorm, which removes any per-channel shift: its true gradient
      // is 0, so compare on an absolute floor instead of relative to a vanishing scale.
      let scale = max(numericParameter.scalars.map { Double(abs($0)) }.max() ?? 0, 1e-2)
      let difference = zip(analytic.scalars, numericParameter.scalars).map { Double(abs($0 - $1)) }.max() ?? 0
      #expect(difference / scale < 2e-2, "\(name): \(difference) vs scale \(scale)")
    }
  }

  /// With a GAP + Linear tail, ∂z_c/∂A[k, cell] = fc.weight[c, k] / (h·w) for every cell.
  @Test func backwardStopsAtTheTargetLayer() throws {
    let network = makeNetwork(seed: 3)
    let input = randomTensor([2, 1, 6, 6], seed: 4)
    let (logits, captured) = network.forward(input, training: false, capture: 5)
    #expect(captured.shape == [2, 4, 3, 3])
    var seed = Tensor(shape: logits.shape)
    seed.scalars[0 * 3 + 2] = 1  // image 0, class 2
    seed.scalars[1 * 3 + 0] = 1  // image 1, class 0
    let gradient = network.backward(seed, stopAt: 5, parameterGradients: false)
    #expect(gradient.shape == captured.shape)
    let fc = try #require(network.layers.last as? Linear)
    for (image, c) in [(0, 2), (1, 0)] {
      for k in 0..<4 {
        for cell in 0..<9 {
          let expected = fc.weight.value.scalars[c * 4 + k] / 9
          #expect(abs(gradient.scalars[(image * 4 + k) * 9 + cell] - expected) < 1e-7)
        }
      }
    }
  }

  /// backward(stopAt: k) is ∂L/∂A_k: perturb the captured activation and rerun only the
  /// layers above k (evaluation mode, so BatchNorm uses fixed statistics).
  @Test func stopAtGradientMatchesFiniteDifferencesOnTheTail() {
    let network = makeNetwork(seed: 6)
    let input = randomTensor([2, 1, 6, 6], seed: 7)
    let labels = [1, 2]
    let target = 3  // the max-pool output, below conv2 → relu2 → gap → fc
    let (logits, captured) = network.forward(input, training: false, capture: target)
    let result = SoftmaxCrossEntropy.evaluate(logits: logits, labels: labels)
    let analytic = network.backward(result.gradient, stopAt: target, parameterGradients: false)
    #expect(analytic.shape == captured.shape)
    func loss(_ activation: Tensor) -> Double {
      var x = activation
      for layer in network.layers[(target + 1)...] { x = layer.forward(x, training: false) }
      return Double(SoftmaxCrossEntropy.evaluate(logits: x, labels: labels).loss)
    }
    let numeric = numericGradient(of: loss, at: captured)
    #expect(normalisedError(analytic, numeric) < 1e-2)
  }

  /// A residual network: parameter names expand the block body, and the whole gradient checks.
  @Test func residualNetworkGradientMatchesFiniteDifferences() {
    var g = SplitMix64(seed: 8)
    let layers: [any Layer] = [
      Conv2d(name: "stem", inputChannels: 1, outputChannels: 2, kernelSize: 3, padding: 1, generator: &g),
      Residual(
        name: "block",
        body: [
          Conv2d(name: "block.conv", inputChannels: 2, outputChannels: 2, kernelSize: 3, padding: 1, generator: &g),
          BatchNorm2d(name: "block.bn", channels: 2),
        ]),
      GlobalAvgPool(name: "gap"),
      Linear(name: "fc", inputFeatures: 2, outputFeatures: 3, generator: &g),
    ]
    let network = Network(layers: layers, inputShape: [1, 4, 4], targetLayerIndex: 1)
    #expect(
      network.namedParameters.map(\.name) == [
        "stem.weight", "stem.bias", "block.conv.weight", "block.conv.bias", "block.bn.weight", "block.bn.bias",
        "fc.weight", "fc.bias",
      ])
    let input = randomTensor([2, 1, 4, 4], seed: 9)
    let labels = [2, 0]
    func loss(_ x: Tensor) -> Double {
      Double(SoftmaxCrossEntropy.evaluate(logits: network.forward(x, training: true).logits, labels: labels).loss)
    }
    let result = SoftmaxCrossEntropy.evaluate(logits: network.forward(input, training: true).logits, labels: labels)
    let inputGradient = network.backward(result.gradient, parameterGradients: true)
    let numeric = numericGradient(of: loss, at: input)
    #expect(normalisedError(inputGradient, numeric) < 2e-2)
    for (name, parameter) in network.namedParameters {
      let numericParameter = numericGradient(of: { loss(input) }, parameter: parameter)
      // block.conv.bias feeds BatchNorm (gradient 0 in truth): absolute floor as above.
      let scale = max(numericParameter.scalars.map { Double(abs($0)) }.max() ?? 0, 1e-2)
      let difference = zip(parameter.gradient.scalars, numericParameter.scalars).map { Double(abs($0 - $1)) }.max() ?? 0
      #expect(difference / scale < 2e-2, "\(name): \(difference) vs scale \(scale)")
    }
  }

  @Test func sameSeedSameNetwork() {
    let input = randomTensor([2, 1, 6, 6], seed: 5)
    let a = makeNetwork(seed: 9).forward(input, training: false).logits
    let b = makeNetwork(seed: 9).forward(input, training: false).logits
    let c = makeNetwork(seed: 10).forward(input, training: false).logits
    #expect(a == b)
    #expect(a != c)
  }

  @Test func parameterNamesFollowStateDict() {
    let names = makeNetwork(seed: 1).namedParameters.map(\.name)
    #expect(
      names == [
        "conv1.weight", "conv1.bias", "bn1.weight", "bn1.bias", "conv2.weight", "conv2.bias", "fc.weight", "fc.bias",
      ])
  }
}

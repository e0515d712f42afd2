import Engine
import Testing

/// `BackwardNeeds` and `Network.backward(stopAt:)`: skipping the input gradient must not change
/// parameter gradients, skipping parameter gradients must leave them untouched.
@Suite struct BackwardNeedsTests {
  static let sentinel: Float = 42

  static func layers() -> [(layer: any Layer, input: Tensor)] {
    var g = SplitMix64(seed: 60)
    let conv = Conv2d(name: "conv", inputChannels: 2, outputChannels: 3, kernelSize: 3, padding: 1, generator: &g)
    let linear = Linear(name: "fc", inputFeatures: 4, outputFeatures: 3, generator: &g)
    let residual = Residual(
      name: "block",
      body: [
        Conv2d(name: "block.conv", inputChannels: 2, outputChannels: 2, kernelSize: 3, padding: 1, generator: &g),
        BatchNorm2d(name: "block.bn", channels: 2),
      ])
    return [
      (conv, randomTensor([2, 2, 4, 3], seed: 61)),
      (BatchNorm2d(name: "bn", channels: 2), randomTensor([2, 2, 3, 3], seed: 62)),
      (linear, randomTensor([2, 4], seed: 63)),
      (residual, randomTensor([2, 2, 3, 3], seed: 64)),
    ]
  }

  @Test func eachNeedIsIndependent() {
    for (layer, input) in Self.layers() {
      let output = layer.forward(input, training: true)
      let upstream = randomTensor(output.shape, seed: 65)
      let fullInput = layer.backward(upstream, needs: BackwardNeeds())
      let fullParameters = layer.parameters.map(\.gradient)

      for p in layer.parameters { p.gradient = Tensor(shape: p.value.shape, repeating: Self.sentinel) }
      let inputOnly = layer.backward(upstream, needs: BackwardNeeds(parameterGradients: false))
      #expect(inputOnly == fullInput, "\(layer.name): input gradient depends on parameterGradients")
      for p in layer.parameters {
        #expect(p.gradient.scalars.allSatisfy { $0 == Self.sentinel }, "\(layer.name).\(p.name) written")
      }

      let parametersOnly = layer.backward(upstream, needs: BackwardNeeds(inputGradient: false))
      #expect(parametersOnly.count == 0, "\(layer.name): input gradient returned though not needed")
      #expect(layer.parameters.map(\.gradient) == fullParameters, "\(layer.name): parameter gradients differ")
    }
  }

  /// stopAt k visits only layers above k: their parameters get gradients, the rest keep theirs.
  @Test func networkBackwardTouchesOnlyVisitedLayers() {
    var g = SplitMix64(seed: 66)
    let layers: [any Layer] = [
      Conv2d(name: "conv1", inputChannels: 1, outputChannels: 2, kernelSize: 3, padding: 1, generator: &g),
      ReLU(name: "relu1"),
      Conv2d(name: "conv2", inputChannels: 2, outputChannels: 2, kernelSize: 3, padding: 1, generator: &g),
      GlobalAvgPool(name: "gap"),
      Linear(name: "fc", inputFeatures: 2, outputFeatures: 3, generator: &g),
    ]
    let network = Network(layers: layers, inputShape: [1, 4, 4], targetLayerIndex: 2)
    let input = randomTensor([2, 1, 4, 4], seed: 67)
    let logits = network.forward(input, training: true).logits
    let upstream = randomTensor(logits.shape, seed: 68)

    for p in network.parameters { p.gradient = Tensor(shape: p.value.shape, repeating: Self.sentinel) }
    network.backward(upstream, parameterGradients: false)
    #expect(network.parameters.allSatisfy { $0.gradient.scalars.allSatisfy { $0 == Self.sentinel } })

    let atTarget = network.backward(upstream, stopAt: 2, parameterGradients: true)
    #expect(atTarget.shape == [2, 2, 4, 4])
    for (name, p) in network.namedParameters {
      let untouched = p.gradient.scalars.allSatisfy { $0 == Self.sentinel }
      #expect(untouched == name.hasPrefix("conv"), "\(name)")
    }
  }
}

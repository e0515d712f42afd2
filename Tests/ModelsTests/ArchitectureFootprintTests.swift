import Engine
import Models
import Testing

/// The dry run's counts match what `build` allocates, and each cap admits exactly its value.
@Suite struct ArchitectureFootprintTests {
  static let residual = """
    {"format":"i2x.architecture/1","name":"tiny-res","input":[1,8,8],"classes":3,"target":"block",
     "layers":[{"kind":"conv2d","name":"stem","in":1,"out":4,"kernel":3,"padding":1},
               {"kind":"residual","name":"block","layers":[
                  {"kind":"conv2d","name":"block.conv","in":4,"out":4,"kernel":3,"padding":1,"bias":false},
                  {"kind":"batchnorm2d","name":"block.bn","channels":4},
                  {"kind":"relu","name":"block.relu"}]},
               {"kind":"gap","name":"gap"},{"kind":"dropout","name":"drop","p":0.2},
               {"kind":"linear","name":"fc","in":4,"out":3}]}
    """

  @Test(arguments: Architecture.referenceNames)
  func dryRunParameterCountEqualsTheBuiltNetwork(name: String) throws {
    let architecture = try #require(Architecture.reference(name))
    #expect(try architecture.validate().parameterCount == architecture.build(seed: 1).parameterCount)
  }

  @Test func dryRunCountsResidualBodies() throws {
    let architecture = try Architecture(json: Self.residual)
    let footprint = try architecture.validate()
    // stem 4·1·3·3 + 4 = 40; block.conv 4·4·3·3 = 144; block.bn 4 + 4 = 8; fc 3·4 + 3 = 15.
    #expect(footprint.parameterCount == 40 + 144 + 8 + 15)
    #expect(footprint.parameterCount == (try architecture.build(seed: 1).parameterCount))
    // stem, block, block.conv, block.bn, block.relu, gap, drop, fc.
    #expect(footprint.layerCount == 8)
    // Largest: the 4×8×8 = 256 maps of the stem and inside the block.
    #expect(footprint.largestActivationElements == 256)
  }

  @Test func smallCNNFootprint() throws {
    let footprint = try #require(Architecture.reference("smallcnn")).validate()
    // Per image: input 1×28×28 = 784; conv1/relu1 16×28×28 = 12544; pool1 16×14×14 = 3136;
    // conv2/relu2 32×14×14 = 6272; pool2 32×7×7 = 1568; conv3/relu3 64×7×7 = 3136; gap 64; fc 10.
    #expect(footprint.largestActivationElements == 16 * 28 * 28)
    #expect(footprint.largestActivationElements == 12544)
    // conv 1→16: 144+16, 16→32: 4608+32, 32→64: 18432+64, fc 640+10.
    #expect(footprint.parameterCount == 160 + 4640 + 18496 + 650)
    #expect(footprint.layerCount == 10)  // 3 conv, 3 relu, 2 pool, gap, fc
  }

  /// input 4×1×1, relu, gap, fc 4→3: 15 parameters, largest activation 4, 3 layers, 3 classes,
  /// largest single size 4.
  static let small = Architecture(
    name: "small", input: [4, 1, 1], classes: 3, target: "r",
    layers: [
      LayerSpec(kind: "relu", name: "r"), LayerSpec(kind: "gap", name: "g"),
      LayerSpec(kind: "linear", name: "fc", inputs: 4, outputs: 3),
    ])

  struct Boundary: Sendable, CustomTestStringConvertible {
    var label: String
    var atCap: Architecture.Limits
    var overCap: Architecture.Limits
    var message: String
    var testDescription: String { label }
  }

  static let boundaries = [
    Boundary(
      label: "parameters", atCap: .init(maximumParameters: 15), overCap: .init(maximumParameters: 14),
      message: "layer 'fc' (linear): 3×4 weights + 3 biases = 15 parameters, 15 in total, over the "
        + "14-parameter cap"),
    Boundary(
      label: "activation elements", atCap: .init(maximumActivationElements: 4),
      overCap: .init(maximumActivationElements: 3),
      message: "architecture 'small': input 4×1×1 = 4 elements per image, over the 3-element cap"),
    Boundary(
      label: "classes", atCap: .init(maximumClasses: 3), overCap: .init(maximumClasses: 2),
      message: "architecture 'small': 3 classes, over the 2-class cap"),
    Boundary(
      label: "layers", atCap: .init(maximumLayers: 3), overCap: .init(maximumLayers: 2),
      message: "layer 'fc' is layer number 3 (counting the layers inside residual blocks), over the 2-layer cap"),
    Boundary(
      label: "dimension", atCap: .init(maximumDimension: 4), overCap: .init(maximumDimension: 3),
      message: "architecture 'small': input [4, 1, 1] has size 4, over the 3 cap"),
  ]

  @Test(arguments: boundaries)
  func exactlyAtTheCapPassesAndOneOverFails(_ boundary: Boundary) throws {
    let footprint = try Self.small.validate(limits: boundary.atCap)
    // The target 'r' is the ReLU of the 4×1×1 input: 4 elements per image.
    #expect(
      footprint
        == Architecture.Footprint(
          parameterCount: 15, largestActivationElements: 4, layerCount: 3, targetActivationElements: 4))
    #expect {
      try Self.small.validate(limits: boundary.overCap)
    } throws: { error in
      let description = (error as? ArchitectureError)?.description ?? ""
      return description.contains(boundary.message)
    }
  }

  @Test func buildEnforcesTheLimitsToo() {
    #expect(throws: ArchitectureError.self) {
      try Self.small.build(seed: 1, limits: .init(maximumParameters: 14))
    }
  }

  @Test func defaultLimitsAreTheDocumentedValues() {
    let limits = Architecture.Limits.default
    #expect(limits.maximumParameters == 100_000_000)
    #expect(limits.maximumActivationElements == 1 << 24)
    #expect(limits.maximumClasses == 100_000)
    #expect(limits.maximumLayers == 1_000)
    #expect(limits.maximumDimension == 1_000_000)
  }

  @Test func residualBodyThatChangesTheShapeIsRefused() {
    let json = """
      {"format":"i2x.architecture/1","name":"x","input":[1,8,8],"classes":2,"target":"b",
       "layers":[{"kind":"residual","name":"b","layers":[{"kind":"conv2d","name":"b.c","in":1,"out":2,"kernel":3}]},
                 {"kind":"gap","name":"g"}]}
      """
    #expect {
      try Architecture(json: json)
    } throws: { error in
      (error as? ArchitectureError)?.description.contains("its body maps [1, 8, 8] to [2, 6, 6]") == true
    }
  }

  /// The engine's shape functions answer nil on hostile sizes instead of trapping.
  @Test func engineShapeFunctionsDoNotTrapOnHostileSizes() {
    #expect(ConvGeometry.outputSize(input: 28, kernel: 3, stride: 1, padding: 1) == 28)  // (28+2−3)/1+1
    #expect(ConvGeometry.outputSize(input: 7, kernel: 2, stride: 2, padding: 0) == 3)  // (7−2)/2+1
    #expect(ConvGeometry.outputSize(input: 2, kernel: 3, stride: 1, padding: 0) == nil)  // does not fit
    #expect(ConvGeometry.outputSize(input: 8, kernel: 3, stride: 1, padding: 1 << 62) == nil)  // 2p overflows
    #expect(ConvGeometry.outputSize(input: .max, kernel: 1, stride: 1, padding: 1) == nil)  // H+2p overflows
    var generator = SplitMix64(seed: 1)
    let conv = Conv2d(
      name: "c", inputChannels: 1, outputChannels: 1, kernelSize: 1, padding: 1 << 62, generator: &generator)
    #expect(conv.outputShape(for: [1, 1, 8, 8]) == nil)
    #expect(MaxPool2d(name: "p", kernelSize: 1 << 40).outputShape(for: [1, 1, 8, 8]) == nil)
    #expect(Flatten(name: "f").outputShape(for: [1, 1 << 32, 1 << 32]) == nil)
    #expect(Flatten(name: "f").outputShape(for: [2, 3, 4]) == [2, 12])
  }
}

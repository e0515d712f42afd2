import Engine
import Models
import Testing

@Suite struct ArchitectureTests {
  @Test(arguments: Architecture.referenceNames)
  func referenceArchitecturesRoundTripThroughJSON(name: String) throws {
    let architecture = try #require(Architecture.reference(name))
    let parsed = try Architecture(json: architecture.json())
    #expect(parsed == architecture)
    #expect(parsed.json() == architecture.json())
  }

  @Test func smallCNNHasTheDesignedShapes() throws {
    let network = try #require(Architecture.reference("smallcnn")).build(seed: 1)
    let (logits, target) = network.forward(
      Tensor(shape: [2, 1, 28, 28]), training: false, capture: network.targetLayerIndex)
    #expect(logits.shape == [2, 10])
    #expect(target.shape == [2, 64, 7, 7])
    // conv 1→16: 144+16, 16→32: 4608+32, 32→64: 18432+64, fc 640+10.
    #expect(network.parameterCount == 160 + 4640 + 18496 + 650)
  }

  @Test func smallCNNBNHasBiasFreeConvsAndBatchNorm() throws {
    let network = try #require(Architecture.reference("smallcnn-bn")).build(seed: 1)
    let names = network.namedParameters.map(\.name)
    #expect(!names.contains("conv1.bias"))
    #expect(names.contains("bn3.weight"))
    #expect(network.layers[network.targetLayerIndex].name == "relu3")
  }

  @Test func cifarCNNTargetIs128By8By8() throws {
    let network = try #require(Architecture.reference("cifarcnn")).build(seed: 1)
    let (logits, target) = network.forward(
      Tensor(shape: [1, 3, 32, 32]), training: false, capture: network.targetLayerIndex)
    #expect(target.shape == [1, 128, 8, 8])
    #expect(logits.shape == [1, 10])
  }

  @Test func customArchitectureWithResidualAndDropoutBuilds() throws {
    let json = """
      {"format":"i2x.architecture/1","name":"tiny-res","input":[1,8,8],"classes":3,"target":"block",
       "layers":[{"kind":"conv2d","name":"stem","in":1,"out":4,"kernel":3,"padding":1},
                 {"kind":"residual","name":"block","layers":[
                    {"kind":"conv2d","name":"block.conv","in":4,"out":4,"kernel":3,"padding":1,"bias":false},
                    {"kind":"batchnorm2d","name":"block.bn","channels":4},
                    {"kind":"relu","name":"block.relu"}]},
                 {"kind":"gap","name":"gap"},{"kind":"dropout","name":"drop","p":0.2},
                 {"kind":"linear","name":"fc","in":4,"out":3}]}
      """
    let network = try Architecture(json: json).build(seed: 2)
    #expect(network.namedParameters.map(\.name).contains("block.bn.weight"))
    #expect(network.forward(Tensor(shape: [2, 1, 8, 8]), training: false).logits.shape == [2, 3])
  }

  @Test(arguments: [
    (
      #"{"format":"i2x.architecture/1","name":"x","input":[1,8,8],"classes":3,"target":"fc","layers":[{"kind":"softmax","name":"s"}]}"#,
      "unknown kind 'softmax'"
    ),
    (
      #"{"format":"i2x.architecture/1","name":"x","input":[1,8,8],"classes":3,"target":"c","layers":[{"kind":"conv2d","name":"c","in":2,"out":3,"kernel":3}]}"#,
      "cannot take input"
    ),
    (
      #"{"format":"i2x.architecture/1","name":"x","input":[1,8,8],"classes":3,"target":"nope","layers":[{"kind":"conv2d","name":"c","in":1,"out":3,"kernel":3},{"kind":"gap","name":"g"}]}"#,
      "target layer 'nope'"
    ),
    (
      #"{"format":"i2x.architecture/1","name":"x","input":[1,8,8],"classes":3,"target":"c","layers":[{"kind":"conv2d","name":"c","in":1,"out":3,"kernel":3},{"kind":"gap","name":"c"}]}"#,
      "used twice"
    ),
    (
      #"{"format":"i2x.architecture/1","name":"x","input":[1,8,8],"classes":4,"target":"c","layers":[{"kind":"conv2d","name":"c","in":1,"out":3,"kernel":3},{"kind":"gap","name":"g"}]}"#,
      "output must be"
    ),
    (
      #"{"format":"i2x.architecture/2","name":"x","input":[1,8,8],"classes":3,"target":"c","layers":[]}"#,
      "not supported"
    ),
    (#"{"name": 5}"#, "malformed"),
  ])
  func invalidArchitecturesAreRejectedWithAReason(json: String, reason: String) {
    #expect {
      try Architecture(json: json)
    } throws: { error in
      (error as? ArchitectureError)?.description.contains(reason) == true
    }
  }
}

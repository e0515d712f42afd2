import Engine
import Foundation
import Models
import Testing

/// The `upsample`, `sigmoid`, `silu` and `unflatten` kinds in architecture metadata: they
/// validate, count and build like the classifier kinds, and bad `scale`/`shape` values are
/// refused with a message that names the layer, the field and what is allowed.
@Suite struct GenerativeLayerSpecTests {
  /// A classifier using every new kind: [1,4,4] → flatten [16] → unflatten [1,4,4] → conv 1→2
  /// [2,4,4] → silu → upsample ×2 [2,8,8] (target) → sigmoid → gap [2] → fc [3].
  static let classifier = """
    {"format":"i2x.architecture/1","name":"generative-kinds","input":[1,4,4],"classes":3,"target":"up",
     "layers":[{"kind":"flatten","name":"flat"},{"kind":"unflatten","name":"unflat","shape":[1,4,4]},
               {"kind":"conv2d","name":"conv","in":1,"out":2,"kernel":3,"padding":1},
               {"kind":"silu","name":"silu"},{"kind":"upsample","name":"up","scale":2},
               {"kind":"sigmoid","name":"sigmoid"},{"kind":"gap","name":"gap"},
               {"kind":"linear","name":"fc","in":2,"out":3}]}
    """

  @Test func classifierWithTheNewKindsValidatesAndBuilds() throws {
    let architecture = try Architecture(json: Self.classifier)
    let footprint = try architecture.validate()
    #expect(footprint.parameterCount == 2 * 9 + 2 + 2 * 3 + 3)
    #expect(footprint.largestActivationElements == 2 * 8 * 8)
    #expect(footprint.targetActivationElements == 2 * 8 * 8)
    let network = try architecture.build(seed: 1)
    #expect(
      network.layers.map { String(describing: type(of: $0)) } == [
        "Flatten", "Unflatten", "Conv2d", "SiLU", "Upsample2d", "Sigmoid", "GlobalAvgPool", "Linear",
      ])
    let (logits, captured) = network.forward(Tensor(shape: [2, 1, 4, 4], repeating: 0.5), training: false, capture: 4)
    #expect(logits.shape == [2, 3] && captured.shape == [2, 2, 8, 8])
    #expect(try Architecture(json: architecture.json()) == architecture)
  }

  /// Upsampling grows the counted activations: a ×16 upsample of [4,1024,1024] is 2³⁰
  /// elements, over the default 2²⁴ cap, and is refused before anything is allocated.
  @Test func upsampledActivationsCountAgainstTheCap() {
    let specs = [LayerSpec(kind: "upsample", name: "up", scale: 16)]
    #expect {
      try Architecture.validateChain(specs, input: [4, 1024, 1024])
    } throws: { error in
      (error as? ArchitectureError)?.description.contains("layer 'up' (upsample): output 4×16384×16384") == true
    }
  }

  @Test(arguments: [
    (
      LayerSpec(kind: "upsample", name: "up"), [2, 4, 4],
      "layer 'up' (upsample) needs an integer 'scale' from 1 to 16, and has none"
    ),
    (LayerSpec(kind: "upsample", name: "up", scale: 0), [2, 4, 4], "needs an integer 'scale' from 1 to 16, got 0"),
    (LayerSpec(kind: "upsample", name: "up", scale: -2), [2, 4, 4], "needs an integer 'scale' from 1 to 16, got -2"),
    (LayerSpec(kind: "upsample", name: "up", scale: 17), [2, 4, 4], "needs an integer 'scale' from 1 to 16, got 17"),
    (
      LayerSpec(kind: "upsample", name: "up", scale: 2), [32],
      "cannot take input of shape [32]; it expects a [C, H, W] feature map"
    ),
    (
      LayerSpec(kind: "unflatten", name: "u"), [32],
      "layer 'u' (unflatten) needs a 'shape' of three positive sizes [C, H, W], and has none"
    ),
    (LayerSpec(kind: "unflatten", name: "u", shape: [4, 8]), [32], "three positive sizes [C, H, W], got [4, 8]"),
    (
      LayerSpec(kind: "unflatten", name: "u", shape: [2, 0, 16]), [32], "three positive sizes [C, H, W], got [2, 0, 16]"
    ),
    (
      LayerSpec(kind: "unflatten", name: "u", shape: [2, -4, -4]), [32],
      "three positive sizes [C, H, W], got [2, -4, -4]"
    ),
    (
      LayerSpec(kind: "unflatten", name: "u", shape: [2, 4, 8]), [32],
      "layer 'u' (unflatten) cannot take input of shape [32]; it expects [64] features (the product of 'shape' 2×4×8)"
    ),
    (LayerSpec(kind: "unflatten", name: "u", shape: [2, 4, 4]), [2, 4, 4], "cannot take input of shape [2, 4, 4]"),
    (
      LayerSpec(kind: "unflatten", name: "u", shape: [2_000_000, 1, 1]), [32],
      "'shape' is 2000000, over the 1000000 cap on any single size"
    ),
    (LayerSpec(kind: "upsample", name: "up", scale: 2, shape: [1, 1, 1]), [1, 4, 4], ""),  // shape is ignored
  ])
  func badScaleAndShapeAreRefusedClearly(spec: LayerSpec, input: [Int], message: String) {
    do {
      try Architecture.validateChain([spec], input: input)
      #expect(message.isEmpty, "accepted; expected \(message)")
    } catch {
      #expect(!message.isEmpty && error.description.contains(message), "\(error.description)")
    }
  }

  /// With every cap lifted only overflow-checked arithmetic stands between a hostile size and
  /// a trap: both are refused with a message instead.
  @Test func overflowingSizesAreRefusedWithoutCaps() {
    let unlimited = Architecture.Limits(
      maximumParameters: .max, maximumActivationElements: .max, maximumClasses: .max, maximumLayers: .max,
      maximumDimension: .max)
    let huge = 1 << 31
    let cases: [(LayerSpec, [Int], String)] = [
      (LayerSpec(kind: "upsample", name: "up", scale: 16), [1, 1, 1 << 62], "size times 16 fits in 64 bits"),
      (LayerSpec(kind: "unflatten", name: "u", shape: [huge, huge, huge]), [8], "has more than \(Int.max) elements"),
    ]
    for (spec, input, message) in cases {
      #expect {
        try Architecture.validateChain([spec], input: input, limits: unlimited)
      } throws: { error in
        (error as? ArchitectureError)?.description.contains(message) == true
      }
    }
  }

  /// The JSON path reports the same message, and the unknown-kind message lists the new kinds.
  @Test func jsonPathNamesTheNewKinds() {
    let badScale = Self.classifier.replacingOccurrences(of: #""scale":2"#, with: #""scale":2.5"#)
    #expect(throws: ArchitectureError.self) { try Architecture(json: badScale) }  // not an integer
    let unknown = Self.classifier.replacingOccurrences(of: #""kind":"silu""#, with: #""kind":"gelu""#)
    #expect {
      try Architecture(json: unknown)
    } throws: { error in
      (error as? ArchitectureError)?.description.contains("upsample, sigmoid, silu, unflatten") == true
    }
  }
}

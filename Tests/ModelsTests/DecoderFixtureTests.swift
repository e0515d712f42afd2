import Checkpoints
import Engine
import Foundation
import Models
import Testing

/// A decoder-like chain built from `LayerSpec` JSON (so the metadata path is exercised) against
/// PyTorch: Fixtures/decoder, made by scripts/make-layer-fixtures.py from
///
///   fc Linear(6, 48) → unflatten (3,4,4) → up1 ×2 → conv1 3→3 3×3 p1 → silu → up2 ×2
///   → conv2 3→1 3×3 p1 → sigmoid;  (N,6) → (N,1,16,16), batch 3,
///
/// with the output, the input gradient and the parameter gradients of L = Σ output ⊙ R for a
/// fixed random R, computed by PyTorch in float64 from the stored float32 weights.
@Suite struct DecoderFixtureTests {
  static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures/decoder")

  /// The chain as it would appear in a checkpoint's layer list.
  static let layersJSON = """
    [{"kind":"linear","name":"fc","in":6,"out":48},
     {"kind":"unflatten","name":"unflatten","shape":[3,4,4]},
     {"kind":"upsample","name":"up1","scale":2},
     {"kind":"conv2d","name":"conv1","in":3,"out":3,"kernel":3,"padding":1},
     {"kind":"silu","name":"silu"},
     {"kind":"upsample","name":"up2","scale":2},
     {"kind":"conv2d","name":"conv2","in":3,"out":1,"kernel":3,"padding":1},
     {"kind":"sigmoid","name":"sigmoid"}]
    """

  /// Largest relative error allowed (max |ours − PyTorch| / max |PyTorch|): float32 rounding.
  static let tolerance = 1e-5

  static func tensor(_ file: SafetensorsFile, _ name: String) throws -> Tensor {
    let record = try file.tensor(name)
    return Tensor(shape: record.shape, scalars: try record.floats())
  }

  @Test func decoderMatchesPyTorch() throws {
    let specs = try JSONDecoder().decode([LayerSpec].self, from: Data(Self.layersJSON.utf8))
    let (outputShape, footprint) = try Architecture.validateChain(specs, input: [6])
    #expect(outputShape == [1, 16, 16])
    #expect(footprint.parameterCount == 6 * 48 + 48 + 3 * 3 * 9 + 3 + 3 * 9 + 1)
    #expect(footprint.largestActivationElements == 3 * 16 * 16)  // up2's output

    let layers = try Architecture.buildChain(specs, input: [6], seed: 0)
    let model = try SafetensorsFile(contentsOf: Self.directory.appendingPathComponent("model.safetensors"))
    try StateDict.load(model.tensors, into: layers)
    let reference = try SafetensorsFile(contentsOf: Self.directory.appendingPathComponent("reference.safetensors"))

    var x = try Self.tensor(reference, "input")
    for layer in layers { x = layer.forward(x, training: true) }
    let outputError = relativeError(x, try Self.tensor(reference, "output"))
    #expect(outputError < Self.tolerance, "output: relative error \(outputError)")

    var gradient = try Self.tensor(reference, "upstream")
    for layer in layers.reversed() { gradient = layer.backward(gradient, needs: BackwardNeeds()) }
    let inputError = relativeError(gradient, try Self.tensor(reference, "input_grad"))
    #expect(inputError < Self.tolerance, "input gradient: relative error \(inputError)")

    var worst = ("", 0.0)
    for layer in layers {
      for parameter in layer.parameters {
        let name = "\(layer.name).\(parameter.name)"
        let error = relativeError(parameter.gradient, try Self.tensor(reference, "grad.\(name)"))
        #expect(error < Self.tolerance, "\(name) gradient: relative error \(error)")
        if error > worst.1 { worst = (name, error) }
      }
    }
    print("decoder vs PyTorch: output \(outputError), input gradient \(inputError), worst parameter gradient \(worst)")
  }

  /// The same specs survive an encode/decode round trip with their new JSON keys.
  @Test func newFieldsRoundTripThroughJSON() throws {
    let specs = try JSONDecoder().decode([LayerSpec].self, from: Data(Self.layersJSON.utf8))
    #expect(specs[1].shape == [3, 4, 4] && specs[2].scale == 2)
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    let text = String(decoding: try encoder.encode([specs[1], specs[2]]), as: UTF8.self)
    #expect(
      text == #"[{"kind":"unflatten","name":"unflatten","shape":[3,4,4]},{"kind":"upsample","name":"up1","scale":2}]"#)
    #expect(try JSONDecoder().decode([LayerSpec].self, from: Data(text.utf8)) == [specs[1], specs[2]])
  }
}

/// Largest |a − b| relative to the largest |b| (so near-zero entries do not dominate).
func relativeError(_ a: Tensor, _ b: Tensor) -> Double {
  precondition(a.shape == b.shape, "compare \(a.shape) with \(b.shape)")
  var worst = 0.0
  var scale = 1e-12
  for i in 0..<a.count {
    worst = max(worst, Double(abs(a.scalars[i] - b.scalars[i])))
    scale = max(scale, Double(abs(b.scalars[i])))
  }
  return worst / scale
}

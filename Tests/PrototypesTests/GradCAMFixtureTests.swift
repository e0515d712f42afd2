import Engine
import Prototypes
import Testing

/// GradCAM, logits, activations and input gradients against PyTorch (`reference.safetensors`).
@Suite struct GradCAMFixtureTests {
  let fixture: Fixture
  init() throws { fixture = try Fixture() }

  @Test func logitsAndTargetActivationsMatchPyTorch() throws {
    let result = CAMPipeline(network: try fixture.network()).run(try fixture.tensor("images"), target: .predicted)
    #expect(relativeError(result.logits, try fixture.tensor("logits")) < 1e-5)
    #expect(relativeError(result.activations, try fixture.tensor("target_activations")) < 1e-5)
    let predicted = try fixture.labels("predicted")
    #expect(result.classes == predicted)
  }

  @Test func rawMapsForPredictedAndTrueClassMatchPyTorch() throws {
    let pipeline = CAMPipeline(network: try fixture.network())
    let images = try fixture.tensor("images")
    let predicted = pipeline.run(images, target: .predicted)
    #expect(relativeError(predicted.raw, try fixture.tensor("cam_predicted")) < 1e-5)
    let label = pipeline.run(images, target: .classes(try fixture.labels()))
    #expect(relativeError(label.raw, try fixture.tensor("cam_label")) < 1e-5)
  }

  @Test func upsampledMapMatchesPyTorchBilinear() throws {
    let pipeline = CAMPipeline(network: try fixture.network())
    let result = pipeline.run(try fixture.tensor("images"), target: .predicted)
    let up = result.upsampled(height: 28, width: 28)
    #expect(relativeError(up, try fixture.tensor("cam_predicted_upsampled")) < 1e-5)
  }

  /// Where two entries of a max-pool window differ only by rounding (< 1e-5 relative), which
  /// one wins depends on the order of float additions, and that window's gradient moves to
  /// another pixel. Images without such a window must agree to 1e-5; every image must point
  /// the same way as PyTorch's gradient (cosine > 0.999), and tie flips must stay rare.
  @Test func inputGradientOfTrueLogitMatchesPyTorch() throws {
    let network = try fixture.network()
    let images = try fixture.tensor("images")
    let gradient = CAMPipeline(network: network).inputGradient(images, target: .classes(try fixture.labels()))
    let expected = try fixture.tensor("input_grad_label_logit")
    var untied = 0
    var differing = 0
    for i in 0..<images.shape[0] {
      let error = relativeError(gradient.slice(i), expected.slice(i))
      differing += error > 1e-5 ? 1 : 0
      #expect(cosine(gradient.slice(i), expected.slice(i)) > 0.999, "image \(i)")
      if !maxPoolNearTie(network, images.slice(i).reshaped([1, 1, 28, 28])) {
        untied += 1
        #expect(error < 1e-5, "image \(i) has no near tie")
      }
    }
    #expect(untied >= 8, "too few images without near ties to compare exactly: \(untied)")
    #expect(differing <= 6, "\(differing) of 32 images differ beyond 1e-5")
  }

  private func cosine(_ a: Tensor, _ b: Tensor) -> Double {
    let dot = zip(a.scalars, b.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    let norms =
      a.scalars.reduce(0.0) { $0 + Double($1 * $1) }.squareRoot()
      * b.scalars.reduce(0.0) { $0 + Double($1 * $1) }.squareRoot()
    return dot / max(norms, 1e-30)
  }

  private func maxPoolNearTie(_ network: Network, _ image: Tensor) -> Bool {
    var x = image
    for layer in network.layers {
      if let pool = layer as? MaxPool2d, pool.hasNearTie(x, relativeGap: 1e-5) { return true }
      x = layer.forward(x, training: false)
    }
    return false
  }

  @Test func normalisedMapsAreInUnitRangeAndMassIsRawSum() throws {
    let result = CAMPipeline(network: try fixture.network()).run(try fixture.tensor("images"), target: .predicted)
    let normalized = result.normalized
    #expect(normalized.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
    let raw = try fixture.tensor("cam_predicted")
    let expected = raw.scalars[0..<49].reduce(0, +)
    #expect(abs(result.mass[0] - expected) <= 1e-5 * max(1, expected))
  }
}

/// The daemon's per-checkpoint GradCAM (true class) is the fixture's `cam_label`, normalised.
@Test func daemonObservationMatchesTheFixtureMaps() throws {
  let fixture = try Fixture()
  let (observation, features) = CheckpointObservation.observe(
    network: try fixture.network(), step: 1, images: try fixture.tensor("images"), labels: try fixture.labels(),
    faithfulnessSample: 2)
  let raw = try fixture.tensor("cam_label")
  #expect(features.shape == [32, 64, 7, 7])
  for i in 0..<32 {
    let map = Array(raw.scalars[(i * 49)..<((i + 1) * 49)])
    let top = map.max() ?? 0
    let expected = map.map { $0 / (top + 1e-8) }
    let mine = Array(observation.normalized[(i * 49)..<((i + 1) * 49)])
    #expect(zip(mine, expected).allSatisfy { abs($0 - $1) <= 1e-5 }, "image \(i)")
    #expect(abs(observation.mass[i] - map.reduce(0, +)) <= 1e-4 * max(1, map.reduce(0, +)))
  }
  #expect(observation.faithfulness.count == 4)
}

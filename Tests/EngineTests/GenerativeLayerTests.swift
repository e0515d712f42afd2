import Engine
import Foundation
import Testing

/// Finite-difference checks and hand-checkable cases for the layers a VAE decoder and a
/// diffusion noise predictor need: Upsample2d, Sigmoid, SiLU, Unflatten.
@Suite struct GenerativeLayerTests {
  let checker = GradientCheck()

  @Test(arguments: [1, 2, 3])
  func upsampleGradient(scale: Int) {
    checker.check(Upsample2d(name: "up", scale: scale), input: randomTensor([2, 3, 3, 4], seed: 21))
  }

  @Test func sigmoidGradient() {
    // Spread over [−4, 4) so both tails and the steep middle are exercised.
    var input = randomTensor([2, 3, 4, 4], seed: 22)
    for i in 0..<input.count { input.scalars[i] *= 4 }
    checker.check(Sigmoid(name: "sigmoid"), input: input)
  }

  @Test func siluGradient() {
    var input = randomTensor([2, 3, 4, 4], seed: 23)
    for i in 0..<input.count { input.scalars[i] *= 4 }
    checker.check(SiLU(name: "silu"), input: input)
  }

  @Test func unflattenGradient() {
    checker.check(Unflatten(name: "unflatten", shape: [3, 2, 2]), input: randomTensor([2, 12], seed: 24))
  }

  /// in (1,1,2,2) = [[1,2],[3,4]] ×2 → every pixel a 2×2 block. With ∂out = 0…15 (row-major
  /// 4×4), ∂in sums each block: (0,0) 0+1+4+5 = 10, (0,1) 2+3+6+7 = 18, (1,0) 8+9+12+13 = 42,
  /// (1,1) 10+11+14+15 = 50.
  @Test func upsampleByTwoByHand() {
    let layer = Upsample2d(name: "up", scale: 2)
    let output = layer.forward(Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 4]), training: false)
    #expect(output.shape == [1, 1, 4, 4])
    #expect(output.scalars == [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
    let gradient = layer.backward(
      Tensor(shape: [1, 1, 4, 4], scalars: (0..<16).map(Float.init)), needs: BackwardNeeds())
    #expect(gradient.shape == [1, 1, 2, 2])
    #expect(gradient.scalars == [10, 18, 42, 50])
  }

  /// Planes stay apart: in (2,2,1,1) = [1,2,3,4] ×3 → four constant 3×3 planes.
  @Test func upsampleKeepsPlanesApart() {
    let layer = Upsample2d(name: "up", scale: 3)
    let output = layer.forward(Tensor(shape: [2, 2, 1, 1], scalars: [1, 2, 3, 4]), training: false)
    #expect(output.shape == [2, 2, 3, 3])
    #expect(output.scalars == [1, 2, 3, 4].flatMap { [Float](repeating: $0, count: 9) })
    #expect(layer.outputShape(for: [2, 2, 5, 7]) == [2, 2, 15, 21])
    #expect(layer.outputShape(for: [2, 10]) == nil)
    #expect(layer.outputShape(for: [1, 1, 1, Int.max / 2]) == nil)  // overflow is refused, not trapped
  }

  /// σ(0) = 1/2, σ(ln 3) = 1/(1 + 1/3) = 3/4, σ(−ln 3) = 1/4; ∂σ = σ(1 − σ): 1/4, 3/16, 3/16.
  /// ±100 saturate to exactly 1 and 0 (no inf/inf), with zero gradient.
  @Test func sigmoidByHand() {
    let layer = Sigmoid(name: "sigmoid")
    let ln3 = Float(log(3.0))
    let output = layer.forward(Tensor(shape: [1, 5], scalars: [0, ln3, -ln3, 100, -100]), training: false)
    let expected: [Float] = [0.5, 0.75, 0.25, 1, 0]
    for (got, want) in zip(output.scalars, expected) { #expect(abs(got - want) < 1e-6) }
    let gradient = layer.backward(Tensor(shape: [1, 5], repeating: 1), needs: BackwardNeeds())
    let slopes: [Float] = [0.25, 0.1875, 0.1875, 0, 0]
    for (got, want) in zip(gradient.scalars, slopes) { #expect(abs(got - want) < 1e-6) }
  }

  /// SiLU(x) = x·σ(x): 0 → 0, ln 3 → ln 3 · 3/4, −ln 3 → −ln 3 · 1/4, −100 → −0 (not NaN).
  /// ∂ = σ(x)(1 + x(1 − σ(x))): at 0 it is 1/2; at ln 3, 3/4 · (1 + ln 3/4); at −ln 3,
  /// 1/4 · (1 − 3 ln 3/4).
  @Test func siluByHand() {
    let layer = SiLU(name: "silu")
    let ln3 = Float(log(3.0))
    let output = layer.forward(Tensor(shape: [4], scalars: [0, ln3, -ln3, -100]), training: false)
    let expected: [Float] = [0, ln3 * 0.75, -ln3 * 0.25, 0]
    for (got, want) in zip(output.scalars, expected) { #expect(abs(got - want) < 1e-6) }
    let gradient = layer.backward(Tensor(shape: [4], repeating: 1), needs: BackwardNeeds())
    let slopes: [Float] = [0.5, 0.75 * (1 + ln3 * 0.25), 0.25 * (1 - ln3 * 0.75), 0]
    for (got, want) in zip(gradient.scalars, slopes) { #expect(abs(got - want) < 1e-6) }
  }

  /// (2, 12) → (2, 3, 2, 2) keeps the row-major order, so the scalars are unchanged; backward
  /// gives back (2, 12).
  @Test func unflattenByHand() {
    let layer = Unflatten(name: "unflatten", shape: [3, 2, 2])
    let input = Tensor(shape: [2, 12], scalars: (0..<24).map(Float.init))
    let output = layer.forward(input, training: false)
    #expect(output.shape == [2, 3, 2, 2] && output.scalars == input.scalars)
    #expect(layer.backward(output, needs: BackwardNeeds()) == input)
    #expect(layer.outputShape(for: [5, 12]) == [5, 3, 2, 2])
    #expect(layer.outputShape(for: [5, 13]) == nil)
    #expect(layer.outputShape(for: [5, 3, 4]) == nil)
  }

  @Test func parameterFreeLayersSkipTheInputGradientWhenNotNeeded() {
    let none = BackwardNeeds(inputGradient: false, parameterGradients: true)
    let image = randomTensor([1, 2, 2, 2], seed: 25)
    let layers: [any Layer] = [Upsample2d(name: "up", scale: 2), Sigmoid(name: "s"), SiLU(name: "silu")]
    for layer in layers {
      let output = layer.forward(image, training: true)
      #expect(layer.backward(output, needs: none).count == 0)
    }
    let unflatten = Unflatten(name: "u", shape: [2, 2, 2])
    let output = unflatten.forward(image.reshaped([1, 8]), training: true)
    #expect(unflatten.backward(output, needs: none).count == 0)
  }
}

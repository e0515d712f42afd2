import Engine
import Foundation
import Models
import Prototypes
import Testing

@Suite struct RidgeAndFaithfulnessTests {
  /// y₀ = 2·x₀ − x₁ + small noise, y₁ unrelated noise: the fit recovers the signs and
  /// relative sizes, CV R² is high for y₀, and the permutation null stays near or below 0.
  @Test func ridgeRecoversACouplingAndBeatsItsNull() {
    var g = SplitMix64(seed: 6)
    func u() -> Double { Double(g.next() >> 11) / Double(1 << 53) - 0.5 }
    let n = 200
    var x: [Double] = []
    var y: [Double] = []
    for _ in 0..<n {
      let (a, b, c) = (u(), u(), u())
      x += [a, b, c]
      y += [2 * a - b + 0.01 * u()]
    }
    let fit = RidgeCoupling(x: x, y: y, rows: n, predictors: 3, targets: 1, seed: 1)
    #expect(fit.crossValidatedR2 > 0.95)
    #expect(fit.beta[0] > 0 && fit.beta[1] < 0 && abs(fit.beta[2]) < 0.05)
    #expect(abs(fit.beta[0] / fit.beta[1] + 2) < 0.1)
    let null = fit.permutationNull(x: x, y: y, rows: n, permutations: 20, seed: 2)
    #expect(null.count == 20)
    #expect((null.sorted()[18]) < 0.2)
  }

  /// On pure noise the coupling beats its null's 95th percentile (rank 48 of 50
  /// permutations) at the design rate 3/51 ≈ 5.9%: 300 seeded trials of n = 200 rows, p = 5
  /// predictors, q = 2 targets. The rate must lie in the 99% binomial interval around 5.9%,
  /// ±2.58·√(0.059·0.941/300) ≈ ±3.5 points. (Before the null shared the fit's folds and
  /// folds were centred on their training rows, the rate was 11–16%.)
  @Test func permutationNullHasItsDesignFalsePositiveRateOnNoise() {
    let trials = 300
    var exceeded = 0
    for trial in 0..<trials {
      var g = SplitMix64(seed: 1000 + UInt64(trial))
      func u() -> Double { Double(g.next() >> 11) / Double(1 << 53) - 0.5 }
      let n = 200
      let x = (0..<(n * 5)).map { _ in u() }
      let y = (0..<(n * 2)).map { _ in u() }
      let fit = RidgeCoupling(x: x, y: y, rows: n, predictors: 5, targets: 2, seed: UInt64(trial))
      let null = fit.permutationNull(x: x, y: y, rows: n, permutations: 50, seed: UInt64(trial)).sorted()
      if fit.crossValidatedR2 > null[47] { exceeded += 1 }
    }
    let rate = Double(exceeded) / Double(trials)
    let design = 3.0 / 51
    let halfWidth = 2.58 * (design * (1 - design) / Double(trials)).squareRoot()
    #expect(abs(rate - design) <= halfWidth, "false-positive rate \(rate) (\(exceeded)/\(trials))")
  }

  /// With λ = 0 and one standardised predictor, β equals the correlation coefficient.
  @Test func ridgeWithoutPenaltyIsLeastSquares() {
    let x: [Double] = [1, 2, 3, 4]
    let y: [Double] = [2, 4, 6, 8.0]
    let b = RidgeCoupling.coefficients(x: x, y: y, rows: [0, 1, 2, 3], predictors: 1, targets: 1, lambda: 0)
    #expect(abs(b[0] - 1) < 1e-12)
  }

  @Test func areaUnderEquallySpacedCurve() {
    #expect(Faithfulness.area([1, 1, 1]) == 1)
    #expect(abs(Faithfulness.area([1, 0]) - 0.5) < 1e-12)
    #expect(abs(Faithfulness.area([0, 1, 0]) - 0.5) < 1e-12)
  }

  @Test func blurPreservesConstantsAndSpreadsAPoint() {
    let constant = Tensor(shape: [1, 9, 9], repeating: 0.3)
    #expect(GaussianBlur.apply(constant, sigma: 2).scalars.allSatisfy { abs($0 - 0.3) < 1e-6 })
    var point = Tensor(shape: [1, 21, 21])
    point.scalars[10 * 21 + 10] = 1
    let blurred = GaussianBlur.apply(point, sigma: 2)
    #expect(abs(blurred.scalars.reduce(0, +) - 1) < 1e-4)
    #expect(blurred.scalars[10 * 21 + 10] < 0.05 && blurred.scalars[10 * 21 + 12] > 0.01)
  }

  /// A model whose class-0 logit is the brightness of the top-left quadrant: deleting in the
  /// order of a map that marks that quadrant drops p₀ faster than deleting in reverse order.
  @Test func deletionRewardsTheRightMap() throws {
    let json = """
      {"format":"i2x.architecture/1","name":"probe","input":[1,8,8],"classes":2,"target":"conv",
       "layers":[{"kind":"conv2d","name":"conv","in":1,"out":1,"kernel":1},{"kind":"gap","name":"gap"},
                 {"kind":"linear","name":"fc","in":1,"out":2}]}
      """
    let network = try Architecture(json: json).build(seed: 1)
    network.parameters[0].value = Tensor(shape: [1, 1, 1, 1], scalars: [1])
    network.parameters[1].value = Tensor(shape: [1], scalars: [0])
    network.parameters[2].value = Tensor(shape: [2, 1], scalars: [20, -20])
    network.parameters[3].value = Tensor(shape: [2], scalars: [0, 0])
    let image = Tensor(shape: [1, 8, 8], scalars: (0..<64).map { ($0 / 8 < 4 && $0 % 8 < 4) ? 1 : 0 })
    let good = (0..<64).map { Float(($0 / 8 < 4 && $0 % 8 < 4) ? 1 : 0) }
    let bad = good.map { 1 - $0 }
    let metric = Faithfulness(pixelsPerStep: 8)
    let right = metric.areas(network: network, image: image, saliency: good, target: 0)
    let wrong = metric.areas(network: network, image: image, saliency: bad, target: 0)
    #expect(right.deletion < wrong.deletion)
    #expect(right.insertion > wrong.insertion)
  }

  /// The batched path (every curve of every case forwarded together, in chunks that cut
  /// through curves) gives the per-case numbers.
  @Test func batchedAreasMatchOneForwardPerCurve() throws {
    let network = try #require(Architecture.reference("smallcnn")).build(seed: 3)
    var generator = SplitMix64(seed: 9)
    let cases = (0..<5).map { index in
      Faithfulness.Case(
        image: Tensor(
          shape: [1, 28, 28], scalars: (0..<784).map { _ in Float(generator.next() >> 40) / Float(1 << 24) }),
        saliency: (0..<784).map { _ in Float(generator.next() >> 40) }, target: index % 10)
    }
    let metric = Faithfulness(pixelsPerStep: 28)
    let batched = metric.areas(network: network, cases: cases, batchImages: 7)
    #expect(batched.count == cases.count)
    for (item, result) in zip(cases, batched) {
      let single = metric.areas(network: network, image: item.image, saliency: item.saliency, target: item.target)
      #expect(abs(single.deletion - result.deletion) < 1e-6)
      #expect(abs(single.insertion - result.insertion) < 1e-6)
    }
  }
}

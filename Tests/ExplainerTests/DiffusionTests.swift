import Engine
import Foundation
import Testing

@testable import Explainer

@Suite struct NoiseScheduleTests {
  /// Π_{i≤t}(1 − β_i) telescopes to ᾱ(t+1)/ᾱ(0) wherever β is not clipped at 0.999, so the
  /// cumulative product must equal the closed form there (an independent computation).
  @Test func cumulativeProductEqualsTheClosedForm() {
    let schedule = NoiseSchedule(cosineSteps: 1000)
    func f(_ u: Double) -> Double {
      let angle = (u / 1000 + 0.008) / 1.008 * Double.pi / 2
      return cos(angle) * cos(angle)
    }
    for t in [0, 1, 10, 250, 500, 900, 980] {
      #expect(abs(schedule.alphaBar[t] - f(Double(t + 1)) / f(0)) < 1e-12, "t = \(t)")
    }
    #expect(zip(schedule.alphaBar, schedule.alphaBar.dropFirst()).allSatisfy { $0 > $1 })
    #expect(schedule.alphaBar[0] > 0.9999 && schedule.alphaBar[999] < 1e-4)
  }

  @Test func ddimStepsAreLeadingSpaced() {
    let steps = NoiseSchedule(cosineSteps: 1000).samplingSteps(50)
    #expect(steps.count == 50 && steps.first == 980 && steps.last == 0)
    #expect(zip(steps, steps.dropFirst()).allSatisfy { $0 - $1 == 20 })
  }

  @Test func timeEmbeddingIsSineThenCosine() {
    let e = TimeEmbedding.embedding(3, width: 4)
    // ω = [1, 10000^(-1/2)] = [1, 0.01].
    #expect(abs(e[0] - Float(sin(3.0))) < 1e-6 && abs(e[1] - Float(sin(0.03))) < 1e-6)
    #expect(abs(e[2] - Float(cos(3.0))) < 1e-6 && abs(e[3] - Float(cos(0.03))) < 1e-6)
  }
}

@Suite struct SamplerTests {
  /// With a noise predictor that always says ε = 0, each DDIM step maps z to
  /// √ᾱ_prev · z / √ᾱ_t, so 50 steps telescope to z_T / √ᾱ_980 (ᾱ = 1 after the last step).
  @Test func zeroNoisePredictorTelescopes() throws {
    let prior = try TinyPrior.prior()
    for parameter in prior.denoiser.parameters { parameter.value = Tensor(shape: parameter.value.shape) }
    var random = SplitMix64(seed: 5)
    let start = Tensor.normal(shape: [3, prior.latent], using: &random)
    let end = DDIMSampler(prior: prior).denoise(start, guidance: nil)
    let factor = 1 / prior.schedule.alphaBar[980].squareRoot()
    for (a, b) in zip(start.scalars, end.scalars) {
      #expect(abs(Double(b) - Double(a) * factor) < 1e-3 * max(1, abs(Double(a) * factor)))
    }
  }

  /// The guidance gradient ∇_{z_t} Σ_i log p_f(c | Dec(ẑ_0(z_t))) through the classifier, the
  /// decoder and the noise predictor, against central differences of that function. The
  /// network runs in Float32 and has ReLU kinks, so the tolerance is 3% of the largest
  /// component; leaving out the noise predictor's Jacobian (a plausible bug) must fail it.
  @Test func guidanceGradientMatchesFiniteDifferences() throws {
    let prior = try TinyPrior.prior()
    // Give the latent standardisation something to do.
    prior.latentMean = (0..<prior.latent).map { Float($0) * 0.05 - 0.3 }
    prior.latentStd = (0..<prior.latent).map { 0.5 + Float($0) * 0.05 }
    // A noise predictor whose Jacobian matters: larger weights than the default init.
    for parameter in prior.denoiser.parameters {
      parameter.value = Tensor(shape: parameter.value.shape, scalars: parameter.value.scalars.map { $0 * 3 })
    }
    let classifier = try TinyPrior.classifier(seed: 9)
    let sampler = DDIMSampler(prior: prior)
    let guidance = Guidance(classifier: classifier, target: 1, scale: 1)
    let t = 400
    let alpha = prior.schedule.alphaBar[t]
    var random = SplitMix64(seed: 6)
    let z = Tensor.normal(shape: [1, prior.latent], using: &random)
    func objective(_ z: Tensor) -> Double {
      let epsilon = prior.predictNoise(z, t: t)
      let a = Float(alpha.squareRoot())
      let s = Float((1 - alpha).squareRoot())
      let x0 = Tensor(shape: z.shape, scalars: zip(z.scalars, epsilon.scalars).map { ($0 - s * $1) / a })
      let logits = classifier.forward(prior.decode(x0), training: false).logits
      return log(Double(SoftmaxCrossEntropy.softmax(logits).scalars[1]))
    }
    var numeric: [Double] = []
    let h: Float = 1e-2
    for i in 0..<z.count {
      var plus = z
      var minus = z
      plus.scalars[i] += h
      minus.scalars[i] -= h
      numeric.append((objective(plus) - objective(minus)) / Double(2 * h))
    }
    func error(throughNoise: Bool) -> Double {
      let epsilon = prior.predictNoise(z, t: t)
      let analytic = sampler.logProbabilityGradient(
        z, epsilon: epsilon, alpha: alpha, guidance: guidance, throughNoise: throughNoise)
      let worst = zip(numeric, analytic.scalars).map { abs($0 - Double($1)) }.max() ?? 0
      return worst / (numeric.map(abs).max() ?? 1)
    }
    #expect((numeric.map(abs).max() ?? 0) > 1e-3, "the objective must depend on z for the check to mean anything")
    #expect(error(throughNoise: true) < 0.03, "relative error \(error(throughNoise: true))")
    #expect(error(throughNoise: false) > 0.3, "without the Jacobian: \(error(throughNoise: false))")
  }
}

@Suite struct GeneratorTrainingTests {
  /// Two bright squares at fixed places: the VAE must learn to reconstruct them better than at
  /// initialisation, and the noise predictor must beat the trivial ε̂ = 0 (MSE 1).
  @Test func bothStagesLearn() throws {
    let prior = try TinyPrior.prior()
    var images = [Float](repeating: 0, count: 64 * 64)
    for i in 0..<64 {
      let corner = i % 2 == 0 ? (1, 1) : (4, 4)
      for y in 0..<3 { for x in 0..<3 { images[i * 64 + (corner.0 + y) * 8 + corner.1 + x] = 1 } }
    }
    let tensor = Tensor(shape: [64, 1, 8, 8], scalars: images)
    var settings = GeneratorTraining.Settings()
    settings.vaeEpochs = 40
    settings.vaeBatch = 16
    settings.denoiserSteps = 1500
    settings.denoiserBatch = 64
    var lines: [String] = []
    let outcome = GeneratorTraining(prior: prior, settings: settings, log: { lines.append($0) }).run(images: tensor)
    let first = Double(lines.first { $0.hasPrefix("vae epoch 1/") }?.split(separator: " ")[4] ?? "0") ?? 0
    #expect(outcome.vaeLoss < first * 0.6, "VAE loss \(outcome.vaeLoss) against \(first) after one epoch")
    #expect(outcome.denoiserLoss < 0.8, "denoiser MSE \(outcome.denoiserLoss)")
    #expect(prior.latentStd.allSatisfy { $0 > 0 })
    #expect(prior.description.training["vae_epochs"] == 40)
  }
}

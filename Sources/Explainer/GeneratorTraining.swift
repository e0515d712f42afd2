import Engine
import Foundation
import Prototypes

/// Trains a `GenerativePrior` in two stages (DESIGN §8): the VAE on images, then the latent
/// DDPM noise predictor on the standardised posterior means of the same images.
public struct GeneratorTraining {
  /// Settings of both stages.
  public struct Settings: Sendable, Equatable {
    /// VAE epochs over the split.
    public var vaeEpochs = 30
    /// VAE batch size.
    public var vaeBatch = 128
    /// VAE Adam learning rate.
    public var vaeLearningRate: Float = 2e-3
    /// Noise-predictor optimiser steps.
    public var denoiserSteps = 20_000
    /// Noise-predictor batch size.
    public var denoiserBatch = 256
    /// Noise-predictor Adam learning rate (divided by 10 for the last fifth of the steps).
    public var denoiserLearningRate: Float = 1e-3
    /// Concepts in the codebook (k-means of the latent means).
    public var concepts = 64
    /// Creates the defaults.
    public init() {}
  }

  /// What training measured.
  public struct Outcome: Sendable, Equatable {
    /// Mean VAE loss per image (BCE summed over pixels + KL) in the last epoch.
    public var vaeLoss: Double
    /// Mean KL per image in the last epoch.
    public var vaeKL: Double
    /// Mean noise-prediction MSE over the last 500 steps.
    public var denoiserLoss: Double
    /// Seconds spent in each stage.
    public var vaeSeconds: Double, denoiserSeconds: Double
    /// Images per second of VAE training.
    public var vaeImagesPerSecond: Double
  }

  /// The prior being trained.
  public let prior: GenerativePrior
  /// Settings.
  public var settings: Settings
  /// Progress lines (stderr in the tools).
  public var log: (String) -> Void

  /// Creates a trainer for a freshly initialised prior.
  public init(prior: GenerativePrior, settings: Settings, log: @escaping (String) -> Void) {
    self.prior = prior
    self.settings = settings
    self.log = log
  }

  /// Trains both stages on `images` ((N,C,H,W) in [0,1]) and records the outcome in the
  /// prior's description.
  public func run(images: Tensor) -> Outcome {
    var random = SplitMix64(seed: prior.description.seed ^ 0x6E4E_8A70)
    let clock = ContinuousClock()
    let vaeStart = clock.now
    let (loss, kl) = trainVAE(images, random: &random)
    let vaeSeconds = seconds(clock.now - vaeStart)
    standardiseLatents(images)
    fitConcepts(images)
    let denoiserStart = clock.now
    let denoiserLoss = trainDenoiser(images: images, random: &random)
    let denoiserSeconds = seconds(clock.now - denoiserStart)
    let n = images.shape[0]
    let outcome = Outcome(
      vaeLoss: loss, vaeKL: kl, denoiserLoss: denoiserLoss, vaeSeconds: vaeSeconds, denoiserSeconds: denoiserSeconds,
      vaeImagesPerSecond: Double(n * settings.vaeEpochs) / max(vaeSeconds, 1e-9))
    prior.description.training = [
      "vae_epochs": Double(settings.vaeEpochs), "vae_batch": Double(settings.vaeBatch),
      "vae_learning_rate": Double(settings.vaeLearningRate), "vae_loss": loss, "vae_kl": kl,
      "denoiser_steps": Double(settings.denoiserSteps), "denoiser_batch": Double(settings.denoiserBatch),
      "denoiser_learning_rate": Double(settings.denoiserLearningRate), "denoiser_loss": denoiserLoss,
      "vae_seconds": vaeSeconds, "denoiser_seconds": denoiserSeconds, "images": Double(n),
    ]
    return outcome
  }

  private func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
  }

  /// Stage 1: the VAE, loss per image `Σ_pixels BCE(x, σ(Dec(z))) + KL(q(z|x) ‖ N(0,I))` with
  /// `z = μ + e^{lv/2} ε` (reparameterisation). Returns the last epoch's mean loss and KL.
  func trainVAE(_ images: Tensor, random: inout SplitMix64) -> (Double, Double) {
    let n = images.shape[0]
    let size = images.count / n
    let latent = prior.latent
    let optimizer = Optimizer(
      rule: Adam(learningRate: settings.vaeLearningRate),
      parameters: prior.encoder.parameters + prior.decoder.parameters)
    var last = (0.0, 0.0)
    for epoch in 1...max(1, settings.vaeEpochs) {
      let order = Array(0..<n).shuffled(using: &random)
      var totalLoss = 0.0
      var totalKL = 0.0
      var start = 0
      while start < n {
        let batch = Array(order[start..<min(n, start + settings.vaeBatch)])
        start += batch.count
        let b = batch.count
        let x = Tensor(shape: [b] + prior.image) { p in
          images.withPointer { s in
            for (row, index) in batch.enumerated() { (p + row * size).update(from: s + index * size, count: size) }
          }
        }
        // enc (B,2L) → μ, lv; z = μ + e^{lv/2} ε.
        let encoded = prior.encoder.forward(x, training: true)
        let noise = Tensor.normal(shape: [b, latent], using: &random)
        var z = Tensor(shape: [b, latent])
        var kl = 0.0
        encoded.withPointer { e in
          noise.withPointer { eps in
            z.withMutablePointer { zp in
              for i in 0..<b {
                for k in 0..<latent {
                  let mu = e[i * 2 * latent + k]
                  let lv = min(max(e[i * 2 * latent + latent + k], -12), 12)
                  zp[i * latent + k] = mu + exp(0.5 * lv) * eps[i * latent + k]
                  kl += 0.5 * Double(mu * mu + exp(lv) - 1 - lv)
                }
              }
            }
          }
        }
        let logits = prior.decoder.forward(z, training: true)
        // BCE with logits: loss = softplus(l) − x·l; ∂/∂l = σ(l) − x. Mean over the batch.
        var bce = 0.0
        let gradLogits = Tensor(shape: logits.shape) { g in
          logits.withPointer { l in
            x.withPointer { target in
              for i in 0..<(b * size) {
                let value = l[i]
                let t = target[i]
                bce += Double(max(value, 0) - value * t + log1p(exp(-abs(value))))
                g[i] = (1 / (1 + exp(-value)) - t) / Float(b)
              }
            }
          }
        }
        let gradZ = prior.decoder.backward(gradLogits, parameterGradients: true)
        let gradEncoded = Tensor(shape: encoded.shape) { g in
          encoded.withPointer { e in
            noise.withPointer { eps in
              gradZ.withPointer { gz in
                for i in 0..<b {
                  for k in 0..<latent {
                    let mu = e[i * 2 * latent + k]
                    let rawLV = e[i * 2 * latent + latent + k]
                    let lv = min(max(rawLV, -12), 12)
                    let gzk = gz[i * latent + k]
                    g[i * 2 * latent + k] = gzk + mu / Float(b)
                    let inside: Float = rawLV == lv ? 1 : 0
                    g[i * 2 * latent + latent + k] =
                      inside * (gzk * eps[i * latent + k] * 0.5 * exp(0.5 * lv) + 0.5 * (exp(lv) - 1) / Float(b))
                  }
                }
              }
            }
          }
        }
        prior.encoder.backward(gradEncoded, parameterGradients: true, inputGradient: false)
        optimizer.step()
        totalLoss += bce + kl
        totalKL += kl
      }
      last = (totalLoss / Double(n), totalKL / Double(n))
      log(String(format: "vae epoch %d/%d: loss %.2f per image (KL %.2f)", epoch, settings.vaeEpochs, last.0, last.1))
    }
    return last
  }

  /// Sets the latent standardisation from the posterior means of `images`.
  func standardiseLatents(_ images: Tensor) {
    let means = encodeAll(images)
    let latent = prior.latent
    let n = means.count / latent
    var mean = [Double](repeating: 0, count: latent)
    var square = mean
    for i in 0..<n {
      for k in 0..<latent {
        let v = Double(means[i * latent + k])
        mean[k] += v
        square[k] += v * v
      }
    }
    prior.latentMean = mean.map { Float($0 / Double(n)) }
    prior.latentStd = (0..<latent).map { k in
      let m = mean[k] / Double(n)
      return Float(max(square[k] / Double(n) - m * m, 1e-8).squareRoot())
    }
  }

  /// The concept codebook: k-means (k-means++, 3 restarts) of the standardised latent means,
  /// `settings.concepts` centres (fewer when the split is smaller).
  public func fitConcepts(_ images: Tensor) {
    let latent = prior.latent
    let raw = encodeAll(images)
    let n = raw.count / latent
    let points = (0..<raw.count).map {
      Double((raw[$0] - prior.latentMean[$0 % latent]) / prior.latentStd[$0 % latent])
    }
    let k = min(settings.concepts, n)
    guard k >= 1 else { return }
    let fit = KMeans(fitting: points, rows: n, columns: latent, clusters: k, restarts: 3, seed: prior.description.seed)
    prior.concepts = fit.centres.map(Float.init)
  }

  /// Raw posterior means of all images, (N·L) row-major, in batches.
  func encodeAll(_ images: Tensor) -> [Float] {
    let n = images.shape[0]
    let size = images.count / n
    var out: [Float] = []
    out.reserveCapacity(n * prior.latent)
    var start = 0
    while start < n {
      let b = min(256, n - start)
      let x = Tensor(shape: [b] + prior.image) { p in
        images.withPointer { s in p.update(from: s + start * size, count: b * size) }
      }
      out += prior.encodeMeans(x).scalars
      start += b
    }
    return out
  }

  /// Stage 2: the noise predictor, `E‖ε − ε_θ(√ᾱ_t z_0 + √(1−ᾱ_t) ε, t)‖²` with t uniform.
  /// Returns the mean loss over the last 500 steps.
  func trainDenoiser(images: Tensor, random: inout SplitMix64) -> Double {
    let latent = prior.latent
    let embedding = prior.description.timeEmbedding
    let width = latent + embedding
    let raw = encodeAll(images)
    let n = raw.count / latent
    let z0 = (0..<(n * latent)).map { (raw[$0] - prior.latentMean[$0 % latent]) / prior.latentStd[$0 % latent] }
    let steps = max(1, settings.denoiserSteps)
    let b = settings.denoiserBatch
    let optimizer = Optimizer(
      rule: Adam(learningRate: settings.denoiserLearningRate), parameters: prior.denoiser.parameters)
    let alphaBar = prior.schedule.alphaBar
    var recent: [Double] = []
    for step in 1...steps {
      if step == steps * 4 / 5 + 1 {
        optimizer.rule = Adam(learningRate: settings.denoiserLearningRate / 10)
      }
      let noise = Tensor.normal(shape: [b, latent], using: &random)
      var input = Tensor(shape: [b, width])
      input.withMutablePointer { x in
        noise.withPointer { eps in
          for i in 0..<b {
            let index = Int(random.next() % UInt64(n))
            let t = Int(random.next() % UInt64(prior.schedule.steps))
            let a = Float(alphaBar[t].squareRoot())
            let s = Float((1 - alphaBar[t]).squareRoot())
            for k in 0..<latent { x[i * width + k] = a * z0[index * latent + k] + s * eps[i * latent + k] }
            TimeEmbedding.write(t, width: embedding, into: x + i * width + latent)
          }
        }
      }
      let predicted = prior.denoiser.forward(input, training: true)
      var loss = 0.0
      let grad = Tensor(shape: predicted.shape) { g in
        predicted.withPointer { p in
          noise.withPointer { eps in
            for i in 0..<(b * latent) {
              let d = p[i] - eps[i]
              loss += Double(d * d)
              g[i] = 2 * d / Float(b * latent)
            }
          }
        }
      }
      prior.denoiser.backward(grad, parameterGradients: true, inputGradient: false)
      optimizer.step()
      recent.append(loss / Double(b * latent))
      if recent.count > 500 { recent.removeFirst() }
      if step % 2000 == 0 || step == steps {
        log(String(format: "denoiser step %d/%d: mse %.4f", step, steps, recent.reduce(0, +) / Double(recent.count)))
      }
    }
    return recent.reduce(0, +) / Double(max(1, recent.count))
  }
}

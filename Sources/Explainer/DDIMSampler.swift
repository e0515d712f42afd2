import Engine
import Foundation

/// Classifier guidance through the decoder (DESIGN §8): at steps with `t ≤ fraction · T`,
/// `ε̂ = ε_θ(z_t,t) − s·√(1−ᾱ_t)·∇_{z_t} log p_f(c | Dec(ẑ_0(z_t)))` with
/// `ẑ_0 = (z_t − √(1−ᾱ_t) ε_θ(z_t,t)) / √ᾱ_t`; the gradient runs through the classifier, the
/// decoder and the noise predictor.
public struct Guidance {
  /// The classifier being explained (evaluation mode; its parameters are not touched).
  public var classifier: Network
  /// The target class c.
  public var target: Int
  /// The scale s.
  public var scale: Double
  /// Guidance is on for t ≤ fraction · T (0.6 by default).
  public var fraction: Double

  /// Creates guidance settings.
  public init(classifier: Network, target: Int, scale: Double, fraction: Double = 0.6) {
    self.classifier = classifier
    self.target = target
    self.scale = scale
    self.fraction = fraction
  }
}

/// DDIM sampling (Song et al. 2021, η = 0) in the prior's latent space:
/// `z_{t'} = √ᾱ_{t'} ẑ_0 + √(1−ᾱ_{t'}) ε̂`, over `NoiseSchedule.samplingSteps`.
public struct DDIMSampler {
  /// The prior.
  public let prior: GenerativePrior
  /// Number of DDIM steps (50).
  public var steps: Int
  /// Samples per batch (bounds memory).
  public var batch: Int

  /// Creates a sampler.
  public init(prior: GenerativePrior, steps: Int = 50, batch: Int = 100) {
    self.prior = prior
    self.steps = steps
    self.batch = batch
  }

  /// `count` samples from the seed's starting noise, guided or not.
  /// - Returns: standardised latents (N,L) and images (N,C,H,W) in [0,1].
  public func sample(count: Int, seed: UInt64, guidance: Guidance? = nil) -> (latents: Tensor, images: Tensor) {
    var random = SplitMix64(seed: seed)
    let start = Tensor.normal(shape: [count, prior.latent], using: &random)
    var latents: [Float] = []
    var images: [Float] = []
    var offset = 0
    while offset < count {
      let b = min(batch, count - offset)
      let z = Tensor(
        shape: [b, prior.latent], scalars: Array(start.scalars[(offset * prior.latent)..<((offset + b) * prior.latent)])
      )
      let final = denoise(z, guidance: guidance)
      latents += final.scalars
      images += prior.decode(final).scalars
      offset += b
    }
    return (
      Tensor(shape: [count, prior.latent], scalars: latents), Tensor(shape: [count] + prior.image, scalars: images)
    )
  }

  /// Runs the DDIM chain from z_T (N,L) to z_0.
  public func denoise(_ start: Tensor, guidance: Guidance?) -> Tensor {
    var z = start
    let timesteps = prior.schedule.samplingSteps(steps)
    let ratio = prior.schedule.steps / steps
    for t in timesteps {
      let alpha = prior.schedule.alphaBar(at: t)
      let previous = prior.schedule.alphaBar(at: t - ratio)
      var epsilon = prior.predictNoise(z, t: t)
      if let guidance, Double(t) <= guidance.fraction * Double(prior.schedule.steps) {
        let gradient = logProbabilityGradient(z, epsilon: epsilon, alpha: alpha, guidance: guidance)
        let factor = Float(guidance.scale * (1 - alpha).squareRoot())
        let count = epsilon.count
        epsilon.withMutablePointer { e in
          gradient.withPointer { g in for i in 0..<count { e[i] -= factor * g[i] } }
        }
      }
      let a = Float(alpha.squareRoot())
      let s = Float((1 - alpha).squareRoot())
      let ap = Float(previous.squareRoot())
      let sp = Float((1 - previous).squareRoot())
      let count = z.count
      z.withMutablePointer { zp in
        epsilon.withPointer { e in
          for i in 0..<count {
            let x0 = (zp[i] - s * e[i]) / a
            zp[i] = ap * x0 + sp * e[i]
          }
        }
      }
    }
    return z
  }

  /// `∇_{z_t} Σ_i log p_f(c | Dec(ẑ_0(z_t,i)))` for each row of z_t (N,L), given ε = ε_θ(z_t,t)
  /// just computed (its forward cache is used for the noise predictor's Jacobian).
  /// - Parameter throughNoise: include the noise predictor's Jacobian (off only in the test
  ///   that shows the gradient check can tell the difference).
  public func logProbabilityGradient(
    _ z: Tensor, epsilon: Tensor, alpha: Double, guidance: Guidance, throughNoise includeJacobian: Bool = true
  ) -> Tensor {
    let n = z.shape[0]
    let a = Float(alpha.squareRoot())
    let s = Float((1 - alpha).squareRoot())
    // ẑ_0 = (z_t − s ε) / a.
    let x0 = Tensor(shape: z.shape) { p in
      z.withPointer { zp in epsilon.withPointer { e in for i in 0..<z.count { p[i] = (zp[i] - s * e[i]) / a } } }
    }
    let images = prior.decode(x0)
    let logits = guidance.classifier.forward(images, training: false).logits
    let classes = logits.shape[1]
    precondition(
      guidance.target >= 0 && guidance.target < classes, "guidance target \(guidance.target) of \(classes) classes")
    // ∂ log softmax_c / ∂ logits = onehot(c) − softmax.
    var gradLogits = SoftmaxCrossEntropy.softmax(logits)
    gradLogits.withMutablePointer { g in
      for i in 0..<n {
        for k in 0..<classes { g[i * classes + k] = (k == guidance.target ? 1 : 0) - g[i * classes + k] }
      }
    }
    let gradImages = guidance.classifier.backward(gradLogits, parameterGradients: false, inputGradient: true)
    let gradX0 = prior.decodeBackward(gradImages, images: images)
    // ẑ_0 depends on z_t directly (1/a) and through ε_θ (−s/a · ∂ε/∂z_t).
    var scaled = gradX0
    let count = scaled.count
    scaled.withMutablePointer { g in for i in 0..<count { g[i] *= -s / a } }
    let throughNoise = includeJacobian ? prior.noiseBackward(scaled) : Tensor(shape: z.shape)
    return Tensor(shape: z.shape) { out in
      gradX0.withPointer { g in
        throughNoise.withPointer { j in for i in 0..<z.count { out[i] = g[i] / a + j[i] } }
      }
    }
  }
}

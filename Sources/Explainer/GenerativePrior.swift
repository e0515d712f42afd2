import Checkpoints
import Engine
import Foundation
import Models

/// The generative prior of the data-free explainer (DESIGN §8): a convolutional VAE and a
/// latent DDPM whose noise predictor works on standardised VAE latents
/// `z = (μ_enc(x) − mean) / std` of the generator split.
///
/// Saved as one safetensors file: tensors `encoder.*`, `decoder.*`, `denoiser.*`,
/// `latent.mean`, `latent.std` (F32, L), `split.indices` (I64), `concepts.centres` (F32, K×L)
/// and the description as JSON under the metadata key `i2x.generator`.
public final class GenerativePrior {
  /// Metadata key of the description.
  public static let metadataKey = "i2x.generator"

  /// What the file says about itself.
  public var description: GeneratorDescription
  /// VAE encoder (N,C,H,W) → (N,2L).
  public let encoder: Sequential
  /// VAE decoder (N,L) → (N,C·H·W) logits.
  public let decoder: Sequential
  /// Noise predictor (N,L+E) → (N,L).
  public let denoiser: Sequential
  /// The cosine schedule.
  public let schedule: NoiseSchedule
  /// Per-dimension mean and standard deviation of the raw latent means (standardisation).
  public var latentMean: [Float], latentStd: [Float]
  /// The indices of the images it was trained on (what `description.split.sha256` hashes).
  public var splitIndices: [Int]
  /// The concept codebook (DESIGN §8, DEXTER's words without a language model): k-means
  /// centres of the generator split's standardised latent means, (K,L) row-major; empty for a
  /// generator trained before concepts existed.
  public var concepts: [Float] = []

  /// Number of concepts in the codebook.
  public var conceptCount: Int { concepts.count / max(latent, 1) }

  /// Latent width L.
  public var latent: Int { description.latent }
  /// Image shape [C,H,W].
  public var image: [Int] { description.image }

  /// Builds freshly initialised networks for `description`.
  /// - Throws: `ArchitectureError` when a layer list is invalid or does not chain.
  public init(description: GeneratorDescription, splitIndices: [Int]) throws {
    try Self.check(description)
    self.description = description
    encoder = try description.encoder.build(seed: description.seed)
    decoder = try description.decoder.build(seed: description.seed &+ 1)
    denoiser = try description.denoiser.build(seed: description.seed &+ 2)
    schedule = NoiseSchedule(cosineSteps: description.diffusionSteps)
    latentMean = [Float](repeating: 0, count: description.latent)
    latentStd = [Float](repeating: 1, count: description.latent)
    self.splitIndices = splitIndices
  }

  /// The hash recorded for a split: SHA-256 of the indices as little-endian Int64s.
  public static func splitHash(_ indices: [Int]) -> String {
    var hasher = SHA256()
    for index in indices { withUnsafeBytes(of: Int64(index).littleEndian) { hasher.update($0) } }
    return SHA256.hex(hasher.finalize())
  }

  /// Checks that the three layer lists fit together: encoder image → [2L], decoder [L] → image
  /// (flattened or not), denoiser [L+E] → [L].
  static func check(_ d: GeneratorDescription) throws(GeneratorError) {
    guard d.format == GeneratorDescription.currentFormat else {
      throw GeneratorError(
        "generator format '\(d.format)' is not \(GeneratorDescription.currentFormat); retrain it with this i2x-train")
    }
    guard d.image.count == 3, d.image.allSatisfy({ $0 > 0 }), d.latent > 0, d.latent <= 4096,
      d.timeEmbedding >= 2, d.timeEmbedding % 2 == 0, d.diffusionSteps >= 2, d.diffusionSteps <= 100_000
    else { throw GeneratorError("generator description has invalid sizes (image \(d.image), latent \(d.latent))") }
    do {
      guard d.encoder.input == d.image, try d.encoder.validate() == [2 * d.latent] else {
        throw GeneratorError("encoder must map \(d.image) to [\(2 * d.latent)]")
      }
      let decoded = try d.decoder.validate()
      guard d.decoder.input == [d.latent], decoded == d.image || decoded == [d.image.reduce(1, *)] else {
        throw GeneratorError("decoder must map [\(d.latent)] to \(d.image)")
      }
      guard d.denoiser.input == [d.latent + d.timeEmbedding], try d.denoiser.validate() == [d.latent] else {
        throw GeneratorError("denoiser must map [\(d.latent + d.timeEmbedding)] to [\(d.latent)]")
      }
    } catch let error as GeneratorError {
      throw error
    } catch {
      throw GeneratorError("generator networks: \(error)")
    }
  }

  // MARK: - Networks

  /// Raw posterior means μ_enc(x) of images in [0,1]. images (N,C,H,W) → (N,L).
  public func encodeMeans(_ images: Tensor) -> Tensor {
    let out = encoder.forward(images, training: false)
    let n = images.shape[0]
    return Tensor(shape: [n, latent]) { z in
      out.withPointer { o in
        for i in 0..<n { for k in 0..<latent { z[i * latent + k] = o[i * 2 * latent + k] } }
      }
    }
  }

  /// Images in [0,1] for standardised latents. z (N,L) → (N,C,H,W); keeps the decoder's
  /// forward cache for `decodeBackward`.
  public func decode(_ z: Tensor) -> Tensor {
    let n = z.shape[0]
    let raw = Tensor(shape: [n, latent]) { r in
      z.withPointer { s in
        for i in 0..<n { for k in 0..<latent { r[i * latent + k] = s[i * latent + k] * latentStd[k] + latentMean[k] } }
      }
    }
    var logits = decoder.forward(raw, training: false)
    let count = logits.count
    logits.withMutablePointer { p in
      for i in 0..<count { p[i] = 1 / (1 + exp(-p[i])) }
    }
    return logits.reshaped([n] + image)
  }

  /// Gradient with respect to the standardised latents of a loss whose gradient with respect
  /// to the last `decode` output `images` is `gradImages` (both (N,C,H,W)).
  public func decodeBackward(_ gradImages: Tensor, images: Tensor) -> Tensor {
    let n = images.shape[0]
    let size = images.count / n
    // Through the sigmoid: ∂x/∂logit = x(1 − x).
    let gradLogits = Tensor(shape: [n, size]) { g in
      gradImages.withPointer { gi in
        images.withPointer { x in for i in 0..<(n * size) { g[i] = gi[i] * x[i] * (1 - x[i]) } }
      }
    }
    let decoded = decoder.outputShape(for: [n, latent]) ?? [n, size]
    let gradRaw = decoder.backward(gradLogits.reshaped(decoded), parameterGradients: false)
    return Tensor(shape: [n, latent]) { g in
      gradRaw.withPointer { r in
        for i in 0..<n { for k in 0..<latent { g[i * latent + k] = r[i * latent + k] * latentStd[k] } }
      }
    }
  }

  /// The denoiser's input for latents z (N,L) at step t: [z, embedding(t)] (N,L+E).
  public func denoiserInput(_ z: Tensor, t: Int) -> Tensor {
    let n = z.shape[0]
    let width = latent + description.timeEmbedding
    let embedding = TimeEmbedding.embedding(t, width: description.timeEmbedding)
    return Tensor(shape: [n, width]) { x in
      z.withPointer { s in
        for i in 0..<n {
          for k in 0..<latent { x[i * width + k] = s[i * latent + k] }
          for k in 0..<description.timeEmbedding { x[i * width + latent + k] = embedding[k] }
        }
      }
    }
  }

  /// ε_θ(z_t, t): (N,L) → (N,L); keeps the forward cache for `noiseBackward`.
  public func predictNoise(_ z: Tensor, t: Int) -> Tensor {
    denoiser.forward(denoiserInput(z, t: t), training: false)
  }

  /// Vector–Jacobian product of the last `predictNoise`: `(∂ε/∂z)ᵀ · gradNoise`, (N,L).
  public func noiseBackward(_ gradNoise: Tensor) -> Tensor {
    let n = gradNoise.shape[0]
    let width = latent + description.timeEmbedding
    let gradInput = denoiser.backward(gradNoise, parameterGradients: false)
    return Tensor(shape: [n, latent]) { g in
      gradInput.withPointer { x in
        for i in 0..<n { for k in 0..<latent { g[i * latent + k] = x[i * width + k] } }
      }
    }
  }
}

/// A generator file or description that cannot be used, with what to do.
public struct GeneratorError: Error, CustomStringConvertible, Equatable {
  /// What went wrong.
  public var description: String
  /// Creates an error.
  public init(_ description: String) { self.description = description }
}

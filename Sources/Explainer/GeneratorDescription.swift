import Models

/// What a generator file says about itself (safetensors metadata key `i2x.generator`,
/// format `i2x.generator/1`): the data it was trained on, so the daemon can refuse a
/// mismatched run, and the three networks' layer lists, so it can be rebuilt.
public struct GeneratorDescription: Codable, Equatable, Sendable {
  /// Format tag written by this version.
  public static let currentFormat = "i2x.generator/1"

  /// The split the prior was trained on, identified without its images.
  public struct Split: Codable, Equatable, Sendable {
    /// Split name (`generator`).
    public var name: String
    /// Number of images.
    public var count: Int
    /// SHA-256 (hex) of the split's image indices as little-endian Int64s, in order.
    public var sha256: String
    /// Seed of the dataset split (the trainer's `--seed`).
    public var seed: UInt64

    /// Creates a split record.
    public init(name: String, count: Int, sha256: String, seed: UInt64) {
      self.name = name
      self.count = count
      self.sha256 = sha256
      self.seed = seed
    }
  }

  /// Format tag.
  public var format: String
  /// Dataset name (`fashion-mnist`, …).
  public var dataset: String
  /// Image shape [C,H,W].
  public var image: [Int]
  /// Latent width L of the VAE.
  public var latent: Int
  /// Seed of the generator's own initialisation and training order.
  public var seed: UInt64
  /// The split it was trained on.
  public var split: Split
  /// VAE encoder: image [C,H,W] → [2L] (means, then log-variances).
  public var encoder: LayerChain
  /// VAE decoder: latent [L] → [C,H,W] logits (the image is their sigmoid).
  public var decoder: LayerChain
  /// Noise predictor: [L + timeEmbedding] → [L].
  public var denoiser: LayerChain
  /// Width of the sinusoidal time embedding.
  public var timeEmbedding: Int
  /// Diffusion steps T of the cosine schedule.
  public var diffusionSteps: Int
  /// Training settings and outcomes (epochs, steps, losses, seconds).
  public var training: [String: Double]

  enum CodingKeys: String, CodingKey {
    case format, dataset, image, latent, seed, split, encoder, decoder, denoiser, training
    case timeEmbedding = "time_embedding"
    case diffusionSteps = "diffusion_steps"
  }

  /// The default networks for an image shape (DESIGN §8): latent 16 for 28×28, 64 for
  /// 32×32; two stride-2 convolutions down, nearest upsampling and convolutions up; a
  /// four-layer SiLU MLP noise predictor with a 64-wide time embedding.
  /// - Parameters:
  ///   - width: channels of the first VAE convolution (the second has twice as many).
  ///   - hidden: width of the noise predictor's hidden layers.
  public static func standard(
    dataset: String, image: [Int], seed: UInt64, split: Split, width: Int = 32, hidden: Int = 256
  ) -> GeneratorDescription {
    precondition(
      image.count == 3 && image[1] % 4 == 0 && image[2] % 4 == 0, "image \(image) must be [C,H,W], H,W divisible by 4")
    let (c, h, w) = (image[0], image[1], image[2])
    let latent = h * w <= 28 * 28 ? 16 : 64
    let (h4, w4) = (h / 4, w / 4)
    let encoder = LayerChain(
      name: "encoder", input: image,
      layers: [
        LayerSpec(kind: "conv2d", name: "conv1", inputs: c, outputs: width, kernel: 3, stride: 2, padding: 1),
        LayerSpec(kind: "relu", name: "relu1"),
        LayerSpec(kind: "conv2d", name: "conv2", inputs: width, outputs: 2 * width, kernel: 3, stride: 2, padding: 1),
        LayerSpec(kind: "relu", name: "relu2"),
        LayerSpec(kind: "flatten", name: "flatten"),
        LayerSpec(kind: "linear", name: "fc", inputs: 2 * width * h4 * w4, outputs: 2 * latent),
      ])
    let decoder = LayerChain(
      name: "decoder", input: [latent],
      layers: [
        LayerSpec(kind: "linear", name: "fc", inputs: latent, outputs: 2 * width * h4 * w4),
        LayerSpec(kind: "relu", name: "relu0"),
        LayerSpec(kind: "unflatten", name: "unflatten", shape: [2 * width, h4, w4]),
        LayerSpec(kind: "upsample", name: "up1", scale: 2),
        .conv3x3("conv1", 2 * width, width),
        LayerSpec(kind: "relu", name: "relu1"),
        LayerSpec(kind: "upsample", name: "up2", scale: 2),
        .conv3x3("conv2", width, c),
      ])
    let embedding = 64
    let denoiser = LayerChain(
      name: "denoiser", input: [latent + embedding],
      layers: [
        LayerSpec(kind: "linear", name: "fc1", inputs: latent + embedding, outputs: hidden),
        LayerSpec(kind: "silu", name: "act1"),
        LayerSpec(kind: "linear", name: "fc2", inputs: hidden, outputs: hidden),
        LayerSpec(kind: "silu", name: "act2"),
        LayerSpec(kind: "linear", name: "fc3", inputs: hidden, outputs: hidden),
        LayerSpec(kind: "silu", name: "act3"),
        LayerSpec(kind: "linear", name: "fc4", inputs: hidden, outputs: latent),
      ])
    return GeneratorDescription(
      format: currentFormat, dataset: dataset, image: image, latent: latent, seed: seed, split: split,
      encoder: encoder, decoder: decoder, denoiser: denoiser, timeEmbedding: embedding, diffusionSteps: 1000,
      training: [:])
  }
}

import Engine

extension Architecture {
  /// Checks a chain of `LayerSpec`s that is not a classifier — a VAE decoder from a latent
  /// vector to an image, a diffusion noise predictor — under `limits`: kinds, required fields,
  /// shape chaining, unique names and every cap, as `validate(limits:)` does, but without its
  /// classifier rules ([C,H,W] input, [classes] output, a target layer).
  /// - Parameters:
  ///   - layers: The layers in order.
  ///   - input: Per-example input shape without the batch dimension, e.g. [16] for a latent
  ///     vector or [C,H,W] for an image; positive sizes.
  ///   - limits: The caps to enforce.
  /// - Returns: The per-example output shape and what the chain costs.
  /// - Throws: `ArchitectureError` naming the layer, the offending value and what it expects.
  @discardableResult
  public static func validateChain(
    _ layers: [LayerSpec], input: [Int], limits: Limits = .default
  ) throws(ArchitectureError) -> (output: [Int], footprint: Footprint) {
    guard !input.isEmpty, input.allSatisfy({ $0 > 0 }) else {
      throw ArchitectureError("layer chain: input must be a non-empty shape of positive sizes, got \(input)")
    }
    if let size = input.first(where: { $0 > limits.maximumDimension }) {
      throw ArchitectureError(
        "layer chain: input \(input) has size \(size), over the \(limits.maximumDimension) cap on any single size")
    }
    var walk = ShapeWalk(architecture: "layer chain", limits: limits)
    try walk.enter(input: input)
    var shape = input
    for spec in layers { shape = try walk.walk(spec, from: shape) }
    return (shape, walk.footprint)
  }

  /// Builds a chain of `LayerSpec`s with freshly initialised parameters (PyTorch's default
  /// init) after `validateChain(_:input:limits:)` has accepted it; run the layers in order
  /// (forward) and in reverse (backward), and load weights by `state_dict` name.
  /// - Parameters:
  ///   - layers: The layers in order.
  ///   - input: Per-example input shape without the batch dimension.
  ///   - seed: Seed of the initialisation; the same seed gives the same parameters.
  ///   - limits: The caps to enforce.
  /// - Returns: One engine layer per spec (a `residual` spec is one `Residual`).
  /// - Throws: `ArchitectureError` as `validateChain(_:input:limits:)`.
  public static func buildChain(
    _ layers: [LayerSpec], input: [Int], seed: UInt64, limits: Limits = .default
  ) throws(ArchitectureError) -> [any Layer] {
    try validateChain(layers, input: input, limits: limits)
    var generator = SplitMix64(seed: seed)
    return layers.map { LayerFactory.make($0, generator: &generator) }
  }
}

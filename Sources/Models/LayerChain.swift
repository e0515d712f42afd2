import Engine

/// A named list of `LayerSpec`s that is not a classifier (a VAE encoder or decoder, a
/// diffusion noise predictor), as a generator file describes it: validated by
/// `Architecture.validateChain` and built into an engine `Sequential`.
public struct LayerChain: Codable, Equatable, Sendable {
  /// Name used in messages (e.g. `decoder`).
  public var name: String
  /// Per-example input shape ([F] or [C,H,W]).
  public var input: [Int]
  /// Layers in order.
  public var layers: [LayerSpec]

  /// Creates a chain description.
  public init(name: String, input: [Int], layers: [LayerSpec]) {
    self.name = name
    self.input = input
    self.layers = layers
  }

  /// Checks every layer's fields and the size caps without allocating anything.
  /// - Returns: the per-example output shape.
  /// - Throws: `ArchitectureError` naming the chain, the layer and the rule.
  @discardableResult
  public func validate(limits: Architecture.Limits = .default) throws(ArchitectureError) -> [Int] {
    guard !layers.isEmpty else { throw ArchitectureError("chain '\(name)' has no layers") }
    do {
      return try Architecture.validateChain(layers, input: input, limits: limits).output
    } catch {
      throw ArchitectureError("chain '\(name)': \(error)")
    }
  }

  /// Builds the chain with freshly initialised parameters (PyTorch's default init).
  /// - Throws: `ArchitectureError` as `validate(limits:)`.
  public func build(seed: UInt64, limits: Architecture.Limits = .default) throws(ArchitectureError) -> Sequential {
    try validate(limits: limits)
    return Sequential(layers: try Architecture.buildChain(layers, input: input, seed: seed, limits: limits))
  }
}

extension Architecture {
  /// Caps that `validate(limits:)` enforces before anything is allocated, so that an
  /// architecture from an untrusted source (a run registered with the daemon, a checkpoint's
  /// metadata) cannot make the process trap on overflow or allocate gigabytes.
  ///
  /// The defaults leave ample room for the image classifiers i2x is meant for: the largest
  /// reference architecture, `cifarcnn`, has 288,554 parameters and at most 32,768 activation
  /// elements per image.
  public struct Limits: Sendable, Equatable {
    /// Most trainable scalars in the whole network (default 100,000,000, i.e. 400 MB of F32).
    /// Raised in the daemon with `i2xd --max-parameters`.
    public var maximumParameters: Int
    /// Most elements per image in the input or in the output of any layer, nested ones
    /// included (default 16,777,216 = 2²⁴, i.e. 64 MB of F32 per image).
    /// Raised in the daemon with `i2xd --max-activation-elements`.
    public var maximumActivationElements: Int
    /// Most classes K (default 100,000). Raised in the daemon with `i2xd --max-classes`.
    public var maximumClasses: Int
    /// Most layers, counting each residual block and every layer inside one (default 1,000).
    public var maximumLayers: Int
    /// Largest value of any single size: `kernel`, `stride`, `padding`, `in`, `out`,
    /// `channels`, `scale`, each entry of `shape` and each of the input's C, H, W
    /// (default 1,000,000).
    public var maximumDimension: Int

    /// Creates limits; every argument defaults to the documented default.
    public init(
      maximumParameters: Int = 100_000_000, maximumActivationElements: Int = 16_777_216,
      maximumClasses: Int = 100_000, maximumLayers: Int = 1_000, maximumDimension: Int = 1_000_000
    ) {
      self.maximumParameters = maximumParameters
      self.maximumActivationElements = maximumActivationElements
      self.maximumClasses = maximumClasses
      self.maximumLayers = maximumLayers
      self.maximumDimension = maximumDimension
    }

    /// The documented defaults.
    public static let `default` = Limits()
  }

  /// What an architecture costs, computed from its `LayerSpec`s alone by
  /// `validate(limits:)` (a dry run: no layer is constructed, nothing is allocated).
  public struct Footprint: Sendable, Equatable {
    /// Trainable scalars; equals `build(seed:).parameterCount`.
    public var parameterCount: Int
    /// Most elements per image in the input or in any layer's output, nested ones included.
    public var largestActivationElements: Int
    /// Layers, counting each residual block and every layer inside one.
    public var layerCount: Int
    /// Elements per image of the GradCAM target layer's output (d·h·w): what the analysis
    /// keeps per probe image for the vocabulary.
    public var targetActivationElements: Int

    /// Creates a footprint.
    public init(
      parameterCount: Int, largestActivationElements: Int, layerCount: Int, targetActivationElements: Int = 0
    ) {
      self.parameterCount = parameterCount
      self.largestActivationElements = largestActivationElements
      self.layerCount = layerCount
      self.targetActivationElements = targetActivationElements
    }
  }
}

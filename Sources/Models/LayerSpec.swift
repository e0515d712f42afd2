/// One layer of an architecture as written in the checkpoint's `i2x.architecture` JSON.
///
/// `kind` is one of `conv2d`, `batchnorm2d`, `relu`, `maxpool2d`, `gap` (global average pool),
/// `flatten`, `linear`, `dropout`, `residual`, and for generative decoders and noise predictors
/// `upsample` (nearest, integer `scale`), `sigmoid`, `silu` and `unflatten` (features to
/// `shape` [C,H,W]); `name` is the `state_dict` prefix of its parameters. Which other fields
/// a kind needs is checked by `Architecture.validate()`.
public struct LayerSpec: Codable, Equatable, Sendable {
  /// Layer kind.
  public var kind: String
  /// Layer name (parameter-name prefix, e.g. `conv1`).
  public var name: String
  /// Input channels / features (`conv2d`, `linear`).
  public var inputs: Int?
  /// Output channels / features (`conv2d`, `linear`).
  public var outputs: Int?
  /// Square kernel size (`conv2d`, `maxpool2d`).
  public var kernel: Int?
  /// Stride (`conv2d` default 1, `maxpool2d` default = kernel).
  public var stride: Int?
  /// Zero padding (`conv2d`, default 0).
  public var padding: Int?
  /// Whether a bias exists (`conv2d`, `linear`; default true).
  public var bias: Bool?
  /// Channels (`batchnorm2d`).
  public var channels: Int?
  /// Drop probability (`dropout`).
  public var probability: Double?
  /// Branch layers (`residual`).
  public var layers: [LayerSpec]?
  /// Integer scale factor, 1 through `LayerSpec.maximumScale` (`upsample`).
  public var scale: Int?
  /// Per-example output shape [C,H,W] (`unflatten`); its product must equal the input features.
  public var shape: [Int]?

  /// Largest `scale` an `upsample` layer accepts (a decoder doubles; 16 is already generous).
  public static let maximumScale = 16

  enum CodingKeys: String, CodingKey {
    case kind, name
    case inputs = "in"
    case outputs = "out"
    case kernel, stride, padding, bias, channels
    case probability = "p"
    case layers, scale, shape
  }

  /// Creates a spec; unused fields stay nil.
  public init(
    kind: String, name: String, inputs: Int? = nil, outputs: Int? = nil, kernel: Int? = nil,
    stride: Int? = nil, padding: Int? = nil, bias: Bool? = nil, channels: Int? = nil,
    probability: Double? = nil, layers: [LayerSpec]? = nil, scale: Int? = nil, shape: [Int]? = nil
  ) {
    self.kind = kind
    self.name = name
    self.inputs = inputs
    self.outputs = outputs
    self.kernel = kernel
    self.stride = stride
    self.padding = padding
    self.bias = bias
    self.channels = channels
    self.probability = probability
    self.layers = layers
    self.scale = scale
    self.shape = shape
  }

  /// A 3×3, padding-1 convolution (the reference architectures' only kind).
  public static func conv3x3(_ name: String, _ inputs: Int, _ outputs: Int, bias: Bool = true) -> LayerSpec {
    LayerSpec(
      kind: "conv2d", name: name, inputs: inputs, outputs: outputs, kernel: 3, stride: 1, padding: 1, bias: bias)
  }
}

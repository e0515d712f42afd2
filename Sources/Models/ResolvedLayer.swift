/// A `LayerSpec` whose kind is known and whose required fields are present and positive,
/// with the defaults filled in (conv stride 1, padding 0, bias on; pool stride = kernel), and
/// `upsample`'s scale and `unflatten`'s shape in range.
///
/// Both the dry run (`ShapeWalk`) and `LayerFactory` start from this, so the two cannot
/// disagree about what a spec means.
enum ResolvedLayer: Equatable {
  case conv2d(inputs: Int, outputs: Int, kernel: Int, stride: Int, padding: Int, bias: Bool)
  case batchNorm2d(channels: Int)
  case relu
  case maxPool2d(kernel: Int, stride: Int)
  case globalAveragePool
  case flatten
  case linear(inputs: Int, outputs: Int, bias: Bool)
  case dropout(probability: Double)
  case residual(body: [LayerSpec])
  case upsample(scale: Int)
  case sigmoid
  case silu
  case unflatten(shape: [Int])

  /// Checks the fields `spec.kind` needs.
  /// - Throws: `ArchitectureError` naming the layer and the missing or out-of-range field, or
  ///   the unknown kind with the supported ones.
  init(_ spec: LayerSpec) throws(ArchitectureError) {
    func need(_ value: Int?, _ field: String) throws(ArchitectureError) -> Int {
      guard let value, value > 0 else {
        throw ArchitectureError("layer '\(spec.name)' (\(spec.kind)) needs a positive '\(field)'")
      }
      return value
    }
    switch spec.kind {
    case "conv2d":
      let padding = spec.padding ?? 0
      guard padding >= 0 else { throw ArchitectureError("layer '\(spec.name)': padding must be ≥ 0") }
      self = .conv2d(
        inputs: try need(spec.inputs, "in"), outputs: try need(spec.outputs, "out"),
        kernel: try need(spec.kernel, "kernel"), stride: try need(spec.stride ?? 1, "stride"),
        padding: padding, bias: spec.bias ?? true)
    case "batchnorm2d":
      self = .batchNorm2d(channels: try need(spec.channels, "channels"))
    case "relu":
      self = .relu
    case "maxpool2d":
      let kernel = try need(spec.kernel, "kernel")
      self = .maxPool2d(kernel: kernel, stride: try need(spec.stride ?? kernel, "stride"))
    case "gap":
      self = .globalAveragePool
    case "flatten":
      self = .flatten
    case "linear":
      self = .linear(
        inputs: try need(spec.inputs, "in"), outputs: try need(spec.outputs, "out"), bias: spec.bias ?? true)
    case "dropout":
      guard let p = spec.probability, p >= 0, p < 1 else {
        throw ArchitectureError("layer '\(spec.name)' (dropout) needs 'p' in [0, 1)")
      }
      self = .dropout(probability: p)
    case "residual":
      guard let inner = spec.layers, !inner.isEmpty else {
        throw ArchitectureError("layer '\(spec.name)' (residual) needs a non-empty 'layers' list")
      }
      self = .residual(body: inner)
    case "upsample":
      guard let scale = spec.scale, (1...LayerSpec.maximumScale).contains(scale) else {
        throw ArchitectureError(
          "layer '\(spec.name)' (upsample) needs an integer 'scale' from 1 to \(LayerSpec.maximumScale)"
            + (spec.scale.map { ", got \($0)" } ?? ", and has none"))
      }
      self = .upsample(scale: scale)
    case "sigmoid":
      self = .sigmoid
    case "silu":
      self = .silu
    case "unflatten":
      guard let shape = spec.shape, shape.count == 3, shape.allSatisfy({ $0 > 0 }) else {
        throw ArchitectureError(
          "layer '\(spec.name)' (unflatten) needs a 'shape' of three positive sizes [C, H, W]"
            + (spec.shape.map { ", got \($0)" } ?? ", and has none"))
      }
      self = .unflatten(shape: shape)
    default:
      throw ArchitectureError(
        "layer '\(spec.name)' has unknown kind '\(spec.kind)'; supported: \(Self.kinds.joined(separator: ", "))")
    }
  }

  /// The size fields with their JSON names, for `Architecture.Limits.maximumDimension`.
  var sizes: [(field: String, value: Int)] {
    switch self {
    case .conv2d(let inputs, let outputs, let kernel, let stride, let padding, _):
      return [("in", inputs), ("out", outputs), ("kernel", kernel), ("stride", stride), ("padding", padding)]
    case .batchNorm2d(let channels): return [("channels", channels)]
    case .maxPool2d(let kernel, let stride): return [("kernel", kernel), ("stride", stride)]
    case .linear(let inputs, let outputs, _): return [("in", inputs), ("out", outputs)]
    case .upsample(let scale): return [("scale", scale)]
    case .unflatten(let shape): return shape.map { ("shape", $0) }
    case .relu, .globalAveragePool, .flatten, .dropout, .residual, .sigmoid, .silu: return []
    }
  }

  /// Every supported `LayerSpec.kind`, in the order messages list them.
  static let kinds = [
    "conv2d", "batchnorm2d", "relu", "maxpool2d", "gap", "flatten", "linear", "dropout", "residual", "upsample",
    "sigmoid", "silu", "unflatten",
  ]
}

import Engine

/// Turns validated `LayerSpec`s into engine layers.
enum LayerFactory {
  static func make(
    _ spec: LayerSpec, generator: inout SplitMix64, names: inout Set<String>
  ) throws(ArchitectureError) -> any Layer {
    guard !spec.name.isEmpty, names.insert(spec.name).inserted else {
      throw ArchitectureError("layer name '\(spec.name)' is empty or used twice; names must be unique")
    }
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
      return Conv2d(
        name: spec.name, inputChannels: try need(spec.inputs, "in"),
        outputChannels: try need(spec.outputs, "out"), kernelSize: try need(spec.kernel, "kernel"),
        stride: try need(spec.stride ?? 1, "stride"), padding: padding, bias: spec.bias ?? true,
        generator: &generator)
    case "batchnorm2d":
      return BatchNorm2d(name: spec.name, channels: try need(spec.channels, "channels"))
    case "relu":
      return ReLU(name: spec.name)
    case "maxpool2d":
      let kernel = try need(spec.kernel, "kernel")
      return MaxPool2d(name: spec.name, kernelSize: kernel, stride: try need(spec.stride ?? kernel, "stride"))
    case "gap":
      return GlobalAvgPool(name: spec.name)
    case "flatten":
      return Flatten(name: spec.name)
    case "linear":
      return Linear(
        name: spec.name, inputFeatures: try need(spec.inputs, "in"),
        outputFeatures: try need(spec.outputs, "out"), bias: spec.bias ?? true, generator: &generator)
    case "dropout":
      guard let p = spec.probability, p >= 0, p < 1 else {
        throw ArchitectureError("layer '\(spec.name)' (dropout) needs 'p' in [0, 1)")
      }
      return Dropout(name: spec.name, probability: Float(p), seed: generator.next())
    case "residual":
      guard let inner = spec.layers, !inner.isEmpty else {
        throw ArchitectureError("layer '\(spec.name)' (residual) needs a non-empty 'layers' list")
      }
      var body: [any Layer] = []
      for child in inner { body.append(try make(child, generator: &generator, names: &names)) }
      return Residual(name: spec.name, body: body)
    default:
      throw ArchitectureError(
        "layer '\(spec.name)' has unknown kind '\(spec.kind)'; supported: conv2d, batchnorm2d, relu, maxpool2d, gap, flatten, linear, dropout, residual"
      )
    }
  }
}

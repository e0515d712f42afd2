import Engine

/// Turns `LayerSpec`s that `Architecture.validate(limits:)` accepted into engine layers,
/// drawing initial parameters from `generator` in layer order.
enum LayerFactory {
  /// The engine layer for `spec`; traps if `spec` was not validated first (a programmer error:
  /// this is where parameters are allocated, so hostile sizes must be refused before).
  static func make(_ spec: LayerSpec, generator: inout SplitMix64) -> any Layer {
    let resolved: ResolvedLayer
    do {
      resolved = try ResolvedLayer(spec)
    } catch {
      preconditionFailure("LayerFactory.make before validate(limits:): \(error)")
    }
    switch resolved {
    case .conv2d(let inputs, let outputs, let kernel, let stride, let padding, let bias):
      return Conv2d(
        name: spec.name, inputChannels: inputs, outputChannels: outputs, kernelSize: kernel,
        stride: stride, padding: padding, bias: bias, generator: &generator)
    case .batchNorm2d(let channels):
      return BatchNorm2d(name: spec.name, channels: channels)
    case .relu:
      return ReLU(name: spec.name)
    case .maxPool2d(let kernel, let stride):
      return MaxPool2d(name: spec.name, kernelSize: kernel, stride: stride)
    case .globalAveragePool:
      return GlobalAvgPool(name: spec.name)
    case .flatten:
      return Flatten(name: spec.name)
    case .linear(let inputs, let outputs, let bias):
      return Linear(
        name: spec.name, inputFeatures: inputs, outputFeatures: outputs, bias: bias, generator: &generator)
    case .dropout(let probability):
      return Dropout(name: spec.name, probability: Float(probability), seed: generator.next())
    case .upsample(let scale):
      return Upsample2d(name: spec.name, scale: scale)
    case .sigmoid:
      return Sigmoid(name: spec.name)
    case .silu:
      return SiLU(name: spec.name)
    case .unflatten(let shape):
      return Unflatten(name: spec.name, shape: shape)
    case .residual(let inner):
      var body: [any Layer] = []
      for child in inner { body.append(make(child, generator: &generator)) }
      return Residual(name: spec.name, body: body)
    }
  }
}

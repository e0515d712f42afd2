import Engine

/// The dry run behind `Architecture.validate(limits:)`: walks the `LayerSpec`s with per-image
/// shapes ([C,H,W] or [F], no batch dimension), mirroring what `LayerFactory` builds and what
/// each engine layer's `outputShape(for:)` returns, and counts parameters and activation
/// elements with overflow-checked arithmetic. Nothing is allocated, so every cap is checked
/// before `build` allocates a single parameter.
struct ShapeWalk {
  /// The architecture's name, for messages.
  let architecture: String
  /// The caps to enforce.
  let limits: Architecture.Limits
  /// What has been counted so far.
  private(set) var footprint = Architecture.Footprint(
    parameterCount: 0, largestActivationElements: 0, layerCount: 0)
  private var names = Set<String>()

  init(architecture: String, limits: Architecture.Limits) {
    self.architecture = architecture
    self.limits = limits
  }

  /// Counts the input image (C,H,W) as an activation.
  /// - Throws: `ArchitectureError` if it has more elements than the cap.
  mutating func enter(input shape: [Int]) throws(ArchitectureError) {
    try countActivation(shape, of: "architecture '\(architecture)': input")
  }

  /// The per-image output shape of `spec` for a per-image input `shape`, after checking the
  /// spec's fields, the size caps, that it accepts `shape`, and the parameter and activation
  /// caps. Residual bodies are walked recursively and must return `shape`.
  /// - Throws: `ArchitectureError` naming the layer, the number and the cap.
  mutating func walk(_ spec: LayerSpec, from shape: [Int]) throws(ArchitectureError) -> [Int] {
    footprint.layerCount += 1
    guard footprint.layerCount <= limits.maximumLayers else {
      throw ArchitectureError(
        "architecture '\(architecture)': layer '\(spec.name)' is layer number \(footprint.layerCount) "
          + "(counting the layers inside residual blocks), over the \(limits.maximumLayers)-layer cap; "
          + "use fewer layers")
    }
    guard !spec.name.isEmpty, names.insert(spec.name).inserted else {
      throw ArchitectureError("layer name '\(spec.name)' is empty or used twice; names must be unique")
    }
    let layer = try ResolvedLayer(spec)
    for (field, value) in layer.sizes where value > limits.maximumDimension {
      throw ArchitectureError(
        "layer '\(spec.name)' (\(spec.kind)): '\(field)' is \(value), over the \(limits.maximumDimension) "
          + "cap on any single size; no image classifier needs sizes this large, check the architecture")
    }
    let output = try outputShape(of: layer, spec, from: shape)
    try countActivation(output, of: "layer '\(spec.name)' (\(spec.kind)): output")
    return output
  }

  private mutating func outputShape(
    of layer: ResolvedLayer, _ spec: LayerSpec, from shape: [Int]
  ) throws(ArchitectureError) -> [Int] {
    func reject(_ expected: String) -> ArchitectureError {
      ArchitectureError(
        "layer '\(spec.name)' (\(spec.kind)) cannot take input of shape \(shape); it expects \(expected)")
    }
    switch layer {
    case .conv2d(let inputs, let outputs, let kernel, let stride, let padding, let bias):
      guard shape.count == 3, shape[0] == inputs,
        let height = ConvGeometry.outputSize(input: shape[1], kernel: kernel, stride: stride, padding: padding),
        let width = ConvGeometry.outputSize(input: shape[2], kernel: kernel, stride: stride, padding: padding)
      else { throw reject("[\(inputs), H, W] with H + 2·\(padding) ≥ \(kernel) and W + 2·\(padding) ≥ \(kernel)") }
      try countParameters(spec, weights: [outputs, inputs, kernel, kernel], biases: bias ? outputs : 0)
      return [outputs, height, width]
    case .batchNorm2d(let channels):
      guard shape.count == 3, shape[0] == channels else { throw reject("[\(channels), H, W]") }
      try countParameters(spec, weights: [channels], biases: channels)
      return shape
    case .relu, .dropout, .sigmoid, .silu:
      return shape
    case .maxPool2d(let kernel, let stride):
      guard shape.count == 3,
        let height = ConvGeometry.outputSize(input: shape[1], kernel: kernel, stride: stride, padding: 0),
        let width = ConvGeometry.outputSize(input: shape[2], kernel: kernel, stride: stride, padding: 0)
      else { throw reject("[C, H, W] with H ≥ \(kernel) and W ≥ \(kernel)") }
      return [shape[0], height, width]
    case .globalAveragePool:
      guard shape.count == 3 else { throw reject("a [C, H, W] feature map") }
      return [shape[0]]
    case .flatten:
      guard let features = Self.product(shape) else { throw reject("a shape whose size fits in 64 bits") }
      return [features]
    case .linear(let inputs, let outputs, let bias):
      guard shape == [inputs] else { throw reject("[\(inputs)] features (add gap or flatten before it)") }
      try countParameters(spec, weights: [outputs, inputs], biases: bias ? outputs : 0)
      return [outputs]
    case .upsample(let scale):
      guard shape.count == 3 else { throw reject("a [C, H, W] feature map") }
      guard case (let height, false) = shape[1].multipliedReportingOverflow(by: scale),
        case (let width, false) = shape[2].multipliedReportingOverflow(by: scale)
      else { throw reject("a feature map whose size times \(scale) fits in 64 bits") }
      return [shape[0], height, width]
    case .unflatten(let target):
      let dimensions = target.map(String.init).joined(separator: "×")
      guard let features = Self.product(target) else {
        throw reject("[F] features, but 'shape' \(dimensions) has more than \(Int.max) elements")
      }
      guard shape == [features] else {
        throw reject("[\(features)] features (the product of 'shape' \(dimensions))")
      }
      return target
    case .residual(let body):
      var inner = shape
      for child in body { inner = try walk(child, from: inner) }
      guard inner == shape else {
        throw ArchitectureError(
          "layer '\(spec.name)' (residual): its body maps \(shape) to \(inner); a residual body must "
            + "preserve the shape")
      }
      return shape
    }
  }

  /// Adds a layer's `weights` (its dimensions) and `biases` to the total.
  private mutating func countParameters(
    _ spec: LayerSpec, weights: [Int], biases: Int
  ) throws(ArchitectureError) {
    let dimensions = weights.map(String.init).joined(separator: "×")
    let parts = "\(dimensions) weights" + (biases > 0 ? " + \(biases) biases" : "")
    let cap = limits.maximumParameters
    let advice = "use a smaller layer or raise the cap (i2xd --max-parameters)"
    guard let weightCount = Self.product(weights),
      case (let layerCount, false) = weightCount.addingReportingOverflow(biases),
      case (let total, false) = footprint.parameterCount.addingReportingOverflow(layerCount)
    else {
      throw ArchitectureError(
        "layer '\(spec.name)' (\(spec.kind)): \(parts) = more than \(Int.max) parameters, over the "
          + "\(cap)-parameter cap; \(advice)")
    }
    guard total <= cap else {
      throw ArchitectureError(
        "layer '\(spec.name)' (\(spec.kind)): \(parts) = \(layerCount) parameters, \(total) in total, "
          + "over the \(cap)-parameter cap; \(advice)")
    }
    footprint.parameterCount = total
  }

  /// Records one activation of per-image `shape`; `subject` starts the message.
  private mutating func countActivation(_ shape: [Int], of subject: String) throws(ArchitectureError) {
    let dimensions = shape.map(String.init).joined(separator: "×")
    let cap = limits.maximumActivationElements
    let advice = "use a smaller input or fewer channels, or raise the cap (i2xd --max-activation-elements)"
    guard let elements = Self.product(shape) else {
      throw ArchitectureError(
        "\(subject) \(dimensions) = more than \(Int.max) elements per image, over the \(cap)-element cap; "
          + advice)
    }
    guard elements <= cap else {
      throw ArchitectureError(
        "\(subject) \(dimensions) = \(elements) elements per image, over the \(cap)-element cap; \(advice)")
    }
    footprint.largestActivationElements = max(footprint.largestActivationElements, elements)
  }

  /// The product of `factors`, or nil if it overflows `Int`.
  static func product(_ factors: [Int]) -> Int? {
    var result = 1
    for factor in factors {
      let (next, overflow) = result.multipliedReportingOverflow(by: factor)
      guard !overflow else { return nil }
      result = next
    }
    return result
  }
}

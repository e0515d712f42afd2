/// A feed-forward network: layers applied in order, with one named GradCAM target layer.
///
/// `forward` can capture the output of any layer; `backward` runs from the logits gradient
/// down to a chosen layer's output (GradCAM) or all the way to the input (saliency,
/// counterfactuals), writing parameter gradients only when asked.
public final class Network {
  /// Layers in order.
  public let layers: [any Layer]
  /// Index of the layer whose output GradCAM explains.
  public let targetLayerIndex: Int
  /// Input shape of one example (C,H,W).
  public let inputShape: [Int]

  /// Creates a network; traps if shapes do not chain (a programmer error: the architecture
  /// loader validates user input first).
  public init(layers: [any Layer], inputShape: [Int], targetLayerIndex: Int) {
    precondition(
      layers.indices.contains(targetLayerIndex), "target layer \(targetLayerIndex) outside 0..<\(layers.count)")
    self.layers = layers
    self.inputShape = inputShape
    self.targetLayerIndex = targetLayerIndex
    precondition(
      Self.outputShape(of: layers, for: [1] + inputShape) != nil, "layers do not chain from input \(inputShape)")
  }

  /// Output shape of `layers` for a batch shape, or nil where a layer rejects its input.
  public static func outputShape(of layers: [any Layer], for inputShape: [Int]) -> [Int]? {
    var shape: [Int]? = inputShape
    for layer in layers { shape = shape.flatMap { layer.outputShape(for: $0) } }
    return shape
  }

  /// Every layer that owns parameters or buffers directly, residual bodies expanded.
  public var leafLayers: [any Layer] { Self.leafLayers(of: layers) }

  /// Every layer of `layers` that owns parameters or buffers directly, residual bodies expanded
  /// (for layer chains that are not a `Network`, e.g. a decoder).
  public static func leafLayers(of layers: [any Layer]) -> [any Layer] {
    func expand(_ layer: any Layer) -> [any Layer] {
      if let residual = layer as? Residual { return residual.body.flatMap(expand) }
      return [layer]
    }
    return layers.flatMap(expand)
  }

  /// Every trainable parameter with its `state_dict` name (`conv1.weight`, …).
  public var namedParameters: [(name: String, parameter: Parameter)] {
    leafLayers.flatMap { layer in layer.parameters.map { ("\(layer.name).\($0.name)", $0) } }
  }

  /// The trainable parameters in `state_dict` order.
  public var parameters: [Parameter] { namedParameters.map(\.parameter) }

  /// Number of trainable scalars.
  public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

  /// Runs the network on a batch (N,C,H,W).
  /// - Parameters:
  ///   - training: batch statistics and dropout on.
  ///   - capture: index of a layer whose output to return as well.
  /// - Returns: logits (N,K) and the captured activation (empty if `capture` is nil).
  public func forward(
    _ input: Tensor, training: Bool, capture: Int? = nil
  ) -> (logits: Tensor, captured: Tensor) {
    precondition(
      input.rank == 4 && Array(input.shape.dropFirst()) == inputShape,
      "network expects (N,\(inputShape.map(String.init).joined(separator: ","))) input, got \(input.shape)")
    var x = input
    var captured = Tensor(shape: [0])
    for (index, layer) in layers.enumerated() {
      x = layer.forward(x, training: training)
      if index == capture { captured = x }
    }
    return (x, captured)
  }

  /// Runs the layers `range` on their input (a segment of `forward`, for callers that act
  /// between layers, e.g. synchronised BatchNorm across replicas).
  public func forward(_ input: Tensor, layers range: Range<Int>, training: Bool) -> Tensor {
    var x = input
    for index in range { x = layers[index].forward(x, training: training) }
    return x
  }

  /// Back-propagates through the layers `range` (after a `forward` through them), from the
  /// gradient at their output to the gradient at their input (empty when `inputGradient` is
  /// false: then the lowest layer of the range computes none).
  public func backward(
    _ gradOutput: Tensor, layers range: Range<Int>, parameterGradients: Bool, inputGradient: Bool
  ) -> Tensor {
    var grad = gradOutput
    for index in range.reversed() {
      let needsInput = index > range.lowerBound || inputGradient
      grad = layers[index].backward(
        grad, needs: BackwardNeeds(inputGradient: needsInput, parameterGradients: parameterGradients))
    }
    return grad
  }

  /// Back-propagates `gradLogits` after a `forward`.
  /// - Parameters:
  ///   - stopAt: return the gradient with respect to this layer's *output* (layers up to
  ///     and including it are not visited); nil runs to the input.
  ///   - parameterGradients: write `Parameter.gradient` of the visited layers.
  ///   - inputGradient: with `stopAt` nil, whether to compute the gradient with respect to the
  ///     network input (training does not need it; saliency does).
  /// - Returns: the gradient at the stop point (or at the input; empty when not asked for).
  @discardableResult
  public func backward(
    _ gradLogits: Tensor, stopAt: Int? = nil, parameterGradients: Bool, inputGradient: Bool = true
  ) -> Tensor {
    // Layers above the stop point always pass a gradient down; the first layer only when the
    // input gradient is wanted.
    let lowest = (stopAt ?? -1) + 1
    return backward(
      gradLogits, layers: lowest..<layers.count, parameterGradients: parameterGradients,
      inputGradient: lowest > 0 || inputGradient)
  }
}

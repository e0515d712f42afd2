/// A plain chain of layers for inputs of any rank (a VAE encoder or decoder, a diffusion
/// noise predictor): `forward` applies the layers in order, `backward` runs them in reverse.
/// Unlike `Network` it has no target layer and no (N,C,H,W) input requirement.
public final class Sequential {
  /// Layers in order.
  public let layers: [any Layer]

  /// Creates a chain; the layers' shapes are checked on the first `forward`.
  public init(layers: [any Layer]) { self.layers = layers }

  /// Every trainable parameter with its `state_dict` suffix (`fc1.weight`, …).
  public var namedParameters: [(name: String, parameter: Parameter)] {
    layers.flatMap { layer in layer.parameters.map { ("\(layer.name).\($0.name)", $0) } }
  }

  /// The trainable parameters in order.
  public var parameters: [Parameter] { namedParameters.map(\.parameter) }

  /// Output shape for a batch shape, or nil where a layer rejects its input.
  public func outputShape(for inputShape: [Int]) -> [Int]? {
    Network.outputShape(of: layers, for: inputShape)
  }

  /// Runs the chain on a batch; traps (naming the layer) if a layer rejects its input.
  public func forward(_ input: Tensor, training: Bool) -> Tensor {
    var x = input
    for layer in layers {
      precondition(layer.outputShape(for: x.shape) != nil, "\(layer.name) does not accept input \(x.shape)")
      x = layer.forward(x, training: training)
    }
    return x
  }

  /// Back-propagates `gradOutput` after a `forward`.
  /// - Parameters:
  ///   - parameterGradients: write `Parameter.gradient` of every layer.
  ///   - inputGradient: return the gradient with respect to the chain's input (else empty).
  @discardableResult
  public func backward(_ gradOutput: Tensor, parameterGradients: Bool, inputGradient: Bool = true) -> Tensor {
    var grad = gradOutput
    for index in stride(from: layers.count - 1, through: 0, by: -1) {
      let needsInput = index > 0 || inputGradient
      grad = layers[index].backward(
        grad, needs: BackwardNeeds(inputGradient: needsInput, parameterGradients: parameterGradients))
    }
    return grad
  }
}

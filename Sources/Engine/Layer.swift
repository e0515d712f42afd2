/// A trainable tensor with its gradient, named by its `state_dict` suffix (`weight`, `bias`).
public final class Parameter {
  /// The `state_dict` suffix, e.g. `weight`; the owning layer's name is the prefix.
  public let name: String
  /// Current value.
  public var value: Tensor
  /// Gradient of the loss with respect to `value`, written (not accumulated) by `backward`.
  public var gradient: Tensor

  /// Creates a parameter with a zero gradient of the same shape.
  public init(name: String, value: Tensor) {
    self.name = name
    self.value = value
    self.gradient = Tensor(shape: value.shape)
  }
}

/// What a backward pass must produce besides the gradient flowing to earlier layers.
public struct BackwardNeeds: Sendable {
  /// Return the gradient with respect to the layer input.
  public var inputGradient: Bool
  /// Write `Parameter.gradient` of the layer's parameters.
  public var parameterGradients: Bool

  /// Creates a set of needs.
  public init(inputGradient: Bool = true, parameterGradients: Bool = true) {
    self.inputGradient = inputGradient
    self.parameterGradients = parameterGradients
  }
}

/// One differentiable stage of a network: forward and backward written side by side.
///
/// Layers are reference types because `forward` caches what `backward` needs; call
/// `backward` after the matching `forward`.
public protocol Layer: AnyObject {
  /// The `state_dict` prefix of the layer's parameters and buffers (e.g. `conv1`).
  var name: String { get }
  /// Trainable parameters, in `state_dict` order.
  var parameters: [Parameter] { get }
  /// Non-trainable state saved in checkpoints (e.g. BatchNorm running statistics), by suffix.
  var buffers: [String: Tensor] { get set }
  /// Output shape for an input shape (batch dimension included), or nil if the input is invalid.
  func outputShape(for inputShape: [Int]) -> [Int]?
  /// Computes the output; `training` selects batch statistics / dropout.
  func forward(_ input: Tensor, training: Bool) -> Tensor
  /// Back-propagates `gradOutput` (same shape as the last output). Returns the input gradient
  /// when `needs.inputGradient`, otherwise an empty tensor.
  func backward(_ gradOutput: Tensor, needs: BackwardNeeds) -> Tensor
}

extension Layer {
  /// Layers without parameters.
  public var parameters: [Parameter] { [] }
  /// Layers without buffers.
  public var buffers: [String: Tensor] {
    get { [:] }
    set { precondition(newValue.isEmpty, "\(name) has no buffers, got \(newValue.keys.sorted())") }
  }
}

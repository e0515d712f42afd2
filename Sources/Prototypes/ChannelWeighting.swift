import Engine

/// The one part a CAM method supplies: channel weights from activations and gradients.
public protocol ChannelWeighting: Sendable {
  /// Weights (N,d) from target-layer activations A and gradients ∂z_c/∂A, both (N,d,h,w).
  func weights(activations: Tensor, gradients: Tensor) -> Tensor
}

/// GradCAM (Selvaraju et al. 2017, eq. 1): `α_k = (1/hw) Σ_j ∂z_c/∂A_k,j`.
public struct GradCAMWeighting: ChannelWeighting {
  /// Creates the weighting.
  public init() {}

  public func weights(activations: Tensor, gradients: Tensor) -> Tensor {
    precondition(gradients.rank == 4, "GradCAM needs (N,d,h,w) gradients, got \(gradients.shape)")
    let (n, d) = (gradients.shape[0], gradients.shape[1])
    let cells = gradients.shape[2] * gradients.shape[3]
    var alpha = Tensor(shape: [n, d])
    gradients.withPointer { g in
      alpha.withMutablePointer { a in
        for plane in 0..<(n * d) {
          var sum: Float = 0
          for j in 0..<cells { sum += g[plane * cells + j] }
          a[plane] = sum / Float(cells)
        }
      }
    }
    return alpha
  }
}

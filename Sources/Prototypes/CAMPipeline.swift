import Engine

/// The shared class-activation-map pipeline: capture the target layer, weight its channels,
/// ReLU, and normalise — written once; a method supplies only its `ChannelWeighting`.
///
/// Batched: one forward (evaluation mode) and one backward that stops at the target layer,
/// with no parameter gradients.
public struct CAMPipeline {
  /// The network explained (its `targetLayerIndex` is the captured layer).
  public let network: Network
  /// The method's channel weights.
  public let weighting: any ChannelWeighting

  /// Creates a pipeline; GradCAM by default.
  public init(network: Network, weighting: any ChannelWeighting = GradCAMWeighting()) {
    self.network = network
    self.weighting = weighting
  }

  /// Computes maps for a batch of images (N,C,H,W).
  public func run(_ images: Tensor, target: CAMTarget) -> CAMResult {
    let (logits, activations) = network.forward(images, training: false, capture: network.targetLayerIndex)
    let (n, k) = (logits.shape[0], logits.shape[1])
    let classes = target.resolve(logits: logits.scalars, batch: n, classes: k)
    // ∂(Σ_n z_{n,c_n}) / ∂A: images are independent in evaluation mode, so one backward
    // of the summed selected logits gives every image's own gradient.
    var seed = Tensor(shape: [n, k])
    for i in 0..<n { seed.scalars[i * k + classes[i]] = 1 }
    let gradients = network.backward(seed, stopAt: network.targetLayerIndex, parameterGradients: false)
    let alpha = weighting.weights(activations: activations, gradients: gradients)
    let maps = Self.weightedSum(activations: activations, weights: alpha)
    return CAMResult(logits: logits, activations: activations, classes: classes, raw: maps)
  }

  /// Gradient of each image's target logit with respect to the input image (N,C,H,W).
  public func inputGradient(_ images: Tensor, target: CAMTarget) -> Tensor {
    let (logits, _) = network.forward(images, training: false)
    let (n, k) = (logits.shape[0], logits.shape[1])
    let classes = target.resolve(logits: logits.scalars, batch: n, classes: k)
    var seed = Tensor(shape: [n, k])
    for i in 0..<n { seed.scalars[i * k + classes[i]] = 1 }
    return network.backward(seed, stopAt: nil, parameterGradients: false)
  }

  // A (N,d,h,w), α (N,d) -> S (N,h,w) = ReLU(Σ_k α_k A_k)
  static func weightedSum(activations: Tensor, weights: Tensor) -> Tensor {
    let (n, d, h, w) = (activations.shape[0], activations.shape[1], activations.shape[2], activations.shape[3])
    let cells = h * w
    var maps = Tensor(shape: [n, h, w])
    activations.withPointer { a in
      weights.withPointer { alpha in
        maps.withMutablePointer { s in
          for i in 0..<n {
            let map = s + i * cells
            for k in 0..<d {
              let weight = alpha[i * d + k]
              let plane = a + (i * d + k) * cells
              for j in 0..<cells { map[j] += weight * plane[j] }
            }
            for j in 0..<cells where !(map[j] > 0) { map[j] = 0 }
          }
        }
      }
    }
    return maps
  }
}

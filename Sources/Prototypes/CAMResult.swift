import Engine

/// Maps and by-products of one CAM batch.
public struct CAMResult {
  /// Logits (N,K).
  public var logits: Tensor
  /// Target-layer activations A (N,d,h,w).
  public var activations: Tensor
  /// The class each map explains.
  public var classes: [Int]
  /// Raw maps S = ReLU(Σ α_k A_k) (N,h,w), never NaN.
  public var raw: Tensor

  /// Raw mass `m_i = Σ_j S_ij` per image.
  public var mass: [Float] {
    let cells = raw.shape[1] * raw.shape[2]
    return (0..<raw.shape[0]).map { i in raw.scalars[i * cells..<(i + 1) * cells].reduce(0, +) }
  }

  /// Images whose map is all zero (kept, flagged; their normalised map is zero, not NaN).
  public var zeroMaps: [Bool] { mass.map { $0 == 0 } }

  /// `Ŝ = S / (max S + 1e-8)` per image (N,h,w).
  public var normalized: Tensor {
    var out = raw
    let cells = raw.shape[1] * raw.shape[2]
    for i in 0..<raw.shape[0] {
      let range = i * cells..<(i + 1) * cells
      let scale = 1 / ((raw.scalars[range].max() ?? 0) + 1e-8)
      for j in range { out.scalars[j] *= scale }
    }
    return out
  }

  /// Raw maps upsampled bilinearly to `height`×`width` (half-pixel centres, like PyTorch's
  /// `align_corners=False`), then min-max normalised per image: `(x − min)/(max − min + 1e-7)`.
  public func upsampled(height: Int, width: Int) -> Tensor {
    var up = Bilinear.resize(raw, height: height, width: width)
    let cells = height * width
    for i in 0..<up.shape[0] {
      let range = i * cells..<(i + 1) * cells
      let low = up.scalars[range].min() ?? 0
      let high = up.scalars[range].max() ?? 0
      let scale = 1 / (high - low + 1e-7)
      for j in range { up.scalars[j] = (up.scalars[j] - low) * scale }
    }
    return up
  }
}

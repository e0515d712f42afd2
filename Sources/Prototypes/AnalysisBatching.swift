import Engine

/// Batch sizes for the analysis chosen by a memory budget rather than a fixed image count, so
/// a wide network (2,048 first-layer channels, say) runs in small batches instead of
/// allocating gigabytes per batch.
public enum AnalysisBatching {
  /// Default working-memory budget of one batch: 256 MiB.
  public static let defaultBudgetBytes = 256 << 20

  /// Estimated bytes one image needs during a forward and a backward pass of `network`:
  /// every layer's output is kept for the backward and has a gradient of the same size, plus
  /// a scratch copy (3 × 4 bytes per element), and a convolution's im2col matrix
  /// (C·k·k × Ho·Wo floats).
  public static func bytesPerImage(_ network: Network) -> Int {
    var shape = [1] + network.inputShape
    var elements = shape.reduce(1, *)
    var im2col = 0
    for layer in network.leafLayers {
      guard let next = layer.outputShape(for: shape) else { break }
      if let conv = layer as? Conv2d {
        im2col = max(im2col, conv.inputChannels * conv.kernelSize * conv.kernelSize * next[2] * next[3])
      }
      shape = next
      elements += shape.reduce(1, *)
    }
    return 4 * (3 * elements + im2col)
  }

  /// Images per batch for `network` within `budgetBytes`: at least 1, at most `maximum`.
  public static func batchSize(_ network: Network, budgetBytes: Int = defaultBudgetBytes, maximum: Int = 256) -> Int {
    max(1, min(maximum, budgetBytes / max(1, bytesPerImage(network))))
  }
}

import Foundation

/// Mean softmax cross-entropy over a batch of logits (N,K) and integer labels.
///
/// `L = −(1/N) Σ_n w_n log softmax(z_n)[y_n]`, computed with the max-shift for stability;
/// `∂L/∂z_n = w_n (softmax(z_n) − onehot(y_n)) / N`. The per-sample weights `w_n` default to 1
/// (the fine-tune `downweight` variant uses 0.5 for some images); the mean stays over N.
public enum SoftmaxCrossEntropy {
  /// Loss, its gradient with respect to the logits, and the softmax probabilities.
  public struct Result {
    /// Mean loss.
    public var loss: Float
    /// ∂L/∂logits (N,K).
    public var gradient: Tensor
    /// softmax(logits) (N,K).
    public var probabilities: Tensor
  }

  /// Evaluates loss and gradient.
  /// - Parameters:
  ///   - logits: (N,K).
  ///   - labels: N labels in 0..<K.
  ///   - weights: N per-sample loss weights (nil: all 1).
  /// - Precondition: logits are (N,K), every label is in 0..<K, weights (if any) number N.
  public static func evaluate(logits: Tensor, labels: [Int], weights: [Float]? = nil) -> Result {
    precondition(
      logits.rank == 2 && logits.shape[0] == labels.count,
      "cross-entropy: logits \(logits.shape) vs \(labels.count) labels")
    precondition(
      weights.map { $0.count == labels.count } ?? true,
      "cross-entropy: \(weights?.count ?? 0) weights for \(labels.count) labels")
    let (n, k) = (logits.shape[0], logits.shape[1])
    let probabilities = softmax(logits)
    var gradient = probabilities
    var total = 0.0
    for i in 0..<n {
      let label = labels[i]
      precondition(label >= 0 && label < k, "cross-entropy: label \(label) outside 0..<\(k)")
      // log softmax via log-sum-exp, not log(p), so tiny probabilities stay exact.
      let row = Array(logits.scalars[i * k..<(i + 1) * k])
      let top = row.max() ?? 0
      let logSum = Double(top) + log(row.reduce(0.0) { $0 + exp(Double($1 - top)) })
      let weight = weights?[i] ?? 1
      total += Double(weight) * (logSum - Double(row[label]))
      gradient.scalars[i * k + label] -= 1
      for j in i * k..<(i + 1) * k { gradient.scalars[j] *= weight }
    }
    let scale = 1 / Float(n)
    for i in 0..<gradient.count { gradient.scalars[i] *= scale }
    return Result(loss: Float(total / Double(n)), gradient: gradient, probabilities: probabilities)
  }

  /// Row-wise softmax of (N,K) logits.
  public static func softmax(_ logits: Tensor) -> Tensor {
    precondition(logits.rank == 2, "softmax needs (N,K), got \(logits.shape)")
    let (n, k) = (logits.shape[0], logits.shape[1])
    var out = logits
    for i in 0..<n {
      let range = i * k..<(i + 1) * k
      let top = logits.scalars[range].max() ?? 0
      var sum: Float = 0
      for j in range {
        out.scalars[j] = Foundation.exp(logits.scalars[j] - top)
        sum += out.scalars[j]
      }
      for j in range { out.scalars[j] /= sum }
    }
    return out
  }
}

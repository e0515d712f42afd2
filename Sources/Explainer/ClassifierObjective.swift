import Engine
import Foundation

/// What the concept search and the counterfactuals ask of the classifier f (DESIGN §8), with
/// gradients with respect to its input: log p_f(c | x) and the mean of the class's top-k
/// penultimate features (the input of the final linear layer, ranked by that layer's weight
/// for the class — DEXTER's "top-5 GAP features").
public struct ClassifierObjective {
  /// The classifier (evaluation mode; its parameters are not touched).
  public let network: Network
  /// The final linear layer.
  let head: Linear

  /// Wraps a classifier whose last layer is linear.
  /// - Throws: `GeneratorError` when it is not.
  public init(_ network: Network) throws {
    guard let head = network.layers.last as? Linear else {
      throw GeneratorError("the classifier's last layer must be linear (its features are that layer's input)")
    }
    self.network = network
    self.head = head
  }

  /// The `count` feature channels with the largest final-layer weight for `target`.
  public func topFeatures(_ target: Int, count: Int = 5) -> [Int] {
    let f = head.inputFeatures
    let weights = (0..<f).map { head.weight.value.scalars[target * f + $0] }
    return Array(weights.indices.sorted { weights[$0] > weights[$1] }.prefix(count))
  }

  /// Per image: `a·log p(c|x) + b·mean_{j∈features} φ_j(x)` and its gradient with respect to the
  /// images (N,C,H,W), summed over the batch for the gradient.
  /// - Returns: the per-image values, the per-image log-probabilities, and the gradient.
  public func evaluate(
    _ images: Tensor, target: Int, logWeight a: Float, featureWeight b: Float, features: [Int]
  ) -> (values: [Double], logProbabilities: [Double], gradient: Tensor) {
    let n = images.shape[0]
    let penultimate = network.layers.count - 2
    let (logits, captured) = network.forward(images, training: false, capture: penultimate)
    let k = logits.shape[1]
    let f = captured.count / n
    let probabilities = SoftmaxCrossEntropy.softmax(logits)
    var values = [Double](repeating: 0, count: n)
    var logs = values
    // ∂/∂logits of a·log softmax_c = a(onehot − p); ∂/∂φ of b·mean φ_J = b/|J| on J.
    var gradLogits = Tensor(shape: logits.shape)
    gradLogits.withMutablePointer { g in
      probabilities.withPointer { p in
        for i in 0..<n {
          logs[i] = log(max(Double(p[i * k + target]), 1e-30))
          for c in 0..<k { g[i * k + c] = a * ((c == target ? 1 : 0) - p[i * k + c]) }
        }
      }
    }
    // Through the head: ∂/∂φ = gradLogits · W (N,F), plus the feature term.
    var gradFeatures = Gemm.matmul(gradLogits, head.weight.value)
    gradFeatures.withMutablePointer { g in
      captured.withPointer { phi in
        for i in 0..<n {
          var mean = 0.0
          for j in features {
            mean += Double(phi[i * f + j])
            g[i * f + j] += b / Float(features.count)
          }
          mean /= Double(max(features.count, 1))
          values[i] = Double(a) * logs[i] + Double(b) * mean
        }
      }
    }
    var grad = gradFeatures.reshaped(captured.shape)
    for index in stride(from: penultimate, through: 0, by: -1) {
      grad = network.layers[index].backward(grad, needs: BackwardNeeds(inputGradient: true, parameterGradients: false))
    }
    return (values, logs, grad)
  }
}

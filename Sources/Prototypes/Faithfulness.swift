import Engine
import Foundation

/// Deletion and insertion AUC (Petsiuk et al. 2018, RISE §4): remove (or insert) pixels in
/// the order a saliency map ranks them, `pixelsPerStep` at a time, and average the target
/// class probability over the steps. Deletion starts from the image and ends at 0 (lower is
/// better); insertion starts from a σ=2 blur and ends at the image (higher is better).
public struct Faithfulness: Sendable {
  /// Pixels changed per step (28 for 28×28 images, 32 for 32×32).
  public var pixelsPerStep: Int

  /// Creates the metric.
  public init(pixelsPerStep: Int) { self.pixelsPerStep = pixelsPerStep }

  /// One image, its saliency map and the class whose probability is followed.
  public struct Case {
    /// The image (C,H,W).
    public var image: Tensor
    /// Saliency (H×W); pixels are changed from the highest value down.
    public var saliency: [Float]
    /// The class.
    public var target: Int

    /// Creates a case.
    public init(image: Tensor, saliency: [Float], target: Int) {
      self.image = image
      self.saliency = saliency
      self.target = target
    }
  }

  /// Deletion and insertion AUC for one image (C,H,W), its saliency (H×W) and class: the slow
  /// obvious path, one forward per curve (the batched `areas(network:cases:)` is tested
  /// against it).
  public func areas(
    network: Network, image: Tensor, saliency: [Float], target: Int
  ) -> (deletion: Double, insertion: Double) {
    let (c, h, w) = (image.shape[0], image.shape[1], image.shape[2])
    let (deletion, insertion, batch) = sequences(image, saliency)
    let probabilities = { (pixels: [Float]) -> [Double] in
      let logits = network.forward(Tensor(shape: [batch, c, h, w], scalars: pixels), training: false).logits
      let softmax = SoftmaxCrossEntropy.softmax(logits)
      let k = logits.shape[1]
      return (0..<batch).map { Double(softmax.scalars[$0 * k + target]) }
    }
    return (Self.area(probabilities(deletion)), Self.area(probabilities(insertion)))
  }

  /// Deletion and insertion AUC of many cases (images of one shape), with every curve's images
  /// forwarded together in batches of at most `batchImages`: the same numbers as `areas` per
  /// case, at a fraction of the cost.
  public func areas(network: Network, cases: [Case], batchImages: Int = 1024) -> [(
    deletion: Double, insertion: Double
  )] {
    guard let first = cases.first else { return [] }
    let (c, h, w) = (first.image.shape[0], first.image.shape[1], first.image.shape[2])
    let size = c * h * w
    // Curve images: case i's deletion curve, then its insertion curve.
    var pixels: [Float] = []
    var curveLength = 0
    for item in cases {
      precondition(item.image.shape == first.image.shape, "faithfulness cases must share one image shape")
      let (deletion, insertion, length) = sequences(item.image, item.saliency)
      pixels += deletion
      pixels += insertion
      curveLength = length
    }
    let total = pixels.count / size
    var probabilities = [Double](repeating: 0, count: total)
    var start = 0
    while start < total {
      let end = min(total, start + max(1, batchImages))
      let logits = network.forward(
        Tensor(shape: [end - start, c, h, w], scalars: Array(pixels[(start * size)..<(end * size)])), training: false
      ).logits
      let softmax = SoftmaxCrossEntropy.softmax(logits)
      let k = logits.shape[1]
      for row in start..<end {
        let target = cases[row / (2 * curveLength)].target
        probabilities[row] = Double(softmax.scalars[(row - start) * k + target])
      }
      start = end
    }
    return cases.indices.map { i in
      let base = i * 2 * curveLength
      return (
        Self.area(Array(probabilities[base..<(base + curveLength)])),
        Self.area(Array(probabilities[(base + curveLength)..<(base + 2 * curveLength)]))
      )
    }
  }

  /// The deletion and insertion curves' images (each `steps + 1` images, concatenated).
  func sequences(_ image: Tensor, _ saliency: [Float]) -> (deletion: [Float], insertion: [Float], count: Int) {
    let (c, h, w) = (image.shape[0], image.shape[1], image.shape[2])
    precondition(saliency.count == h * w, "saliency has \(saliency.count) values for \(h)×\(w)")
    let order = saliency.indices.sorted { saliency[$0] > saliency[$1] || (saliency[$0] == saliency[$1] && $0 < $1) }
    let blurred = GaussianBlur.apply(image, sigma: 2)
    let steps = (h * w + pixelsPerStep - 1) / pixelsPerStep
    var deletion = [Float]()
    var insertion = [Float]()
    deletion.reserveCapacity((steps + 1) * c * h * w)
    insertion.reserveCapacity((steps + 1) * c * h * w)
    var deleted = image.scalars
    var inserted = blurred.scalars
    for step in 0...steps {
      if step > 0 {
        for rank in ((step - 1) * pixelsPerStep)..<min(h * w, step * pixelsPerStep) {
          let pixel = order[rank]
          for channel in 0..<c {
            deleted[channel * h * w + pixel] = 0
            inserted[channel * h * w + pixel] = image.scalars[channel * h * w + pixel]
          }
        }
      }
      deletion += deleted
      insertion += inserted
    }
    return (deletion, insertion, steps + 1)
  }

  /// Trapezoidal area under a curve sampled at equally spaced points of [0, 1].
  public static func area(_ values: [Double]) -> Double {
    guard values.count > 1 else { return values.first ?? 0 }
    var sum = 0.0
    for i in 1..<values.count { sum += (values[i - 1] + values[i]) / 2 }
    return sum / Double(values.count - 1)
  }
}

/// Separable Gaussian blur with clamped borders, radius ⌈3σ⌉.
public enum GaussianBlur {
  /// Blurs every channel of a (C,H,W) image.
  public static func apply(_ image: Tensor, sigma: Double) -> Tensor {
    let (c, h, w) = (image.shape[0], image.shape[1], image.shape[2])
    let radius = Int((3 * sigma).rounded(.up))
    var kernel = (-radius...radius).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) }
    let total = kernel.reduce(0, +)
    kernel = kernel.map { $0 / total }
    var horizontal = image
    var out = image
    for channel in 0..<c {
      let base = channel * h * w
      for y in 0..<h {
        for x in 0..<w {
          var sum = 0.0
          for (offset, weight) in kernel.enumerated() {
            let xx = min(w - 1, max(0, x + offset - radius))
            sum += weight * Double(image.scalars[base + y * w + xx])
          }
          horizontal.scalars[base + y * w + x] = Float(sum)
        }
      }
      for y in 0..<h {
        for x in 0..<w {
          var sum = 0.0
          for (offset, weight) in kernel.enumerated() {
            let yy = min(h - 1, max(0, y + offset - radius))
            sum += weight * Double(horizontal.scalars[base + yy * w + x])
          }
          out.scalars[base + y * w + x] = Float(sum)
        }
      }
    }
    return out
  }
}

import Checkpoints
import Engine
import Foundation

/// What the analysis keeps of one checkpoint: GradCAM of every probe image for its true class
/// (raw mass, normalised map, zero-map flags), the network's outputs, and faithfulness on a
/// probe subsample. Cached per checkpoint so later refits never need the weights again.
public struct CheckpointObservation: Sendable, Equatable {
  /// Checkpoint step.
  public var step: Int
  /// Map height h and width w.
  public var height: Int, width: Int
  /// Normalised maps Ŝ = S/(max S + 1e-8), n×hw.
  public var normalized: [Float]
  /// Raw maps S = ReLU(Σ_k α_k A_k), n×hw.
  public var raw: [Float]
  /// Raw mass m_i = Σ_j S_ij.
  public var mass: [Float]
  /// Logits, n×K.
  public var logits: [Float]
  /// Classes K.
  public var classes: Int
  /// Deletion, insertion, random-order deletion and insertion AUC (means over the subsample);
  /// empty when this checkpoint was not measured (faithfulness runs at a lower cadence).
  public var faithfulness: [Double]

  /// Probe images n.
  public var count: Int { mass.count }
  /// Cells per map hw.
  public var cells: Int { height * width }
  /// Whether every map value and logit is finite (a diverged network gives inf or NaN).
  public var isFinite: Bool {
    logits.allSatisfy(\.isFinite) && raw.allSatisfy(\.isFinite) && normalized.allSatisfy(\.isFinite)
  }

  /// Images whose map is all zero.
  public var zeroMaps: Int { mass.filter { $0 == 0 }.count }

  /// Softmax probabilities, n×K.
  public var probabilities: [Float] {
    SoftmaxCrossEntropy.softmax(Tensor(shape: [count, classes], scalars: logits)).scalars
  }

  /// Predicted class of each image.
  public var predictions: [Int] {
    (0..<count).map { i in
      let row = logits[(i * classes)..<((i + 1) * classes)]
      return (row.indices.max { row[$0] < row[$1] } ?? i * classes) - i * classes
    }
  }

  /// Observes `network` on the probe images (n,C,H,W) with true `labels`, in batches that fit
  /// `memoryBudget` bytes (`AnalysisBatching`).
  /// - Returns: the observation and the target-layer activations (n,d,h,w).
  public static func observe(
    network: Network, step: Int, images: Tensor, labels: [Int], faithfulnessSample: Int = 50, seed: UInt64 = 1,
    memoryBudget: Int = AnalysisBatching.defaultBudgetBytes, timings: ((String, Double) -> Void)? = nil
  ) -> (CheckpointObservation, features: Tensor) {
    let started = Date()
    let pipeline = CAMPipeline(network: network)
    let n = images.shape[0]
    let imageSize = images.count / max(1, n)
    var normalized: [Float] = []
    var raw: [Float] = []
    var mass: [Float] = []
    var logits: [Float] = []
    var features: [Float] = []
    var featureShape: [Int] = []
    var mapShape = [0, 0]
    let batchSize = AnalysisBatching.batchSize(network, budgetBytes: memoryBudget)
    var start = 0
    while start < n {
      let end = min(n, start + batchSize)
      let batch = Tensor(
        shape: [end - start] + Array(images.shape.dropFirst()),
        scalars: Array(images.scalars[(start * imageSize)..<(end * imageSize)]))
      let result = pipeline.run(batch, target: .classes(Array(labels[start..<end])))
      normalized += result.normalized.scalars
      raw += result.raw.scalars
      mass += result.mass
      logits += result.logits.scalars
      features += result.activations.scalars
      featureShape = Array(result.activations.shape.dropFirst())
      mapShape = [result.raw.shape[1], result.raw.shape[2]]
      start = end
    }
    let classes = logits.count / max(1, n)
    timings?("gradcam", Date().timeIntervalSince(started))
    let faithfulnessStart = Date()
    defer { timings?("faithfulness", Date().timeIntervalSince(faithfulnessStart)) }
    let faithfulness = Self.faithfulness(
      network: network, images: images, labels: labels, normalized: normalized, mapShape: mapShape,
      sample: faithfulnessSample, seed: seed)
    let observation = CheckpointObservation(
      step: step, height: mapShape[0], width: mapShape[1], normalized: normalized, mass: mass, logits: logits,
      classes: classes,
      faithfulness: faithfulness)
    return (observation, Tensor(shape: [n] + featureShape, scalars: features))
  }

  /// Mean deletion/insertion AUC of GradCAM order and of a random order on an evenly spaced
  /// probe subsample.
  public static func faithfulness(
    network: Network, images: Tensor, labels: [Int], normalized: [Float], mapShape: [Int], sample: Int, seed: UInt64
  ) -> [Double] {
    let n = images.shape[0]
    guard n > 0, sample > 0 else { return [] }
    let (c, h, w) = (images.shape[1], images.shape[2], images.shape[3])
    let metric = Faithfulness(pixelsPerStep: w)
    let chosen = Array(stride(from: 0, to: n, by: max(1, n / sample)).prefix(sample))
    var generator = SplitMix64(seed: seed)
    let cells = mapShape[0] * mapShape[1]
    var cases: [Faithfulness.Case] = []
    for i in chosen {
      let image = Tensor(shape: [c, h, w], scalars: Array(images.scalars[(i * c * h * w)..<((i + 1) * c * h * w)]))
      let map = Tensor(shape: [1] + mapShape, scalars: Array(normalized[(i * cells)..<((i + 1) * cells)]))
      let saliency = Bilinear.resize(map, height: h, width: w).scalars
      let random = (0..<(h * w)).map { _ in Float(generator.next() >> 40) }
      cases.append(Faithfulness.Case(image: image, saliency: saliency, target: labels[i]))
      cases.append(Faithfulness.Case(image: image, saliency: random, target: labels[i]))
    }
    // All curves in large batches (one forward per curve made this stage cost more than
    // GradCAM of the whole probe set), sized by the analysis memory budget.
    let areas = metric.areas(network: network, cases: cases, batchImages: AnalysisBatching.batchSize(network))
    var sums = [0.0, 0.0, 0.0, 0.0]
    for pair in stride(from: 0, to: areas.count, by: 2) {
      sums[0] += areas[pair].deletion
      sums[1] += areas[pair].insertion
      sums[2] += areas[pair + 1].deletion
      sums[3] += areas[pair + 1].insertion
    }
    return sums.map { $0 / Double(chosen.count) }
  }

  /// The cache file (safetensors).
  public var file: SafetensorsFile {
    SafetensorsFile(
      tensors: [
        "normalized": TensorRecord(floats: normalized, shape: [count, height, width]),
        "raw": TensorRecord(floats: raw, shape: [count, height, width]),
        "mass": TensorRecord(floats: mass, shape: [count]),
        "logits": TensorRecord(floats: logits, shape: [count, classes]),
        "faithfulness": TensorRecord(floats: faithfulness.map(Float.init), shape: [faithfulness.count]),
      ],
      metadata: ["i2x.step": String(step)])
  }

  /// Reads a cache file.
  public init(file: SafetensorsFile) throws {
    let maps = try file.tensor("normalized")
    guard maps.shape.count == 3 else { throw SafetensorsError(.invalidShape, tensor: "normalized", "expected [n,h,w]") }
    let logitsRecord = try file.tensor("logits")
    self.init(
      step: Int(file.metadata["i2x.step"] ?? "") ?? 0, height: maps.shape[1], width: maps.shape[2],
      normalized: try maps.floats(), raw: try file.tensor("raw").floats(), mass: try file.tensor("mass").floats(),
      logits: try logitsRecord.floats(),
      classes: logitsRecord.shape.last ?? 0, faithfulness: try file.tensor("faithfulness").floats().map(Double.init))
  }

  /// Creates an observation from its parts (`raw` defaults to the normalised maps).
  public init(
    step: Int, height: Int, width: Int, normalized: [Float], raw: [Float]? = nil, mass: [Float], logits: [Float],
    classes: Int, faithfulness: [Double]
  ) {
    self.step = step
    self.height = height
    self.width = width
    self.normalized = normalized
    self.raw = raw ?? normalized
    self.mass = mass
    self.logits = logits
    self.classes = classes
    self.faithfulness = faithfulness
  }
}

import Engine
import Foundation

/// Tests a prototype by intervention on the probe set (DESIGN §6b), at one checkpoint:
///
/// The region of a prototype in an image is its cells there, upsampled to image pixels by the
/// galleries' nearest mapping. A *small* prototype (on average at most `smallRegion` of the map
/// per image, like a mark) has its cells grown by one cell on every side (a target-layer cell
/// sees beyond its own block of pixels: on the planted-mark runs, the cells alone left a third
/// of the mark unmasked), and its control is the same region moved by a random whole-cell
/// offset that keeps it inside the map (the same area, elsewhere; overlapping the original as
/// little as 20 tries allow). A *large* one (a frame, a background) is not grown — grown, the
/// ring of a border covered most of the image and a paste carried the whole object — and
/// cannot be moved elsewhere, so its controls keep the place and change the content: the mask
/// control masks as many cells drawn at random from the map, and the paste control pastes the
/// same region from a random probe of another class (the same area at the same place; only
/// the class of what is pasted differs).
///
/// - **mask**: on class c's probes where the prototype is present (P_ik ≥ 0.5), replace the
///   region's pixels by the probe set's mean image; compare class-c accuracy and mean
///   confidence before and after with the control region masked the same way;
/// - **paste**: copy a class-c source image's region (sources: the class-c probes where it is
///   most intense, in turn) onto probes of other classes not already predicted c, at the same
///   place; report the rate of predictions that flip to c, against pasting the source's
///   control region at its place.
///
/// Every rate is a `BinomialInterval` (95% Wilson) with its sample size. Pure: the caller loads
/// the network and the probe set.
public struct Intervention: Codable, Sendable, Equatable {
  /// Prototype id and class tested, and the checkpoint.
  public var prototype: Int
  public var label: Int
  public var step: Int
  /// Cells the prototype covers per masked image, on average.
  public var meanCells: Double
  /// Prototypes covering on average at most this fraction of the map per image are small.
  public static let smallRegion = 0.125
  public var mask: MaskOutcome
  public var paste: PasteOutcome
  /// "small" (grown region, moved controls) or "large" (its cells; random cells and
  /// another class's content as controls); nil in interventions stored before the distinction.
  public var region: String?
  /// Prototypes whose cells joined a large region (nil: none).
  public var companions: [Int]?
  /// The cue shape (`CueShape.rawValue`) the prototype had for the class in the analysis of
  /// the checkpoint it was tested at (nil: none, or stored before this was recorded). Only a
  /// confirming test of a prototype shaped like a cue establishes a cue finding
  /// (`Findings.Standing`).
  public var cueShape: String? = nil

  enum CodingKeys: String, CodingKey {
    case prototype
    case label = "class"
    case step
    case meanCells = "mean_cells"
    case mask, paste, region, companions
    case cueShape = "cue_shape"
  }

  /// Class-c accuracy and confidence with the prototype masked and with the control masked.
  public struct MaskOutcome: Codable, Sendable, Equatable {
    /// Accuracy of the masked probes before, after masking the prototype, after the control.
    public var before: BinomialInterval
    public var masked: BinomialInterval
    public var control: BinomialInterval
    /// Mean class-c probability before, after, after the control.
    public var confidenceBefore: Double
    public var confidenceMasked: Double
    public var confidenceControl: Double

    enum CodingKeys: String, CodingKey {
      case before, masked, control
      case confidenceBefore = "confidence_before"
      case confidenceMasked = "confidence_masked"
      case confidenceControl = "confidence_control"
    }

    /// Accuracy drop from masking the prototype, and from the control.
    public var drop: Double { before.rate - masked.rate }
    public var controlDrop: Double { before.rate - control.rate }
    /// Masking the prototype lowers accuracy below the control's and below the accuracy before,
    /// beyond the intervals.
    public var isSignificant: Bool { control.isAbove(masked) && before.isAbove(masked) }
  }

  /// Flip rates to the class when pasting the prototype's pixels and a random patch.
  public struct PasteOutcome: Codable, Sendable, Equatable {
    public var pasted: BinomialInterval
    public var control: BinomialInterval
    /// Source images used.
    public var sources: Int

    /// Pasting the prototype flips more probes than the control, beyond both intervals.
    public var isSignificant: Bool { pasted.isAbove(control) }
  }

  /// What an intervention needs of the probe set and the analysis at `step`.
  public struct Inputs {
    /// The network at `step`.
    public var network: Network
    /// Probe images (pixel/255) and true labels.
    public var images: ProbeImages
    public var labels: [Int]
    /// Prototype id of every target-layer cell (n·hw) and the map size, from the vocabulary
    /// fitted on `step`'s features.
    public var cellPrototypes: [Int]
    public var mapHeight: Int, mapWidth: Int
    public var step: Int
    /// At most this many probes of other classes receive a paste (evenly spaced).
    public var pasteTargets = 300

    /// Collects the inputs.
    public init(
      network: Network, images: ProbeImages, labels: [Int], cellPrototypes: [Int], mapHeight: Int, mapWidth: Int,
      step: Int
    ) {
      precondition(
        labels.count == images.count && cellPrototypes.count == images.count * mapHeight * mapWidth,
        "Intervention.Inputs: \(labels.count) labels, \(cellPrototypes.count) cells for \(images.count) images")
      self.network = network
      self.images = images
      self.labels = labels
      self.cellPrototypes = cellPrototypes
      self.mapHeight = mapHeight
      self.mapWidth = mapWidth
      self.step = step
    }
  }

  /// Runs the mask and paste tests of prototype `id` for class `label`, given the probes'
  /// `intensity` of it (P_ik, n) and the unmodified predictions and class probabilities
  /// (`Intervention.baseline`), seeded. A large prototype's region also takes the cells of its
  /// `companions` (the other parts of the same cue: on the border runs the frame split into 2–3
  /// prototypes, and pasting one part alone flipped 1% of probes where the whole frame's parts
  /// together flipped most).
  /// - Returns: nil when no class-`label` probe has the prototype present.
  public static func measure(
    prototype id: Int, label c: Int, intensity: [Double], baseline: (predictions: [Int], probabilities: [Float]),
    inputs: Inputs, seed: UInt64, companions: [Int] = []
  ) -> Intervention? {
    let n = inputs.labels.count
    let cells = inputs.mapHeight * inputs.mapWidth
    let classes = baseline.probabilities.count / max(1, n)
    let holders = (0..<n).filter { inputs.labels[$0] == c && intensity[$0] >= 0.5 }
    guard !holders.isEmpty else { return nil }
    var generator = SplitMix64(seed: seed &+ UInt64(id) &* 1_000_003 &+ UInt64(c))
    func cellsOf(_ image: Int, _ prototype: Int) -> [Int] {
      (0..<cells).filter { inputs.cellPrototypes[image * cells + $0] == prototype }
    }
    let mean = meanImage(inputs.images)

    let small =
      Double(holders.reduce(0) { $0 + cellsOf($1, id).count }) <= smallRegion * Double(cells * holders.count)
    let members = Set([id] + companions)
    let region = { (image: Int) -> [Int] in
      small
        ? grown(cellsOf(image, id), inputs)
        : (0..<cells).filter { members.contains(inputs.cellPrototypes[image * cells + $0]) }
    }

    // Mask.
    var maskedImages: [[Float]] = []
    var controlImages: [[Float]] = []
    var totalCells = 0
    for i in holders {
      totalCells += cellsOf(i, id).count
      let own = region(i)
      let control = small ? shifted(own, inputs, using: &generator) : scattered(own.count, cells, using: &generator)
      maskedImages.append(replace(image: i, cells: own, from: mean, inputs: inputs))
      controlImages.append(replace(image: i, cells: control, from: mean, inputs: inputs))
    }
    let maskedOut = predict(maskedImages, inputs)
    let controlOut = predict(controlImages, inputs)
    func correct(_ predictions: [Int]) -> Int { predictions.filter { $0 == c }.count }
    func confidence(_ probabilities: [Float], rows: Int) -> Double {
      rows == 0 ? 0 : (0..<rows).reduce(0.0) { $0 + Double(probabilities[$1 * classes + c]) } / Double(rows)
    }
    let beforeCorrect = holders.filter { baseline.predictions[$0] == c }.count
    let beforeConfidence =
      holders.reduce(0.0) { $0 + Double(baseline.probabilities[$1 * classes + c]) } / Double(holders.count)
    let mask = MaskOutcome(
      before: BinomialInterval(successes: beforeCorrect, trials: holders.count),
      masked: BinomialInterval(successes: correct(maskedOut.predictions), trials: holders.count),
      control: BinomialInterval(successes: correct(controlOut.predictions), trials: holders.count),
      confidenceBefore: beforeConfidence,
      confidenceMasked: confidence(maskedOut.probabilities, rows: holders.count),
      confidenceControl: confidence(controlOut.probabilities, rows: holders.count))

    // Paste.
    let sources = holders.sorted { intensity[$0] > intensity[$1] }.prefix(10).map { $0 }
    let eligible = (0..<n).filter { inputs.labels[$0] != c && baseline.predictions[$0] != c }
    let stride = max(1, eligible.count / max(1, inputs.pasteTargets))
    let targets = Swift.stride(from: 0, to: eligible.count, by: stride).prefix(inputs.pasteTargets).map {
      eligible[$0]
    }
    let otherClass = (0..<n).filter { inputs.labels[$0] != c }
    var pastedImages: [[Float]] = []
    var randomImages: [[Float]] = []
    for (index, target) in targets.enumerated() {
      let source = sources[index % sources.count]
      let own = region(source)
      pastedImages.append(paste(from: source, onto: target, cells: own, inputs: inputs))
      if small {
        randomImages.append(
          paste(from: source, onto: target, cells: shifted(own, inputs, using: &generator), inputs: inputs))
      } else {
        // A donor other than the target itself (which would change nothing).
        let draw = Int(generator.next() % UInt64(otherClass.count))
        let donor = otherClass[draw] == target ? otherClass[(draw + 1) % otherClass.count] : otherClass[draw]
        randomImages.append(paste(from: donor, onto: target, cells: own, inputs: inputs))
      }
    }
    let pasted = predict(pastedImages, inputs).predictions
    let random = predict(randomImages, inputs).predictions
    let outcome = PasteOutcome(
      pasted: BinomialInterval(successes: correct(pasted), trials: targets.count),
      control: BinomialInterval(successes: correct(random), trials: targets.count), sources: sources.count)
    return Intervention(
      prototype: id, label: c, step: inputs.step, meanCells: Double(totalCells) / Double(holders.count), mask: mask,
      paste: outcome, region: small ? "small" : "large", companions: small || companions.isEmpty ? nil : companions)
  }

  /// `cells` and their 8 neighbours (within the map).
  static func grown(_ cells: [Int], _ inputs: Inputs) -> [Int] {
    grown(cells, mapHeight: inputs.mapHeight, mapWidth: inputs.mapWidth)
  }

  /// `cells` of an h×w map and their 8 neighbours (within the map), sorted.
  static func grown(_ cells: [Int], mapHeight h: Int, mapWidth w: Int) -> [Int] {
    var region = Set<Int>()
    for cell in cells {
      let (row, column) = (cell / w, cell % w)
      for dy in -1...1 {
        for dx in -1...1 where (0..<h).contains(row + dy) && (0..<w).contains(column + dx) {
          region.insert((row + dy) * w + column + dx)
        }
      }
    }
    return region.sorted()
  }

  /// `region` moved by a random whole-cell offset that keeps every cell inside the map, the one
  /// overlapping `region` least among 20 draws (`region` itself when it cannot move).
  static func shifted(_ region: [Int], _ inputs: Inputs, using generator: inout SplitMix64) -> [Int] {
    let (h, w) = (inputs.mapHeight, inputs.mapWidth)
    guard let top = region.map({ $0 / w }).min(), let bottom = region.map({ $0 / w }).max(),
      let left = region.map({ $0 % w }).min(), let right = region.map({ $0 % w }).max()
    else { return region }
    let rows = Array((-top)...(h - 1 - bottom))
    let columns = Array((-left)...(w - 1 - right))
    let original = Set(region)
    var best = region
    var bestOverlap = region.count + 1
    for _ in 0..<20 {
      let dy = rows[Int(generator.next() % UInt64(rows.count))]
      let dx = columns[Int(generator.next() % UInt64(columns.count))]
      let moved = region.map { $0 + dy * w + dx }
      let overlap = moved.filter { original.contains($0) }.count
      if overlap < bestOverlap {
        (best, bestOverlap) = (moved, overlap)
      }
      if overlap == 0 { break }
    }
    return best
  }

  /// `count` distinct cells of a map of `cells`, drawn at random.
  static func scattered(_ count: Int, _ cells: Int, using generator: inout SplitMix64) -> [Int] {
    var pool = Array(0..<cells)
    for i in 0..<min(count, cells) {
      pool.swapAt(i, i + Int(generator.next() % UInt64(cells - i)))
    }
    return Array(pool.prefix(count)).sorted()
  }

  /// Predictions and class probabilities of the unmodified probe set.
  public static func baseline(_ inputs: Inputs) -> (predictions: [Int], probabilities: [Float]) {
    let size = inputs.images.channels * inputs.images.height * inputs.images.width
    return predict(
      (0..<inputs.images.count).map { Array(inputs.images.pixels[($0 * size)..<(($0 + 1) * size)]) }, inputs)
  }

  /// Per-pixel mean of the probe images (C·H·W).
  static func meanImage(_ images: ProbeImages) -> [Float] {
    let size = images.channels * images.height * images.width
    var mean = [Float](repeating: 0, count: size)
    for i in 0..<images.count { for q in 0..<size { mean[q] += images.pixels[i * size + q] } }
    return mean.map { $0 / Float(max(1, images.count)) }
  }

  /// Image `i` with the pixels of `cells` taken from `source` (a C·H·W image).
  static func replace(image i: Int, cells: [Int], from source: [Float], inputs: Inputs) -> [Float] {
    let images = inputs.images
    let size = images.channels * images.height * images.width
    var out = Array(images.pixels[(i * size)..<((i + 1) * size)])
    var chosen = [Bool](repeating: false, count: inputs.mapHeight * inputs.mapWidth)
    for cell in cells { chosen[cell] = true }
    for y in 0..<images.height {
      for x in 0..<images.width
      where chosen[images.cell(y: y, x: x, mapHeight: inputs.mapHeight, mapWidth: inputs.mapWidth)] {
        for channel in 0..<images.channels {
          let q = (channel * images.height + y) * images.width + x
          out[q] = source[q]
        }
      }
    }
    return out
  }

  /// Probe `target` with the pixels of `cells` copied from probe `source`.
  static func paste(from source: Int, onto target: Int, cells: [Int], inputs: Inputs) -> [Float] {
    let size = inputs.images.channels * inputs.images.height * inputs.images.width
    return replace(
      image: target, cells: cells, from: Array(inputs.images.pixels[(source * size)..<((source + 1) * size)]),
      inputs: inputs)
  }

  /// Predicted class and softmax probabilities of each image, in batches.
  static func predict(_ images: [[Float]], _ inputs: Inputs) -> (predictions: [Int], probabilities: [Float]) {
    let shape = [inputs.images.channels, inputs.images.height, inputs.images.width]
    let batchSize = AnalysisBatching.batchSize(inputs.network)
    var predictions: [Int] = []
    var probabilities: [Float] = []
    var start = 0
    while start < images.count {
      let end = min(images.count, start + batchSize)
      let batch = Tensor(shape: [end - start] + shape, scalars: images[start..<end].flatMap { $0 })
      let logits = inputs.network.forward(batch, training: false).logits
      let k = logits.shape[1]
      let p = SoftmaxCrossEntropy.softmax(logits).scalars
      probabilities += p
      for row in 0..<(end - start) {
        var best = 0
        for j in 1..<k where p[row * k + j] > p[row * k + best] { best = j }
        predictions.append(best)
      }
      start = end
    }
    return (predictions, probabilities)
  }
}

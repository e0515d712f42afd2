import Foundation

/// The probe images an analysis may look at for pixel statistics: pixel/255 values, n×C×H×W.
public struct ProbeImages: Sendable {
  /// Pixels in 0…1, image-major, CHW within an image.
  public var pixels: [Float]
  /// Images n, channels C, height H, width W.
  public var count: Int, channels: Int, height: Int, width: Int

  /// Wraps `pixels` of `shape` (n,C,H,W).
  public init(pixels: [Float], shape: [Int]) {
    precondition(
      shape.count == 4 && pixels.count == shape.reduce(1, *), "ProbeImages: \(pixels.count) pixels for \(shape)")
    self.pixels = pixels
    (count, channels, height, width) = (shape[0], shape[1], shape[2], shape[3])
  }

  /// The target-layer cell (of an h×w map) that image pixel (y, x) falls in; the same nearest
  /// mapping the galleries use to tint a prototype's cells.
  public func cell(y: Int, x: Int, mapHeight: Int, mapWidth: Int) -> Int {
    (y * mapHeight / height) * mapWidth + (x * mapWidth / width)
  }
}

/// Where a prototype lives and what it looks like (DESIGN §6b), over the probes where it is
/// present (P_ik ≥ 0.5, the same test as ρ) at the latest checkpoint.
///
/// - footprint F[j] = fraction of those probes whose cell j is assigned to the prototype;
///   fixed-position score = 1 − H(F/ΣF)/ln(hw) (1: always the same one cell; near 0: anywhere);
/// - size: mean number of its cells per present probe (and that over hw);
/// - content variability: the standard deviation across present probes of each pixel under its
///   cells (channels averaged), weighted by how often the pixel is covered, divided by the mean
///   per-pixel standard deviation of the whole probe set. Near 0: the same pixels every time (a
///   mark); near 1 or above: as varied as images are (an object part);
/// - presence split: per class where it is present (ρ ≥ 0.1), the probe accuracy of the
///   class's probes with and without it.
public struct PrototypeTraits: Codable, Sendable, Equatable {
  /// Probes where the prototype is present (P_ik ≥ 0.5).
  public var presentProbes: Int
  /// F: per target-layer cell, the fraction of present probes where it is assigned (h·w).
  public var footprint: [Double]
  /// 1 − normalised entropy of the footprint (0 when never present).
  public var fixedPosition: Double
  /// Cells where the footprint is at least half its maximum, and their bounding box in image
  /// pixels [top, left, bottom, right] (inclusive; nil without images).
  public var hotCells: [Int]
  public var pixelBox: [Int]?
  /// Mean cells per present probe, and that as a fraction of h·w.
  public var meanCells: Double
  public var sizeFraction: Double
  /// Pixel standard deviation under its cells relative to the probe set's (nil without images
  /// or with fewer than 2 present probes); the unnormalised value (pixels in 0…1) beside it.
  public var contentVariability: Double?
  public var contentStandardDeviation: Double?
  /// Per class where it is present: accuracy with it present and absent.
  public var presenceSplit: [PresenceSplit]

  enum CodingKeys: String, CodingKey {
    case presentProbes = "present_probes"
    case footprint
    case fixedPosition = "fixed_position"
    case hotCells = "hot_cells"
    case pixelBox = "pixel_box"
    case meanCells = "mean_cells"
    case sizeFraction = "size_fraction"
    case contentVariability = "content_variability"
    case contentStandardDeviation = "content_standard_deviation"
    case presenceSplit = "presence_split"
  }

  /// Probe accuracy of one class with a prototype present and absent.
  public struct PresenceSplit: Codable, Sendable, Equatable {
    public var label: Int
    public var presentProbes: Int
    public var presentCorrect: Int
    public var absentProbes: Int
    public var absentCorrect: Int

    /// Accuracy with the prototype present (nil when no probe has it).
    public var presentAccuracy: Double? { presentProbes > 0 ? Double(presentCorrect) / Double(presentProbes) : nil }
    /// Accuracy with it absent (nil when every probe has it).
    public var absentAccuracy: Double? { absentProbes > 0 ? Double(absentCorrect) / Double(absentProbes) : nil }

    enum CodingKeys: String, CodingKey {
      case label = "class"
      case presentProbes = "present_probes"
      case presentCorrect = "present_correct"
      case absentProbes = "absent_probes"
      case absentCorrect = "absent_correct"
    }
  }

  /// Measures prototype column `p` (of `k`) given the latest intensities P (n×k), the cell
  /// assignment (n·hw ids) and the prototype's id.
  /// - Parameters:
  ///   - presence: ρ_pc for every class.
  ///   - predictions: the latest predicted class of every probe.
  ///   - reference: `referenceDeviation(images)`, computed once for all prototypes.
  public static func measure(
    column p: Int, id: Int, k: Int, intensity: [Double], cellPrototypes: [Int], mapHeight: Int, mapWidth: Int,
    labels: [Int], predictions: [Int], presence: [Double], images: ProbeImages?, reference: Double
  ) -> PrototypeTraits {
    let n = labels.count
    let cells = mapHeight * mapWidth
    precondition(
      intensity.count == n * k && cellPrototypes.count == n * cells && predictions.count == n,
      "PrototypeTraits: \(intensity.count) intensities, \(cellPrototypes.count) cells, \(predictions.count) "
        + "predictions for n=\(n), k=\(k), hw=\(cells)")
    let present = (0..<n).filter { intensity[$0 * k + p] >= 0.5 }
    var counts = [Double](repeating: 0, count: cells)
    var total = 0.0
    for i in present {
      for j in 0..<cells where cellPrototypes[i * cells + j] == id {
        counts[j] += 1
        total += 1
      }
    }
    let footprint = counts.map { present.isEmpty ? 0 : $0 / Double(present.count) }
    let fixed = total > 0 ? 1 - RunAnalysis.normalisedEntropy(counts) : 0
    let peak = footprint.max() ?? 0
    let hot = peak > 0 ? (0..<cells).filter { footprint[$0] >= 0.5 * peak } : []
    var box: [Int]?
    var variability: Double?
    var deviation: Double?
    if let images, images.count == n {
      box = pixelBox(hot, images: images, mapHeight: mapHeight, mapWidth: mapWidth)
      if present.count >= 2 {
        deviation = contentDeviation(
          present, id: id, images: images, cellPrototypes: cellPrototypes, mapHeight: mapHeight, mapWidth: mapWidth)
        variability = deviation.map { reference > 0 ? $0 / reference : 0 }
      }
    }
    let split = (0..<presence.count).filter { presence[$0] >= 0.1 }.map { c -> PresenceSplit in
      let members = (0..<n).filter { labels[$0] == c }
      let with = members.filter { intensity[$0 * k + p] >= 0.5 }
      let without = members.filter { intensity[$0 * k + p] < 0.5 }
      return PresenceSplit(
        label: c, presentProbes: with.count, presentCorrect: with.filter { predictions[$0] == c }.count,
        absentProbes: without.count, absentCorrect: without.filter { predictions[$0] == c }.count)
    }
    return PrototypeTraits(
      presentProbes: present.count, footprint: footprint, fixedPosition: fixed, hotCells: hot, pixelBox: box,
      meanCells: present.isEmpty ? 0 : total / Double(present.count),
      sizeFraction: present.isEmpty ? 0 : total / Double(present.count * cells), contentVariability: variability,
      contentStandardDeviation: deviation, presenceSplit: split)
  }

  /// Inclusive pixel bounding box [top, left, bottom, right] of `cells`.
  static func pixelBox(_ cells: [Int], images: ProbeImages, mapHeight: Int, mapWidth: Int) -> [Int]? {
    var box: [Int]?
    for y in 0..<images.height {
      for x in 0..<images.width where cells.contains(images.cell(y: y, x: x, mapHeight: mapHeight, mapWidth: mapWidth))
      {
        box = box.map { [min($0[0], y), min($0[1], x), max($0[2], y), max($0[3], x)] } ?? [y, x, y, x]
      }
    }
    return box
  }

  /// Per-pixel standard deviation across `present` probes of the pixels under the prototype's
  /// cells (channel mean), weighted by coverage; nil when no pixel is covered twice.
  static func contentDeviation(
    _ present: [Int], id: Int, images: ProbeImages, cellPrototypes: [Int], mapHeight: Int, mapWidth: Int
  ) -> Double? {
    let (h, w, c) = (images.height, images.width, images.channels)
    let cells = mapHeight * mapWidth
    let pixelCell = (0..<(h * w)).map { images.cell(y: $0 / w, x: $0 % w, mapHeight: mapHeight, mapWidth: mapWidth) }
    var sum = [Double](repeating: 0, count: h * w)
    var squares = [Double](repeating: 0, count: h * w)
    var count = [Double](repeating: 0, count: h * w)
    for i in present {
      for q in 0..<(h * w) where cellPrototypes[i * cells + pixelCell[q]] == id {
        var v = 0.0
        for channel in 0..<c { v += Double(images.pixels[((i * c + channel) * h * w) + q]) }
        v /= Double(c)
        sum[q] += v
        squares[q] += v * v
        count[q] += 1
      }
    }
    var weighted = 0.0
    var weights = 0.0
    for q in 0..<(h * w) where count[q] >= 2 {
      let mean = sum[q] / count[q]
      let variance = max(0, (squares[q] - count[q] * mean * mean) / (count[q] - 1))
      weighted += count[q] * variance.squareRoot()
      weights += count[q]
    }
    return weights > 0 ? weighted / weights : nil
  }

  /// Mean over pixel positions of the standard deviation across all probe images (channel mean).
  public static func referenceDeviation(_ images: ProbeImages) -> Double {
    let (n, h, w, c) = (images.count, images.height, images.width, images.channels)
    guard n >= 2 else { return 0 }
    var total = 0.0
    for q in 0..<(h * w) {
      var sum = 0.0
      var squares = 0.0
      for i in 0..<n {
        var v = 0.0
        for channel in 0..<c { v += Double(images.pixels[((i * c + channel) * h * w) + q]) }
        v /= Double(c)
        sum += v
        squares += v * v
      }
      let mean = sum / Double(n)
      total += max(0, (squares - Double(n) * mean * mean) / Double(n - 1)).squareRoot()
    }
    return total / Double(h * w)
  }
}

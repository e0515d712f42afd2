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
/// - where, for cues that are not small marks: edge share = the footprint's mass on the map's
///   outermost ring of cells; frame lifted = of the image pixels in the outermost
///   `framePixels` rows and columns under its hot cells, the fraction whose mean over the present
///   probes exceeds their mean over the other probes by at least `liftedBy` (a frame stamped on
///   the images: near 1; a checkerboard texture: at most the pattern's duty, ½); dark share =
///   the fraction of the pixels under its cells, over the present probes, below `darkBelow`
///   (lying on the background rather than on the object), and dark lift = the mean of those
///   dark pixels minus the mean of every dark pixel of the other probes (something laid on the
///   background: a texture of amplitude 96 lifts it by about 0.18; the empty gap between a
///   trouser's legs by about 0);
/// - mark pixels: of the image pixels near its hot cells (those cells grown by one cell, the
///   region an intervention on a small prototype takes), how many carry a constant mark of the
///   class where it is most present (`markedPixels`): the same value (within `markTolerance`)
///   on at least `markAgreement` of that class's probes, and that value at least `liftedBy`
///   above the other probes' mean there. A stamped 3×3 square gives 9; no pixel of any class of
///   clean Fashion-MNIST qualifies (its only near-constant pixels are the empty background);
/// - presence split: per class where it is present (ρ ≥ 0.1), the probe accuracy of the
///   class's probes with and without it.
public struct PrototypeTraits: Codable, Sendable, Equatable {
  /// Probes where the prototype is present (P_ik ≥ 0.5).
  public var presentProbes: Int
  /// F: per target-layer cell, the fraction of present probes where it is assigned (h·w, to 3
  /// decimals; empty for maps of more than `footprintCells` cells, where `hot_cells` and
  /// `pixel_box` still say where it is).
  public var footprint: [Double]

  /// Largest map (h·w) whose footprint is stored.
  public static let footprintCells = 256
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
  /// Footprint mass on the map's outermost ring of cells (nil when never present).
  public var edgeShare: Double?
  /// Fraction of the frame pixels under its hot cells that are brighter where it is present
  /// (nil without images, without frame pixels under its hot cells, or without absent probes).
  public var frameLifted: Double?
  /// Fraction of the pixels under its cells below `darkBelow` (nil without images or presence).
  public var darkShare: Double?
  /// Mean of those dark pixels minus the mean of the other probes' dark pixels (nil without
  /// images, dark pixels or absent probes).
  public var darkLift: Double?
  /// Pixels near its hot cells that carry a constant mark of the class where it is most
  /// present (nil without images or presence).
  public var markPixels: Int?

  /// Width of the image frame `frameLifted` looks at, in pixels: the outermost pixel, which a
  /// frame of any width covers.
  public static let framePixels = 1
  /// Lift (pixel/255) that makes a frame pixel count as lifted.
  public static let liftedBy = 0.25
  /// Pixel value (pixel/255) below which a pixel counts as background.
  public static let darkBelow = 0.5
  /// A mark pixel's value agrees within this (pixel/255) with the class's median…
  public static let markTolerance = 0.05
  /// …on at least this fraction of the class's probes.
  public static let markAgreement = 0.75

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
    case edgeShare = "edge_share"
    case frameLifted = "frame_lifted"
    case darkShare = "dark_share"
    case darkLift = "dark_lift"
    case markPixels = "mark_pixels"
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
  ///   - marked: `markedPixels(images, labels:)`, computed once for all prototypes (nil: not
  ///     measured).
  ///   - background: `darkPixels(images)`, computed once for all prototypes (nil: here).
  public static func measure(
    column p: Int, id: Int, k: Int, intensity: [Double], cellPrototypes: [Int], mapHeight: Int, mapWidth: Int,
    labels: [Int], predictions: [Int], presence: [Double], images: ProbeImages?, reference: Double,
    marked: [[Bool]]? = nil, background: [DarkPixels]? = nil
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
    // Stored rounded to 3 decimals (reports are rewritten at every checkpoint; a 7×7 footprint
    // then takes about 200 bytes of JSON), and only for maps of at most `footprintCells` cells.
    let footprint = counts.map { present.isEmpty ? 0 : ($0 / Double(present.count) * 1000).rounded() / 1000 }
    let fixed = total > 0 ? 1 - RunAnalysis.normalisedEntropy(counts) : 0
    let peak = footprint.max() ?? 0
    let hot = peak > 0 ? (0..<cells).filter { footprint[$0] >= 0.5 * peak } : []
    var box: [Int]?
    var variability: Double?
    var deviation: Double?
    var lifted: Double?
    var dark: (share: Double, lift: Double?)?
    var markPixels: Int?
    if let images, images.count == n {
      box = pixelBox(hot, images: images, mapHeight: mapHeight, mapWidth: mapWidth)
      if let marked, total > 0, let top = presence.indices.max(by: { presence[$0] < presence[$1] }),
        marked.indices.contains(top)
      {
        markPixels = count(marked[top], near: hot, images: images, mapHeight: mapHeight, mapWidth: mapWidth)
      }
      lifted = frameLift(present, hot: hot, images: images, mapHeight: mapHeight, mapWidth: mapWidth)
      dark = darkFraction(
        present, id: id, images: images, cellPrototypes: cellPrototypes, mapHeight: mapHeight, mapWidth: mapWidth,
        background: background)
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
      presentProbes: present.count, footprint: cells <= footprintCells ? footprint : [], fixedPosition: fixed,
      hotCells: hot, pixelBox: box,
      meanCells: present.isEmpty ? 0 : total / Double(present.count),
      sizeFraction: present.isEmpty ? 0 : total / Double(present.count * cells), contentVariability: variability,
      contentStandardDeviation: deviation, presenceSplit: split,
      edgeShare: total > 0 ? edgeMass(counts, mapHeight: mapHeight, mapWidth: mapWidth) / total : nil,
      frameLifted: lifted, darkShare: dark?.share, darkLift: dark?.lift, markPixels: markPixels)
  }

  /// Per class (0..<`classes`), per pixel (y·W + x): whether the pixel carries a constant mark
  /// of the class — its value (channel mean) within `markTolerance` of the median over the
  /// class's probes on at least `markAgreement` of them, and that median at least `liftedBy`
  /// above the mean over every other probe. A class without probes, or with every probe in
  /// it, has none.
  public static func markedPixels(_ images: ProbeImages, labels: [Int], classes: Int) -> [[Bool]] {
    let (n, plane) = (images.count, images.height * images.width)
    precondition(labels.count == n, "markedPixels: \(labels.count) labels for \(n) images")
    // Channel means, image-major (the pixels themselves for one channel).
    let values =
      images.channels == 1 ? images.pixels : (0..<(n * plane)).map { Float(pixel(images, $0 / plane, $0 % plane)) }
    var totals = [Double](repeating: 0, count: plane)
    for i in 0..<n { for q in 0..<plane { totals[q] += Double(values[i * plane + q]) } }
    var column = [Float](repeating: 0, count: n)
    return (0..<classes).map { c in
      let members = (0..<n).filter { labels[$0] == c }
      var marked = [Bool](repeating: false, count: plane)
      guard !members.isEmpty, members.count < n else { return marked }
      let (count, others) = (members.count, Double(n - members.count))
      for q in 0..<plane {
        var (sum, largest) = (0.0, -Float.infinity)
        for (index, i) in members.enumerated() {
          let v = values[i * plane + q]
          column[index] = v
          sum += Double(v)
          largest = max(largest, v)
        }
        let elsewhere = (totals[q] - sum) / others
        // The median is at most the largest value: most pixels stop here, unsorted.
        guard Double(largest) - elsewhere >= liftedBy else { continue }
        column[0..<count].sort()
        let middle = count / 2
        let median = count % 2 == 1 ? Double(column[middle]) : (Double(column[middle - 1]) + Double(column[middle])) / 2
        let agreeing = column[0..<count].filter { abs(Double($0) - median) <= markTolerance }.count
        marked[q] = median - elsewhere >= liftedBy && Double(agreeing) >= markAgreement * Double(count)
      }
      return marked
    }
  }

  /// How many pixels set in `mask` lie under `hot` cells grown by one cell on every side (the
  /// region an intervention on a small prototype takes, `Intervention.grown`).
  static func count(_ mask: [Bool], near hot: [Int], images: ProbeImages, mapHeight: Int, mapWidth: Int) -> Int {
    let grown = Set(Intervention.grown(hot, mapHeight: mapHeight, mapWidth: mapWidth))
    let w = images.width
    return mask.indices.filter {
      mask[$0] && grown.contains(images.cell(y: $0 / w, x: $0 % w, mapHeight: mapHeight, mapWidth: mapWidth))
    }.count
  }

  /// Σ of `counts` over the map's outermost ring of cells.
  static func edgeMass(_ counts: [Double], mapHeight h: Int, mapWidth w: Int) -> Double {
    (0..<(h * w)).filter { min($0 / w, $0 % w, h - 1 - $0 / w, w - 1 - $0 % w) == 0 }.reduce(0) { $0 + counts[$1] }
  }

  /// Mean over the channels of pixel `q` (y·W + x) of image `i`.
  static func pixel(_ images: ProbeImages, _ i: Int, _ q: Int) -> Double {
    let plane = images.height * images.width
    var v = 0.0
    for channel in 0..<images.channels { v += Double(images.pixels[(i * images.channels + channel) * plane + q]) }
    return v / Double(images.channels)
  }

  /// Fraction of the frame pixels (within `framePixels` of the image's edge) under `hot` cells
  /// whose mean over `present` probes exceeds their mean over the other probes by `liftedBy`.
  static func frameLift(_ present: [Int], hot: [Int], images: ProbeImages, mapHeight: Int, mapWidth: Int) -> Double? {
    let (h, w) = (images.height, images.width)
    let hotCells = Set(hot)
    let absent = Set(0..<images.count).subtracting(present)
    let frame = (0..<(h * w)).filter { q in
      let (y, x) = (q / w, q % w)
      return min(y, x, h - 1 - y, w - 1 - x) < framePixels
        && hotCells.contains(images.cell(y: y, x: x, mapHeight: mapHeight, mapWidth: mapWidth))
    }
    guard !frame.isEmpty, !present.isEmpty, !absent.isEmpty else { return nil }
    let raised = frame.filter { q in
      let inside = present.reduce(0.0) { $0 + pixel(images, $1, q) } / Double(present.count)
      let outside = absent.reduce(0.0) { $0 + pixel(images, $1, q) } / Double(absent.count)
      return inside - outside >= liftedBy
    }
    return Double(raised.count) / Double(frame.count)
  }

  /// Fraction of the pixels under the prototype's cells, over `present` probes, below
  /// `darkBelow`, and their mean minus that of every dark pixel of the other probes.
  static func darkFraction(
    _ present: [Int], id: Int, images: ProbeImages, cellPrototypes: [Int], mapHeight: Int, mapWidth: Int,
    background: [DarkPixels]? = nil
  ) -> (share: Double, lift: Double?)? {
    let (h, w) = (images.height, images.width)
    let cells = mapHeight * mapWidth
    let pixelCell = (0..<(h * w)).map { images.cell(y: $0 / w, x: $0 % w, mapHeight: mapHeight, mapWidth: mapWidth) }
    var covered = 0
    var dark = 0
    var darkSum = 0.0
    for i in present {
      for q in 0..<(h * w) where cellPrototypes[i * cells + pixelCell[q]] == id {
        covered += 1
        let v = pixel(images, i, q)
        if v < darkBelow { (dark, darkSum) = (dark + 1, darkSum + v) }
      }
    }
    guard covered > 0 else { return nil }
    // The other probes' dark pixels, from per-image totals taken once per analysis.
    let totals = background ?? darkPixels(images)
    let isPresent = Set(present)
    var elsewhere = 0
    var elsewhereSum = 0.0
    for i in 0..<images.count where !isPresent.contains(i) {
      (elsewhere, elsewhereSum) = (elsewhere + totals[i].count, elsewhereSum + totals[i].sum)
    }
    let lift =
      dark > 0 && elsewhere > 0 ? darkSum / Double(dark) - elsewhereSum / Double(elsewhere) : nil
    return (Double(dark) / Double(covered), lift)
  }

  /// One probe image's pixels below `darkBelow` (channel means): how many, and their sum.
  public struct DarkPixels: Sendable, Equatable {
    public var count: Int
    public var sum: Double
  }

  /// `DarkPixels` of every probe image, taken once per analysis for all prototypes.
  public static func darkPixels(_ images: ProbeImages) -> [DarkPixels] {
    let plane = images.height * images.width
    return (0..<images.count).map { i in
      var totals = DarkPixels(count: 0, sum: 0)
      for q in 0..<plane {
        let v = pixel(images, i, q)
        if v < darkBelow { (totals.count, totals.sum) = (totals.count + 1, totals.sum + v) }
      }
      return totals
    }
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

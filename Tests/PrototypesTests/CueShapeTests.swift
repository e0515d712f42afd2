import Engine
import Foundation
import Testing

@testable import Prototypes

/// The traits that say where a cue is (edge share, frame lifted, dark share) and the shapes
/// and findings built on them, on constructed images whose answers are derived by hand.
@Suite struct CueShapeTests {
  /// 2m 8×8 one-channel probes on a 4×4 map (a cell is 2×2 pixels, so the outermost 2 pixels
  /// of the image are exactly the map's 12 edge cells). Probes 0..<m (class 0) carry `frame`
  /// on those pixels (a function of y, x), probes m..<2m (class 1) have 0 there; the inside is
  /// 0.6 or 0.7 (the object). Prototype 1 holds the edge cells of the class-0 probes,
  /// prototype 2 every other cell; intensities n×2.
  static func probes(m: Int = 2, frame: (Int, Int) -> Float) -> (
    images: ProbeImages, cells: [Int], intensity: [Double], labels: [Int]
  ) {
    let (n, side, map) = (2 * m, 8, 4)
    var pixels = [Float](repeating: 0, count: n * side * side)
    var cells = [Int](repeating: 2, count: n * map * map)
    var intensity = [Double](repeating: 1, count: n * 2)
    for i in 0..<n {
      for y in 0..<side {
        for x in 0..<side {
          let edge = min(y, x, side - 1 - y, side - 1 - x) < 2
          pixels[i * 64 + y * 8 + x] = edge ? (i < m ? frame(y, x) : 0) : (i % 2 == 0 ? 0.6 : 0.7)
        }
      }
      for j in 0..<(map * map) where i < m && min(j / map, j % map, map - 1 - j / map, map - 1 - j % map) == 0 {
        cells[i * 16 + j] = 1
      }
      if i >= m { intensity[i * 2] = 0 }
    }
    return (
      ProbeImages(pixels: pixels, shape: [n, 1, side, side]), cells, intensity, (0..<n).map { $0 < m ? 0 : 1 }
    )
  }

  /// The traits of prototype 1 (presence [1, 0]) and 2 ([1, 1]) of `probes(frame:)`.
  static func traits(frame: (Int, Int) -> Float) -> (cue: PrototypeTraits, object: PrototypeTraits) {
    let (images, cells, intensity, labels) = probes(frame: frame)
    func measure(_ column: Int, _ id: Int, _ presence: [Double]) -> PrototypeTraits {
      PrototypeTraits.measure(
        column: column, id: id, k: 2, intensity: intensity, cellPrototypes: cells, mapHeight: 4, mapWidth: 4,
        labels: labels, predictions: labels, presence: presence, images: images,
        reference: PrototypeTraits.referenceDeviation(images))
    }
    return (measure(0, 1, [1, 0]), measure(1, 2, [1, 1]))
  }

  /// A frame of 1.0: prototype 1's 24 cells (12 per probe) all lie on the edge ring → edge share
  /// 1; all 28 outermost pixels under them are 1.0 where it is present and 0 elsewhere (lift 1 ≥
  /// 0.25) → frame lifted 1; none of its pixels is below 0.5 → dark share 0; the same pixels in
  /// both probes → content variability 0.
  @Test func borderTraitsByHand() throws {
    let (cue, object) = Self.traits { _, _ in 1 }
    #expect(cue.edgeShare == 1 && cue.frameLifted == 1 && cue.darkShare == 0 && cue.contentVariability == 0)
    #expect(cue.meanCells == 12 && cue.sizeFraction == 0.75)
    // Prototype 2: probes 0, 1 have its 4 inside cells, probes 2, 3 all 16 → 40 visits, of
    // which 24 (12 edge cells × 2 probes) on the ring.
    #expect(abs((object.edgeShare ?? 0) - 24.0 / 40) < 1e-12)
  }

  /// A 1-pixel checkerboard of 0.4 on the frame ((y + x) even): half the 28 outermost pixels are
  /// lifted by 0.4 ≥ 0.25, half by 0 → frame lifted ½; every pixel under prototype 1 is 0 or
  /// 0.4 < 0.5 → dark share 1, their mean 0.2; the other probes' dark pixels (their frames)
  /// are all 0 → dark lift 0.2. The frame of 1.0 has no dark pixel → no dark lift.
  @Test func textureTraitsByHand() throws {
    let (cue, _) = Self.traits { y, x in (y + x) % 2 == 0 ? 0.4 : 0 }
    #expect(cue.edgeShare == 1 && cue.frameLifted == 0.5 && cue.darkShare == 1)
    #expect(abs(try #require(cue.darkLift) - 0.2) < 1e-6)
    #expect(Self.traits { _, _ in 1 }.cue.darkLift == nil)
    // An empty frame (0 like the other probes' background): dark share 1, lift 0.
    let empty = Self.traits { _, _ in 0 }.cue
    #expect(empty.darkShare == 1 && empty.darkLift == 0)
  }

  /// Dark totals taken once per analysis (`darkPixels`) give the same traits as those taken
  /// per prototype; a class-1 probe's 48 frame pixels are its dark ones (0), its inside (0.6 or
  /// 0.7) is not.
  @Test func darkTotalsTakenOnceGiveTheSameTraits() {
    let (images, cells, intensity, labels) = Self.probes { y, x in (y + x) % 2 == 0 ? 0.4 : 0 }
    let measure = { (background: [PrototypeTraits.DarkPixels]?) in
      PrototypeTraits.measure(
        column: 0, id: 1, k: 2, intensity: intensity, cellPrototypes: cells, mapHeight: 4, mapWidth: 4,
        labels: labels, predictions: labels, presence: [1, 0], images: images,
        reference: PrototypeTraits.referenceDeviation(images), background: background)
    }
    #expect(measure(PrototypeTraits.darkPixels(images)) == measure(nil))
    #expect(PrototypeTraits.darkPixels(images)[3] == .init(count: 48, sum: 0))
  }

  /// A report of 2 classes whose prototype 1 has `traits` and presence [1, 0] on a 4×4 map.
  static func report(_ traits: PrototypeTraits, presence: [Double] = [1, 0]) throws -> AnalysisReport {
    var (report, _, _, _, _) = PrototypeTraitsTests.fourImages()
    report.vocabulary.mapShape = [4, 4]
    let index = try #require(report.prototypes.firstIndex { $0.id == 5 })
    report.prototypes[index].id = 1
    report.prototypes[index].presence = presence
    report.prototypes[index].traits = traits
    return report
  }

  /// An intervention on prototype 1 for class 0 with `flips` of 100 pasted probes flipped
  /// (control 2/100) and class-0 accuracy 40/40 → `masked`/40 (control 39/40).
  static func intervention(flips: Int, masked: Int = 5) -> Intervention {
    Intervention(
      prototype: 1, label: 0, step: 2, meanCells: 12,
      mask: .init(
        before: .init(successes: 40, trials: 40), masked: .init(successes: masked, trials: 40),
        control: .init(successes: 39, trials: 40), confidenceBefore: 0.9, confidenceMasked: 0.3,
        confidenceControl: 0.9),
      paste: .init(
        pasted: .init(successes: flips, trials: 100), control: .init(successes: 2, trials: 100), sources: 10),
      region: "large")
  }

  /// The frame is a border cue of class 0 on all four edges, named with its place and its
  /// interventions (large-region controls); the checkerboard is a background cue; neither is
  /// one without the paste evidence, nor when the prototype is shared by the other class.
  @Test func shapesAndFindings() throws {
    let (border, object) = Self.traits { _, _ in 1 }
    let (texture, _) = Self.traits { y, x in (y + x) % 2 == 0 ? 0.4 : 0 }
    let borderReport = try Self.report(border)
    let prototype = try #require(borderReport.prototypes.first { $0.id == 1 })
    #expect(Findings.cueShape(prototype, 0) == .border && Findings.cueShape(prototype, 1) == nil)
    let findings = Findings.build(report: borderReport, interventions: [Self.intervention(flips: 60)], run: "r")
    let cue = try #require(findings.first { $0.kind == "border-cue" }, "\(findings.map(\.statement))")
    #expect(cue.classes == [0] && cue.prototype == 1 && cue.severity == "high")
    #expect(cue.statement.contains("on the image border (its top, bottom, left, right edges"), "\(cue.statement)")
    #expect(
      cue.statement.contains("pixels y 0–7, x 0–7") && cue.statement.contains("100% of the image's outermost pixels"))
    #expect(cue.statement.contains("60/100 = 60%") && cue.statement.contains("another class's probe"))
    #expect(cue.numbers["frame_lifted"] == 1 && cue.numbers["paste_probes"] == 100)
    // A large region's paste needs a 10-point lift beyond the intervals: 13/100 [7.8–21.1%]
    // against 2/100 [0.6–7.0%] is one; the same numbers for a small region (20 points) are not.
    var modest = Self.intervention(flips: 13)
    #expect(
      Findings.build(report: borderReport, interventions: [modest], run: "r").contains { $0.kind == "border-cue" })
    modest.region = "small"
    #expect(
      !Findings.build(report: borderReport, interventions: [modest], run: "r").contains { $0.kind == "border-cue" })
    // No paste evidence (3/100 against 2/100): no cue finding.
    let weak = Findings.build(report: borderReport, interventions: [Self.intervention(flips: 3)], run: "r")
    #expect(!weak.contains { $0.kind.hasSuffix("-cue") })

    let textureReport = try Self.report(texture)
    let background = try #require(
      Findings.build(report: textureReport, interventions: [Self.intervention(flips: 60)], run: "r").first {
        $0.kind == "background-cue"
      })
    #expect(background.classes == [0])
    #expect(
      background.statement.contains("on the background around the object") && background.numbers["dark_share"] == 1)
    // Untested, it is a candidate only.
    let untested = Findings.build(report: textureReport, interventions: [], run: "r")
    #expect(untested.map(\.kind).contains("cue-candidate-untested") && !untested.map(\.kind).contains("background-cue"))

    // Shared by both classes (the object's prototype, or the frame present in class 1 too): none.
    let shared = try Self.report(border, presence: [1, 0.5])
    #expect(
      !Findings.build(report: shared, interventions: [Self.intervention(flips: 60)], run: "r").contains {
        $0.kind.hasSuffix("-cue")
      })
    // Prototype 2 (the rest) with a variable content above the threshold: no shape.
    var varied = object
    varied.contentVariability = 0.9
    #expect(Findings.cueShape(try #require(try Self.report(varied).prototypes.first { $0.id == 1 }), 0) == nil)
  }

  /// Mark pixels by hand: 8×8 probes, 4 of class 0 and 4 of class 1, on a 4×4 map (cells of
  /// 2×2 pixels). Class 0 carries a 2×2 square of 1.0 at y 5–6, x 1–2, except probe 0 whose
  /// (5, 1) is 0.5 (3 of 4 agree: still ≥ 0.75), and a constant 0.2 at (0, 0) (lift 0.2 <
  /// 0.25); class 1 is 0 there and carries a constant 0.9 at (7, 7), where class 0 is 0.
  /// Everything else is a varying object (0.3 + 0.1·(i + y + x) mod 0.6). Class 0's mark is
  /// exactly the square; class 1's is (7, 7); the 0.2 pixel and class 0's empty (7, 7)
  /// (lift −0.9) are not marks.
  @Test func markPixelsByHand() throws {
    let (n, side) = (8, 8)
    var pixels = [Float](repeating: 0, count: n * side * side)
    for i in 0..<n {
      for y in 0..<side {
        for x in 0..<side { pixels[i * 64 + y * 8 + x] = 0.3 + Float((i + y + x) % 6) / 10 }
      }
      let square = [(5, 1), (5, 2), (6, 1), (6, 2)]
      for (y, x) in square { pixels[i * 64 + y * 8 + x] = i < 4 ? 1 : 0 }
      pixels[i * 64] = i < 4 ? 0.2 : 0
      pixels[i * 64 + 63] = i < 4 ? 0 : 0.9
    }
    pixels[5 * 8 + 1] = 0.5
    let images = ProbeImages(pixels: pixels, shape: [n, 1, side, side])
    let labels = (0..<n).map { $0 < 4 ? 0 : 1 }
    let marked = PrototypeTraits.markedPixels(images, labels: labels, classes: 2)
    #expect(marked[0].indices.filter { marked[0][$0] } == [41, 42, 49, 50])
    #expect(marked[1].indices.filter { marked[1][$0] } == [63])
    // Near hot cell 6 (row 1, column 2; grown: rows 0–2, columns 1–3) lies cell 9 (pixels y
    // 4–5, x 2–3): one square pixel, (5, 2). Near cell 14 (row 3, column 2): cells 9 and 13,
    // pixels (5, 2) and (6, 2). Near cell 3 (row 0, column 3): none.
    let near = { (hot: [Int]) in
      PrototypeTraits.count(marked[0], near: hot, images: images, mapHeight: 4, mapWidth: 4)
    }
    #expect(near([6]) == 1 && near([14]) == 2 && near([3]) == 0 && near([6, 14]) == 2 && near([8]) == 4)
    // A class with every probe, or none: no mark.
    #expect(
      PrototypeTraits.markedPixels(images, labels: [Int](repeating: 0, count: n), classes: 2).allSatisfy {
        !$0.contains(true)
      })
  }

  /// A small, fixed prototype whose content varies (0.9 > 0.6) is a mark only with ≥ 4 mark
  /// pixels near it; named with them in its statement and numbers once a small-region test
  /// confirms it; a large one is not a mark whatever its mark pixels.
  @Test func markPixelsLetAVariedMarkPrototypeBeTested() throws {
    var traits = Self.traits { _, _ in 1 }.object
    (traits.contentVariability, traits.sizeFraction, traits.fixedPosition) = (0.9, 0.1, 0.8)
    for (pixels, shape) in [(nil, nil), (3, nil), (4, CueShape.mark), (9, .mark)] as [(Int?, CueShape?)] {
      traits.markPixels = pixels
      let report = try Self.report(traits)
      #expect(Findings.cueShape(try #require(report.prototypes.first { $0.id == 1 }), 0) == shape, "\(pixels ?? -1)")
    }
    traits.markPixels = 4
    var test = Self.intervention(flips: 60)
    test.region = "small"
    let cue = try #require(
      Findings.build(report: try Self.report(traits), interventions: [test], run: "r").first {
        $0.kind == "fixed-position-cue"
      })
    #expect(cue.numbers["mark_pixels"] == 4 && cue.statement.contains("4 pixels near it the same"), "\(cue.statement)")
    traits.sizeFraction = 0.5
    #expect(Findings.cueShape(try #require(try Self.report(traits).prototypes.first { $0.id == 1 }), 0) == nil)
  }

  /// Interventions on the frame through a network that reads only the frame: logit 0 = the
  /// mean of the 48 frame pixels, logit 1 = 0.6. The 10 framed probes (frame 1.0) are class 0,
  /// the 10 others (frame 0) class 1. The frame's 12 cells are 75% of the map: a large region.
  /// Masking it with the mean image (frame 0.5 < 0.6) turns all 10 class-0 probes to class 1;
  /// pasting a framed probe's frame onto the 10 class-1 probes flips all of them (1.0 > 0.6);
  /// pasting another class-1 probe's frame (0) flips none.
  @Test func interventionsOnALargeRegionMoveAccuracyTheExpectedWay() throws {
    let (images, cells, intensity, labels) = Self.probes(m: 10) { _, _ in 1 }
    let network = Self.frameReader(classOneLogit: 0.6)
    let inputs = Intervention.Inputs(
      network: network, images: images, labels: labels, cellPrototypes: cells, mapHeight: 4, mapWidth: 4, step: 7)
    let baseline = Intervention.baseline(inputs)
    #expect(baseline.predictions == labels)
    let outcome = try #require(
      Intervention.measure(
        prototype: 1, label: 0, intensity: (0..<20).map { intensity[$0 * 2] }, baseline: baseline, inputs: inputs,
        seed: 3))
    #expect(outcome.region == "large" && outcome.meanCells == 12)
    #expect(outcome.mask.before.successes == 10 && outcome.mask.masked.successes == 0 && outcome.mask.drop == 1)
    #expect(outcome.paste.pasted.successes == 10 && outcome.paste.pasted.trials == 10)
    #expect(outcome.paste.control.successes == 0 && outcome.paste.isSignificant)
  }

  /// A frame split into two prototypes (1: map rows 0 and 3, 32 of the 48 frame pixels; 3: the
  /// side cells of rows 1–2, 16 pixels), through a network that needs most of the frame (logit
  /// 1 = 0.8): pasting prototype 1's part alone gives logit 0 = 32/48 ≈ 0.67 < 0.8 and flips
  /// none of the 10 class-1 probes; with its companion 3 the whole frame (1.0) flips all 10.
  @Test func companionsJoinTheOtherPartsOfALargeCue() throws {
    var (images, cells, intensity, labels) = Self.probes(m: 10) { _, _ in 1 }
    for i in 0..<10 { for j in [4, 7, 8, 11] { cells[i * 16 + j] = 3 } }
    let network = Self.frameReader(classOneLogit: 0.8)
    let inputs = Intervention.Inputs(
      network: network, images: images, labels: labels, cellPrototypes: cells, mapHeight: 4, mapWidth: 4, step: 7)
    let baseline = Intervention.baseline(inputs)
    let presence = (0..<20).map { intensity[$0 * 2] }
    let alone = try #require(
      Intervention.measure(prototype: 1, label: 0, intensity: presence, baseline: baseline, inputs: inputs, seed: 3))
    #expect(alone.region == "large" && alone.companions == nil && alone.paste.pasted.successes == 0)
    let together = try #require(
      Intervention.measure(
        prototype: 1, label: 0, intensity: presence, baseline: baseline, inputs: inputs, seed: 3, companions: [3]))
    #expect(together.companions == [3] && together.paste.pasted.successes == 10)
    #expect(together.paste.control.successes == 0 && together.mask.masked.successes == 0)
  }

  /// A network over 8×8 images whose logit 0 is the mean of the 2-pixel frame (48 pixels) and
  /// whose logit 1 is the constant `classOneLogit`.
  static func frameReader(classOneLogit: Float) -> Network {
    var generator = SplitMix64(seed: 1)
    let linear = Linear(name: "fc", inputFeatures: 64, outputFeatures: 2, generator: &generator)
    linear.weight.value = Tensor(
      shape: [2, 64],
      scalars: (0..<64).map { min($0 / 8, $0 % 8, 7 - $0 / 8, 7 - $0 % 8) < 2 ? Float(1) / 48 : 0 }
        + [Float](repeating: 0, count: 64))
    linear.bias?.value = Tensor(shape: [2], scalars: [0, classOneLogit])
    return Network(layers: [Flatten(name: "flat"), linear], inputShape: [1, 8, 8], targetLayerIndex: 0)
  }
}

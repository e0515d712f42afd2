import Engine
import Foundation
import Prototypes
import Testing

/// The analysis on constructed observations whose answers are known by construction.
@Suite struct RunAnalysisTests {
  /// Two images, 2×2 maps, prototypes 7 and 9: image 0 cells [7,7,9,9] with Ŝ [1, .5, .2, 0]
  /// → P₀₇ = (1 + .5)/2 = .75, P₀₉ = (.2 + 0)/2 = .1, occupancy .5 each; image 1 cells
  /// [9,9,9,9] with Ŝ [.4,.4,.4,.4] → P₁₇ = 0 (absent), P₁₉ = .4, occupancy 0 and 1.
  @Test func intensitiesAndOccupancyByHand() {
    let vocabulary = Vocabulary(
      cellPrototypes: [7, 7, 9, 9, 9, 9, 9, 9], ids: [7, 9], nextID: 10, components: 1, explainedVariance: 1,
      adjustedRandIndex: nil, step: 1)
    let observation = CheckpointObservation(
      step: 1, height: 2, width: 2, normalized: [1, 0.5, 0.2, 0, 0.4, 0.4, 0.4, 0.4], mass: [1, 1],
      logits: [0, 0, 0, 0],
      classes: 2, faithfulness: [0, 0, 0, 0])
    let (intensity, occupancy) = vocabulary.intensities(observation)
    #expect(zip(intensity, [0.75, 0.1, 0, 0.4]).allSatisfy { abs($0 - $1) < 1e-6 })
    #expect(occupancy == [0.5, 0.5, 0, 1])
  }

  /// Stable ids: a refit that only renames clusters keeps every id; a cluster with less than
  /// half its cells in common gets a new one.
  @Test func prototypeIdsSurviveRelabelling() throws {
    var g = SplitMix64(seed: 1)
    // Features with 3 obvious cell types: channel c is on for cells of type c.
    let (n, d, h, w) = (30, 3, 2, 2)
    var scalars = [Float](repeating: 0, count: n * d * h * w)
    for i in 0..<n {
      for j in 0..<(h * w) {
        let type = (i + j) % 3
        scalars[(i * d + type) * h * w + j] = 1 + Float(g.next() % 100) / 1000
      }
    }
    let features = Tensor(shape: [n, d, h, w], scalars: scalars)
    let first = Vocabulary.fit(features: features, step: 1, clusters: 3, maximumComponents: 3, previous: nil, seed: 1)
    let second = Vocabulary.fit(
      features: features, step: 2, clusters: 3, maximumComponents: 3, previous: first, seed: 99)
    #expect(second.cellPrototypes == first.cellPrototypes)
    #expect(second.adjustedRandIndex == 1)
    #expect(second.nextID == first.nextID)
  }

  /// The basis carries a fit into another fit's PCA space: its own space gives back its
  /// centres; a refit of the same features from it (another seed, one fresh restart) keeps
  /// every cell's prototype id.
  @Test func warmStartCarriesCentresAndKeepsIds() throws {
    var g = SplitMix64(seed: 5)
    let (n, d, h, w) = (40, 6, 3, 3)
    let features = Tensor(
      shape: [n, d, h, w],
      scalars: (0..<(n * d * h * w)).map { i in Float((i / (h * w)) % 3) + Float(g.next() % 1000) / 4000 })
    let first = Vocabulary.fit(features: features, step: 1, clusters: 4, maximumComponents: 4, previous: nil, seed: 1)
    let basis = try #require(first.basis)
    let pca = PCA(mean: basis.mean, components: basis.components, dimension: d)
    let back = try #require(basis.centres(projectedInto: pca, dimension: d))
    #expect(zip(back, basis.centres).allSatisfy { abs($0 - $1) < 1e-4 })
    let second = Vocabulary.fit(
      features: features, step: 2, clusters: 4, maximumComponents: 4, previous: first, seed: 77)
    #expect(second.cellPrototypes == first.cellPrototypes)
    #expect(
      basis.assign(features) == first.cellPrototypes, "the basis assigns the cells it was fitted on as the fit did")
  }

  /// Refits of unchanged features stay warm (no fresh fit) for `challengeEvery − 1` refits,
  /// then a fresh fit challenges; features that no longer cluster the old way (the warm fit
  /// leaves far more variance unexplained) are challenged at once, and the fresh fit wins.
  @Test func freshFitChallengesOnScheduleAndOnDrift() throws {
    var g = SplitMix64(seed: 8)
    let (n, d, h, w) = (40, 4, 2, 2)
    func blobs(_ shift: Int) -> Tensor {
      Tensor(
        shape: [n, d, h, w],
        scalars: (0..<(n * d * h * w)).map { i in
          let (image, channel, cell) = (i / (d * h * w), (i / (h * w)) % d, i % (h * w))
          return (channel == (image + cell + shift) % d ? 4 : 0) + Float(g.next() % 1000) / 2000
        })
    }
    let features = blobs(0)
    var vocabulary = Vocabulary.fit(
      features: features, step: 0, clusters: 4, maximumComponents: 4, previous: nil, seed: 1)
    #expect(vocabulary.warmRefits == 0)
    var ages: [Int] = []
    for step in 1...Vocabulary.challengeEvery {
      vocabulary = Vocabulary.fit(
        features: features, step: step, clusters: 4, maximumComponents: 4, previous: vocabulary, seed: 1)
      ages.append(try #require(vocabulary.warmRefits))
    }
    #expect(ages == Array(1..<Vocabulary.challengeEvery) + [0])
    // Two clusters merge into one blob and a new one appears elsewhere: the warm start keeps a
    // centre where nothing is left, so it is challenged at once.
    let moved = Tensor(
      shape: [n, d, h, w],
      scalars: (0..<(n * d * h * w)).map { i in
        let (image, channel, cell) = (i / (d * h * w), (i / (h * w)) % d, i % (h * w))
        let type = (image + cell) % d
        let on = type < 2 ? channel == 0 : channel == type
        return (on ? 4 : 0) + Float((image * 7 + cell * 3 + channel) % 10) / 20 * (type == 1 ? 3 : 0.1)
      })
    let drifted = Vocabulary.fit(
      features: moved, step: 20, clusters: 4, maximumComponents: 4, previous: vocabulary, seed: 1)
    #expect(drifted.warmRefits == 0)
  }

  /// A run built so that one prototype's evidence swings between classes 0 and 1 each
  /// interval: the rule flags it (and only it) for the pair (0, 1).
  @Test func uncertainPrototypeFiresOnASwingingRun() {
    let (observations, labels, vocabulary) = SwingingRun.make(seed: 3, swinging: true)
    var settings = RunAnalysis.Settings()
    settings.bootstrap = 100
    settings.permutations = 10
    let report = RunAnalysis.analyze(
      observations: observations, labels: labels, classNames: ["a", "b", "c"], vocabulary: vocabulary,
      settings: settings)
    let flagged = report.uncertain.filter { $0.pair == [0, 1] }
    #expect(
      flagged.map(\.prototype).contains(0), "flags: \(report.uncertain.map { ($0.prototype, $0.pair, $0.signs) })")
    let swing = flagged.first { $0.prototype == 0 }
    #expect((swing?.flips ?? 0) >= 4)
    #expect(report.uncertain.allSatisfy { $0.prototype == 0 })
    #expect(swing?.examples.isEmpty == false)
  }

  /// Without any coupling (ΔŶ independent of ΔP) the rule stays quiet at the default 2 SE.
  /// Measured over 12 seeded runs at 2 SE and at DESIGN's 1 SE; both rates are printed (the
  /// 1 SE rate is why the default differs, see UncertaintyRule).
  @Test func uncertaintyRuleIsQuietWithoutCoupling() {
    var fired: [Double: Int] = [1: 0, 2: 0]
    let runs = 12
    for seed in 0..<UInt64(runs) {
      let (observations, labels, vocabulary) = SwingingRun.make(seed: 100 + seed, swinging: false)
      for significance in [1.0, 2.0] {
        var settings = RunAnalysis.Settings()
        settings.bootstrap = 60
        settings.permutations = 0
        settings.significance = significance
        let report = RunAnalysis.analyze(
          observations: observations, labels: labels, classNames: ["a", "b", "c"], vocabulary: vocabulary,
          settings: settings)
        fired[significance, default: 0] += report.uncertain.isEmpty ? 0 : 1
      }
    }
    print(
      "uncertainty rule runs flagged without coupling: \(fired[2] ?? 0)/\(runs) at 2 SE, \(fired[1] ?? 0)/\(runs) at 1 SE"
    )
    #expect(fired[2] ?? runs <= 3, "the rule must not fire systematically without coupling")
  }

  /// Confusions, margins, separation time and learning order on a run where pair (0,1) stops
  /// being confused at the third checkpoint and pair (1,2) never is.
  @Test func pairProgressByConstruction() {
    let (observations, labels, vocabulary) = SwingingRun.make(seed: 5, swinging: false)
    var separated = observations
    // Checkpoints 0 and 1: classes 0 and 1 are swapped (every such image confused); from
    // checkpoint 2 on, every image is predicted correctly with a margin of 5.
    for t in 0..<separated.count {
      var logits = separated[t].logits
      for i in 0..<labels.count {
        let predicted = t < 2 && labels[i] < 2 ? 1 - labels[i] : labels[i]
        for c in 0..<3 { logits[i * 3 + c] = c == predicted ? 5 : 0 }
      }
      separated[t].logits = logits
    }
    let report = RunAnalysis.analyze(
      observations: separated, labels: labels, classNames: ["a", "b", "c"], vocabulary: vocabulary)
    let pair = report.pairs.first { $0.a == 0 && $0.b == 1 }
    #expect(pair?.separationStep == separated[2].step)
    #expect(pair?.confusions == [240, 240] + [Int](repeating: 0, count: separated.count - 2))
    #expect(abs((pair?.margin.first ?? 0) + 5) < 1e-6 && abs((pair?.margin.last ?? 0) - 5) < 1e-6)
    #expect(report.learningOrder == [[0, 1]])
    #expect(report.classes[0].accuracy.last == 1)
    #expect(report.steps == separated.map(\.step))
  }
}

/// Incremental = full when the vocabulary is the same: the full analysis of the first 7
/// checkpoints merged with `analyze` of the last 7 (6 intervals, offset 1) equals the full
/// analysis of all 8, field for field; without a matching overlap there is no merge.
@Test func incrementalMergeEqualsTheFullAnalysis() throws {
  let (observations, labels, vocabulary) = SwingingRun.make(seed: 3, swinging: true)
  var settings = RunAnalysis.Settings()
  settings.bootstrap = 50
  settings.permutations = 10
  func analyze(_ slice: ArraySlice<CheckpointObservation>, offset: Int) -> AnalysisReport {
    RunAnalysis.analyze(
      observations: Array(slice), labels: labels, classNames: ["a", "b", "c"], vocabulary: vocabulary,
      settings: settings, firstInterval: offset)
  }
  let full = analyze(observations[...], offset: 0)
  let previous = analyze(observations[0..<7], offset: 0)
  let window = analyze(observations[1...], offset: 1)
  var merged = try #require(RunAnalysis.merge(previous: previous, window: window))
  #expect(merged.incremental == true)
  merged.incremental = nil
  #expect(merged == full)
  #expect(!full.uncertain.isEmpty, "the comparison covers the flags too")
  #expect(full.pairs.count == 3, "every pair of the 3 classes is listed")
  // A window must start inside the previous report and continue past it.
  #expect(RunAnalysis.merge(previous: analyze(observations[3...], offset: 3), window: window) == nil)
  #expect(RunAnalysis.merge(previous: full, window: window) == nil)
}

/// Observations of a constructed run: 3 classes (120 of class 0, 120 of class 1, 60 of class
/// 2), 2×2 maps whose cell j is prototype j. Interval t moves prototype 0's intensity by u_i
/// and, when `swinging`, moves p(0) − p(1) by ±0.2·u_i with the sign alternating per interval.
enum SwingingRun {
  static func make(seed: UInt64, swinging: Bool) -> ([CheckpointObservation], [Int], Vocabulary) {
    var g = SplitMix64(seed: seed)
    func u() -> Double { Double(g.next() >> 11) / Double(1 << 53) - 0.5 }
    let labels = (0..<300).map { $0 < 120 ? 0 : ($0 < 240 ? 1 : 2) }.shuffled(using: &g)
    let n = labels.count
    var maps: [Double] = []
    for _ in 0..<n {
      maps.append(0.6 + 0.1 * u())
      for _ in 1..<4 { maps.append(0.5 + 0.2 * u()) }
    }
    // Classes are told apart (class 0 and 1 by a margin of 0.04, close enough to stay confused
    // sometimes), so probe accuracy is well above twice chance.
    var probabilities: [Double] = []
    for i in 0..<n {
      probabilities += labels[i] == 1 ? [0.38, 0.42, 0.2] : (labels[i] == 0 ? [0.42, 0.38, 0.2] : [0.2, 0.2, 0.6])
    }
    var observations: [CheckpointObservation] = []
    for t in 0..<8 {
      if t > 0 {
        let sign: Double = t % 2 == 0 ? 1 : -1
        for i in 0..<n {
          let change = u()
          maps[i * 4] += 0.2 * change
          for j in 1..<4 { maps[i * 4 + j] += 0.05 * u() }
          let shift = swinging ? sign * 0.04 * change + 0.002 * u() : 0.02 * u()
          probabilities[i * 3] += shift
          probabilities[i * 3 + 1] -= shift
        }
      }
      observations.append(
        CheckpointObservation(
          step: (t + 1) * 100, height: 2, width: 2, normalized: maps.map { Float(min(1, max(0, $0))) },
          mass: [Float](repeating: 1, count: n), logits: probabilities.map { Float(log(max(1e-6, $0))) }, classes: 3,
          faithfulness: [0.2, 0.6, 0.3, 0.5]))
    }
    let vocabulary = Vocabulary(
      cellPrototypes: (0..<(n * 4)).map { $0 % 4 }, ids: [0, 1, 2, 3], nextID: 4, components: 1, explainedVariance: 1,
      adjustedRandIndex: nil, step: 800)
    return (observations, labels, vocabulary)
  }
}

/// Profiles, drift, concentration and presence on a 4-image, 2-class, 2-prototype case,
/// derived by hand: cells [p0, p1] per image (1×2 maps).
/// t=0: Ŝ rows (class 0) [1, 0], [0.5, 0.5]; (class 1) [0, 1], [0, 0.2]
///   class-0 profile = [(1+0.5)/2, (0+0.5)/2] = [0.75, 0.25]; class-1 = [0, 0.6]
/// t=1: class 0 rows [1, 0], [1, 0] → profile [1, 0]; class 1 unchanged.
/// drift(class 0) = 1 − cos([0.75,0.25],[1,0]) = 1 − 0.75/√0.625 = 0.051317
/// concentration(class 0, t=1) = entropy of [1,0] / ln 2 = 0; (t=0) = H(.75,.25)/ln 2 = 0.811278
/// presence at t=1: p0 in class 0 = 2/2 = 1 (shared), p1 in class 1: Ŝ 1 and 0.2 → 1/2 = 0.5.
@Test func classProgressByHand() {
  let vocabulary = Vocabulary(
    cellPrototypes: [0, 1, 0, 1, 0, 1, 0, 1], ids: [0, 1], nextID: 2, components: 1, explainedVariance: 1,
    adjustedRandIndex: nil,
    step: 2)
  func observation(_ step: Int, _ maps: [Float]) -> CheckpointObservation {
    CheckpointObservation(
      step: step, height: 1, width: 2, normalized: maps, mass: [1, 1, 1, 1], logits: [1, 0, 1, 0, 0, 1, 0, 1],
      classes: 2,
      faithfulness: [0, 0, 0, 0])
  }
  let report = RunAnalysis.analyze(
    observations: [observation(1, [1, 0, 0.5, 0.5, 0, 1, 0, 0.2]), observation(2, [1, 0, 1, 0, 0, 1, 0, 0.2])],
    labels: [0, 0, 1, 1], classNames: ["a", "b"], vocabulary: vocabulary)
  let a = report.classes[0]
  #expect(abs(a.profile[0] - 1) < 1e-6 && abs(a.profile[1]) < 1e-6)
  #expect(abs(a.drift[0] - 0.051317) < 1e-5)
  #expect(abs(a.concentration[0] - 0.811278) < 1e-5 && abs(a.concentration[1]) < 1e-9)
  #expect(report.prototypes[0].presence == [1, 0])
  #expect(report.prototypes[1].presence == [0, 0.5])
  #expect(report.prototypes[0].sharedBy == [0])
  #expect(a.accuracy == [1, 1] && report.classes[1].accuracy == [1, 1])
  // No confusions at all: the one pair is listed with zeros, and is not in the learning order.
  #expect(report.pairs.map(\.confusions) == [[0, 0]] && report.learningOrder.isEmpty)
}

import Engine
import Foundation

/// Computes the structured explanation of a run from its cached checkpoint observations and
/// the current vocabulary (DESIGN §6.4–6.9 and the uncertain-prototype rule). Pure: no I/O.
public enum RunAnalysis {
  /// Defaults from DESIGN §6.
  public struct Settings: Sendable {
    /// Permutations of the coupling null.
    public var permutations = 50
    /// Bootstrap resamples for the standard error of Δ_ab.
    public var bootstrap = 200
    /// Intervals the uncertainty rule looks back over (L = min(this, #intervals), needs ≥ 3).
    public var window = 6
    /// Bootstrap SEs |Δ| must exceed for a sign to count (DESIGN: 1; see `UncertaintyRule`).
    public var significance = 2.0
    /// Seed of folds, permutations and resamples.
    public var seed: UInt64 = 1
    /// Creates the defaults.
    public init() {}
  }

  /// The report for `observations` (in step order) of probe images with `labels`.
  ///
  /// - Parameters:
  ///   - firstInterval: The run-wide index of the first interval among `observations` (0 for a
  ///     whole run; the window's offset for `window(…)`), so every interval's seeded folds and
  ///     permutations are the same whichever way it is computed.
  ///   - images: the probe images, for the prototypes' pixel statistics (content variability,
  ///     pixel boxes); without them those are nil.
  public static func analyze(
    observations input: consuming [CheckpointObservation], labels: [Int], classNames: [String], vocabulary: Vocabulary,
    settings: Settings = Settings(), firstInterval: Int = 0, images: ProbeImages? = nil,
    timings: ((String, Double) -> Void)? = nil
  ) -> AnalysisReport {
    var observations = consume input
    var clock = Date()
    func lap(_ name: String) {
      timings?(name, Date().timeIntervalSince(clock))
      clock = Date()
    }
    precondition(!observations.isEmpty, "analysis needs at least one checkpoint")
    EngineRuntime.configure()
    let n = labels.count
    let classes = classNames.count
    let k = vocabulary.ids.count
    // Intensities only (occupancies are not used here): one n×k matrix per checkpoint. Each
    // observation's maps are dropped once read (nothing below uses them), so a full analysis
    // of a long run does not hold every checkpoint's maps beside its intensities (when the
    // caller hands over its only copy of the array).
    var fields: [[Double]] = []
    fields.reserveCapacity(observations.count)
    for index in observations.indices {
      fields.append(vocabulary.intensities(observations[index]).intensity)
      observations[index].normalized = []
    }
    let probabilities = observations.map { $0.probabilities.map(Double.init) }
    let latest = fields[fields.count - 1]
    let members = (0..<classes).map { c in (0..<n).filter { labels[$0] == c } }

    // ρ_kc at the latest checkpoint.
    var presence = [[Double]](repeating: [Double](repeating: 0, count: classes), count: k)
    for p in 0..<k {
      for c in 0..<classes where !members[c].isEmpty {
        presence[p][c] = Double(members[c].filter { latest[$0 * k + p] >= 0.5 }.count) / Double(members[c].count)
      }
    }
    let profiles: [[[Double]]] = fields.map { field in
      (0..<classes).map { c in profile(field, rows: members[c], k: k) }
    }

    lap("intensities")
    // Intervals (and below, their bootstrap replicates) are independent: computed in parallel.
    // Each keeps its summary; the coupling itself (matrices of n rows) only for the last
    // `settings.window` intervals, which the uncertainty rule reads, so a full analysis of a
    // long run does not hold one per interval.
    let intervalCount = max(1, observations.count) - 1
    let computed = Parallel.map(intervalCount) {
      index -> (summary: AnalysisReport.IntervalCoupling, coupling: Coupling?, hdbscan: Double, ridge: Double) in
      let t = index + 1
      let coupling = Coupling(
        before: (fields[t - 1], probabilities[t - 1]), after: (fields[t], probabilities[t]),
        n: n, k: k, classes: classes, seed: settings.seed &+ UInt64(t + firstInterval))
      var summary = coupling.summary(
        from: observations[index].step, to: observations[index + 1].step,
        null: index == intervalCount - 1 ? settings.permutations : 0, seed: settings.seed)
      summary.prototypeIDs = vocabulary.ids
      summary.groupedProbes = coupling.groupRows.reduce(0) { $0 + $1.count }
      return (
        summary, index >= intervalCount - settings.window ? coupling : nil, coupling.hdbscanSeconds,
        coupling.ridgeSeconds
      )
    }
    let intervals = computed.compactMap(\.coupling)
    let summaries = computed.map(\.summary)
    let latestGroups = intervals.last?.groupRows ?? []
    let evidence = intervals.last?.evidence
    timings?("hdbscan", computed.reduce(0) { $0 + $1.hdbscan })
    timings?("ridge", computed.reduce(0) { $0 + $1.ridge })
    lap("groups_and_coupling_total")

    let predictions = observations.map(\.predictions)
    let (mapHeight, mapWidth) = (observations[0].height, observations[0].width)
    let reference = images.map { PrototypeTraits.referenceDeviation($0) } ?? 0
    let marked = images.map { PrototypeTraits.markedPixels($0, labels: labels, classes: classes) }
    let background = images.map { PrototypeTraits.darkPixels($0) }
    let prototypes = (0..<k).map { p -> AnalysisReport.PrototypeSummary in
      let shared = (0..<classes).filter { presence[p][$0] >= 0.8 }
      let specialised = (0..<classes).filter { c in
        presence[p][c] >= 0.1 && presence[p][c] < 0.8
          && enriched(p, c, k: k, intensity: latest, members: members[c], groups: latestGroups, rate: presence[p][c])
      }
      // Examples stratified by class: two from each of the (up to 3) classes where it is most
      // present (ρ ≥ 0.1).
      let present = (0..<classes).filter { presence[p][$0] >= 0.1 }.sorted { presence[p][$0] > presence[p][$1] }
      var chosen = present.prefix(3).flatMap { c in
        examples(
          p, among: members[c], count: 2, intensity: latest, k: k, labels: labels, vocabulary: vocabulary,
          cells: observations[0].cells)
      }
      if chosen.isEmpty {
        chosen = examples(
          p, among: Array(0..<n), count: 3, intensity: latest, k: k, labels: labels, vocabulary: vocabulary,
          cells: observations[0].cells)
      }
      var summary = AnalysisReport.PrototypeSummary(
        id: vocabulary.ids[p], cells: vocabulary.cellPrototypes.filter { $0 == vocabulary.ids[p] }.count,
        presence: presence[p], sharedBy: shared, specialisedFor: specialised, examples: chosen)
      summary.traits = PrototypeTraits.measure(
        column: p, id: vocabulary.ids[p], k: k, intensity: latest, cellPrototypes: vocabulary.cellPrototypes,
        mapHeight: mapHeight, mapWidth: mapWidth, labels: labels, predictions: predictions[predictions.count - 1],
        presence: presence[p], images: images, reference: reference, marked: marked,
        background: background)
      return summary
    }

    let classReports = (0..<classes).map { c -> AnalysisReport.ClassProgress in
      let drift = (1..<max(1, profiles.count)).map { 1 - cosine(profiles[$0][c], profiles[$0 - 1][c]) }
      let concentration = profiles.map { normalisedEntropy($0[c]) }
      let accuracy = predictions.map { p in
        members[c].isEmpty ? 0 : Double(members[c].filter { p[$0] == c }.count) / Double(members[c].count)
      }
      let confidence = probabilities.map { y in
        members[c].isEmpty ? 0 : members[c].reduce(0.0) { $0 + y[$1 * classes + c] } / Double(members[c].count)
      }
      return AnalysisReport.ClassProgress(
        label: c, name: classNames[c], profile: profiles[profiles.count - 1][c], drift: drift,
        concentration: concentration,
        accuracy: accuracy, confidence: confidence,
        shared: prototypes.filter { $0.sharedBy.contains(c) }.map(\.id),
        specialised: prototypes.filter { $0.specialisedFor.contains(c) }.map(\.id))
    }

    var pairs: [AnalysisReport.PairProgress] = []
    for a in 0..<classes {
      for b in (a + 1)..<max(a + 1, classes) {
        let confusions = predictions.map { p in
          members[a].filter { p[$0] == b }.count + members[b].filter { p[$0] == a }.count
        }
        // Every pair while there are few classes (so a pair's series are known from the first
        // checkpoint on, which incremental analysis relies on); else only confused ones.
        guard classes <= Self.allPairsUpToClasses || (confusions.max() ?? 0) > 0 else { continue }
        let margins = observations.map { o -> Double in
          let rows =
            members[a].map { (o.logits[$0 * classes + a] - o.logits[$0 * classes + b]) }
            + members[b].map { (o.logits[$0 * classes + b] - o.logits[$0 * classes + a]) }
          return rows.isEmpty ? 0 : rows.reduce(0.0) { $0 + Double($1) } / Double(rows.count)
        }
        let separation = separationIndex(confusions)
        var forA: [Int] = []
        var forB: [Int] = []
        var contested: [Int] = []
        if let e = evidence {
          let delta = (0..<k).map { e[$0 * classes + a] - e[$0 * classes + b] }
          forA = delta.indices.filter { delta[$0] > 0 }.sorted { delta[$0] > delta[$1] }.prefix(3).map {
            vocabulary.ids[$0]
          }
          forB = delta.indices.filter { delta[$0] < 0 }.sorted { delta[$0] < delta[$1] }.prefix(3).map {
            vocabulary.ids[$0]
          }
          let both = (0..<k).filter { e[$0 * classes + a] > 0 && e[$0 * classes + b] > 0 }
          contested = both.sorted {
            min(e[$0 * classes + a], e[$0 * classes + b]) > min(e[$1 * classes + a], e[$1 * classes + b])
          }
          .prefix(3).map { vocabulary.ids[$0] }
        }
        pairs.append(
          AnalysisReport.PairProgress(
            a: a, b: b, confusions: confusions, margin: margins,
            separationStep: separation.map { observations[$0].step },
            attentionOverlap: cosine(profiles[profiles.count - 1][a], profiles[profiles.count - 1][b]),
            discriminativeForA: forA, discriminativeForB: forB, contested: contested))
      }
    }
    let order = learningOrder(pairs)

    lap("class_and_pair_metrics")
    let uncertain = UncertaintyRule(
      significance: settings.significance, window: settings.window, bootstrap: settings.bootstrap, seed: settings.seed
    ).evaluate(
      intervals: intervals, steps: observations.map(\.step), pairs: pairs, presence: presence,
      accuracy: predictions.map { p in Double((0..<n).filter { p[$0] == labels[$0] }.count) / Double(max(1, n)) },
      classes: classes,
      examples: { p, a, b in
        examples(
          p, among: members[a], count: 2, intensity: latest, k: k, labels: labels, vocabulary: vocabulary,
          cells: observations[0].cells)
          + examples(
            p, among: members[b], count: 2, intensity: latest, k: k, labels: labels, vocabulary: vocabulary,
            cells: observations[0].cells)
      }, ids: vocabulary.ids)

    lap("uncertainty_bootstrap")
    var report = AnalysisReport(
      steps: observations.map(\.step), classNames: classNames,
      vocabulary: .init(
        fittedOnStep: vocabulary.step, size: k, pcaComponents: vocabulary.components,
        explainedVariance: vocabulary.explainedVariance, adjustedRandIndex: vocabulary.adjustedRandIndex,
        mapShape: [mapHeight, mapWidth]),
      prototypes: prototypes, classes: classReports, pairs: pairs, learningOrder: order, intervals: summaries,
      faithfulness: observations.filter { $0.faithfulness.count == 4 }.map {
        .init(
          step: $0.step, deletion: $0.faithfulness[0], insertion: $0.faithfulness[1],
          randomDeletion: $0.faithfulness[2], randomInsertion: $0.faithfulness[3])
      },
      uncertain: uncertain, zeroMaps: observations.map(\.zeroMaps))
    (report.settledEvidence, report.evidenceTotals) = EvidenceTotals.accumulate(
      classes: classes, settled: EvidenceTotals(classes: classes), intervals: summaries, from: 0)
    report.applyAccumulatedEvidence()
    return report
  }

  /// Up to this many classes the report lists every pair, confused or not.
  public static let allPairsUpToClasses = 50

  /// Index of the first checkpoint after which confusions stay ≤ 25% of their maximum (DESIGN
  /// §6.8), or nil; pairs never confused have none.
  static func separationIndex(_ confusions: [Int]) -> Int? {
    guard let peak = confusions.max(), peak > 0 else { return nil }
    return (0..<confusions.count).first { s in confusions[s...].allSatisfy { Double($0) <= 0.25 * Double(peak) } }
  }

  /// Pairs ever confused, by separation step (earliest first; ties: the more confused first);
  /// unseparated pairs last, the least confused first.
  static func learningOrder(_ pairs: [AnalysisReport.PairProgress]) -> [[Int]] {
    pairs.filter { ($0.confusions.max() ?? 0) > 0 }.sorted { x, y in
      switch (x.separationStep, y.separationStep) {
      case (let s?, let t?): return s != t ? s < t : (x.confusions.max() ?? 0) > (y.confusions.max() ?? 0)
      case (.some, .none): return true
      case (.none, .some): return false
      case (.none, .none): return (x.confusions.last ?? 0) < (y.confusions.last ?? 0)
      }
    }.map { [$0.a, $0.b] }
  }

  /// π̄_c[k] = mean over the class's images of P_ik.
  static func profile(_ intensity: [Double], rows: [Int], k: Int) -> [Double] {
    guard !rows.isEmpty else { return [Double](repeating: 0, count: k) }
    var sums = [Double](repeating: 0, count: k)
    for i in rows { for p in 0..<k { sums[p] += intensity[i * k + p] } }
    return sums.map { $0 / Double(rows.count) }
  }

  /// The `count` probes among `rows` where prototype column `p` is most intense (intensity > 0),
  /// strongest first, with the cells the vocabulary assigns to it in each (the examples a flag
  /// carries, two per class of its pair).
  /// - Parameters:
  ///   - intensity: P_ik (n × k, `vocabulary.ids` column order); `cells`: h·w per image.
  public static func examples(
    _ p: Int, among rows: [Int], count: Int, intensity: [Double], k: Int, labels: [Int], vocabulary: Vocabulary,
    cells: Int
  ) -> [AnalysisReport.Example] {
    rows.filter { intensity[$0 * k + p] > 0 }.sorted { intensity[$0 * k + p] > intensity[$1 * k + p] }.prefix(count).map
    { i in
      AnalysisReport.Example(
        probe: i, label: labels[i], intensity: intensity[i * k + p],
        cells: (0..<cells).filter { vocabulary.cellPrototypes[i * cells + $0] == vocabulary.ids[p] })
    }
  }

  /// Whether class c's images with prototype p concentrate in one learning group (rate in the
  /// group ≥ 1.5 × the class rate, with at least 3 such images).
  static func enriched(_ p: Int, _ c: Int, k: Int, intensity: [Double], members: [Int], groups: [[Int]], rate: Double)
    -> Bool
  {
    let memberSet = Set(members)
    for group in groups {
      let inGroup = group.filter { memberSet.contains($0) }
      let attended = inGroup.filter { intensity[$0 * k + p] >= 0.5 }.count
      if attended >= 3 && Double(attended) / Double(inGroup.count) >= 1.5 * rate { return true }
    }
    return false
  }

  static func cosine(_ a: [Double], _ b: [Double]) -> Double {
    let dot = zip(a, b).reduce(0.0) { $0 + $1.0 * $1.1 }
    let norms = (a.reduce(0.0) { $0 + $1 * $1 } * b.reduce(0.0) { $0 + $1 * $1 }).squareRoot()
    return norms > 0 ? dot / norms : 0
  }

  static func normalisedEntropy(_ profile: [Double]) -> Double {
    let total = profile.reduce(0, +)
    guard total > 0, profile.count > 1 else { return 1 }
    let entropy = profile.reduce(0.0) { sum, v in v > 0 ? sum - (v / total) * log(v / total) : sum }
    return entropy / log(Double(profile.count))
  }
}

import Engine
import Foundation
import Testing

@testable import Prototypes

/// Footprint, content variability, size, presence split, accumulated evidence and lineage
/// links, each on a case whose answer is derived by hand.
@Suite struct PrototypeTraitsTests {
  /// Four 4×4 images, 2×2 maps (each cell a 2×2 pixel block), prototypes 5 and 6; labels
  /// [0, 0, 1, 1]; predictions [0, 1, 1, 1].
  /// Prototype 5 holds cell 0 in images 0, 1, 2 (Ŝ 1 there: present) and nowhere in image 3:
  /// footprint [1, 0, 0, 0] over its 3 present probes → fixed-position 1 − H/ln 4 = 1, one cell
  /// per image (size 1/4). Its pixels (block rows 0–1, columns 0–1) are 0.8 in every image:
  /// standard deviation 0 → content variability 0. Prototype 6 holds the other cells (Ŝ 0.6:
  /// present everywhere).
  /// ρ(5) = [1, 0.5]; presence split, class 0: present in both, 1 of 2 correct; class 1: present
  /// in image 2 (correct), absent in image 3 (correct).
  static func fourImages() -> (AnalysisReport, Vocabulary, [CheckpointObservation], [Int], ProbeImages) {
    let cells = [5, 6, 6, 6, 5, 6, 6, 6, 5, 6, 6, 6, 6, 6, 6, 6]
    let vocabulary = Vocabulary(
      cellPrototypes: cells, ids: [5, 6], nextID: 7, components: 1, explainedVariance: 1, adjustedRandIndex: nil,
      step: 2)
    var pixels = [Float](repeating: 0, count: 4 * 16)
    for i in 0..<4 {
      for q in 0..<16 { pixels[i * 16 + q] = Float((i * 7 + q * 3) % 10) / 10 }
      for (y, x) in [(0, 0), (0, 1), (1, 0), (1, 1)] { pixels[i * 16 + y * 4 + x] = 0.8 }
    }
    let logits: [Float] = [2, 0, 0, 2, 0, 2, 0, 2]
    let maps: [Float] = [1, 0.6, 0.6, 0.6, 1, 0.6, 0.6, 0.6, 1, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]
    let observations = (1...2).map {
      CheckpointObservation(
        step: $0, height: 2, width: 2, normalized: maps, mass: [1, 1, 1, 1], logits: logits, classes: 2,
        faithfulness: [0, 0, 0, 0])
    }
    let labels = [0, 0, 1, 1]
    let images = ProbeImages(pixels: pixels, shape: [4, 1, 4, 4])
    let report = RunAnalysis.analyze(
      observations: observations, labels: labels, classNames: ["a", "b"], vocabulary: vocabulary, images: images)
    return (report, vocabulary, observations, labels, images)
  }

  @Test func footprintVariabilitySizeAndPresenceSplitByHand() throws {
    let (report, _, _, _, _) = Self.fourImages()
    let traits = try #require(report.prototypes.first { $0.id == 5 }?.traits)
    #expect(traits.presentProbes == 3)
    #expect(traits.footprint == [1, 0, 0, 0])
    #expect(abs(traits.fixedPosition - 1) < 1e-12)
    #expect(traits.meanCells == 1 && traits.sizeFraction == 0.25)
    #expect(traits.hotCells == [0] && traits.pixelBox == [0, 0, 1, 1])
    #expect(traits.contentVariability == 0)
    #expect(report.vocabulary.mapShape == [2, 2])
    let split = traits.presenceSplit
    #expect(split.map(\.label) == [0, 1])
    #expect((split[0].presentProbes, split[0].presentCorrect, split[0].absentProbes) == (2, 1, 0))
    #expect(
      (split[1].presentProbes, split[1].presentCorrect, split[1].absentProbes, split[1].absentCorrect) == (1, 1, 1, 1))
    // Prototype 6 is everywhere else: 3 cells in present images 0–2 and 4 in image 3 → its
    // footprint over its 4 present probes is [1/4, 1, 1, 1] (cell 0 only in image 3).
    let other = try #require(report.prototypes.first { $0.id == 6 }?.traits)
    #expect(other.footprint == [0.25, 1, 1, 1] && abs(other.meanCells - 3.25) < 1e-12)
    #expect((other.contentVariability ?? 0) > 0.5, "varied pixels under prototype 6")
  }

  /// Two intervals with ids [1, 2] (weight 10) then [2, 3] (weight 30), 1 class:
  /// E₁ = [1, 2], E₂ = [4, -1] → S = {1: 10, 2: 20 + 120, 3: −30}, W = 40,
  /// means {1: 0.25, 2: 3.5, 3: −0.75}.
  @Test func accumulatedEvidenceByHand() {
    func interval(_ ids: [Int], _ evidence: [Double], _ weight: Int) -> AnalysisReport.IntervalCoupling {
      var i = AnalysisReport.IntervalCoupling(
        fromStep: 0, toStep: 1, groups: 1, groupSizes: [weight], noise: 0, lambda: 1, crossValidatedR2: 0, null95: nil,
        evidence: evidence)
      i.prototypeIDs = ids
      i.groupedProbes = weight
      return i
    }
    let totals = EvidenceTotals(
      classes: 1, intervals: [interval([1, 2], [1, 2], 10), interval([2, 3], [4, -1], 30)])
    #expect(totals.ids == [1, 2, 3] && totals.sums == [10, 140, -30] && totals.weight == 40)
    #expect(totals.mean(2, 0) == 3.5 && totals.mean(3, 0) == -0.75 && totals.mean(9, 0) == 0)
    #expect(totals.top(2, for: 0, among: [1, 2, 3]) == [2, 1])
  }

  /// The running sums of an incremental run equal a full analysis's at every checkpoint, when
  /// the vocabulary stays: merge checkpoint after checkpoint (windows of 7) over 8 checkpoints
  /// of the swinging run, compare with `analyze` of all of them.
  @Test func runningSumsEqualTheFullRunsTotals() throws {
    let (observations, labels, vocabulary) = SwingingRun.make(seed: 4, swinging: false)
    var settings = RunAnalysis.Settings()
    settings.bootstrap = 20
    settings.permutations = 5
    func analyze(_ slice: ArraySlice<CheckpointObservation>, offset: Int) -> AnalysisReport {
      RunAnalysis.analyze(
        observations: Array(slice), labels: labels, classNames: ["a", "b", "c"], vocabulary: vocabulary,
        settings: settings, firstInterval: offset)
    }
    let full = analyze(observations[...], offset: 0)
    let merged = try #require(
      RunAnalysis.merge(
        previous: analyze(observations[0..<7], offset: 0), window: analyze(observations[1...], offset: 1)))
    #expect(merged.evidenceTotals == full.evidenceTotals)
    let totals = try #require(full.evidenceTotals)
    #expect(totals.intervals == 7 && totals.weight > 0)
    // Recomputed from the report's own intervals, in order.
    #expect(EvidenceTotals(classes: 3, intervals: full.intervals).sums.count == totals.sums.count)
    let direct = EvidenceTotals(classes: 3, intervals: full.intervals)
    #expect(zip(direct.sums, totals.sums).allSatisfy { abs($0 - $1) < 1e-9 })
    #expect(full.pairs.allSatisfy { $0.accumulated != nil })
  }

  /// A refit that keeps a cluster links it to its old id with Jaccard 1; one that moves half of
  /// a cluster's cells gets a new id linked to the old one with its overlap.
  @Test func lineageLinksRecordTheMatch() throws {
    // 3 clusters over 12 cells; the refit moves 3 of cluster 2's 4 cells to cluster 1:
    // new cluster 1 = old 1 ∪ 3 cells (7 cells), Jaccard with old 1 = 4/7 ≥ 0.5 → keeps id;
    // new cluster 2 = 1 cell, Jaccard with old 2 = 1/4 → new id, linked to old id 2.
    let old = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]
    let new = [0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 2]
    let (ids, next, links) = Vocabulary.match(new: new, clusters: 3, old: old, nextID: 3)
    #expect(ids == [0, 1, 3] && next == 4)
    #expect(links.map(\.previousID) == [0, 1, 2])
    #expect(links[0].jaccard == 1 && abs(links[1].jaccard - 4.0 / 7) < 1e-12 && links[2].jaccard == 0.25)
  }
}

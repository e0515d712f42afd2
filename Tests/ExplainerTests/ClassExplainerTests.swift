import Engine
import Foundation
import Models
import Testing

@testable import Explainer

/// Serialized: the tests share `TrainedTinyWorld.shared`, whose networks cache their forward
/// passes and must not run two at once.
@Suite(.serialized) struct ClassExplainerTests {
  func explainer(count: Int = 60, scale: Double = 100) throws -> ClassExplainer {
    let world = TrainedTinyWorld.shared
    var settings = ClassExplainer.Settings()
    settings.count = count
    settings.scale = scale
    settings.ddimSteps = 20
    return try ClassExplainer(
      prior: world.prior, architecture: TinyPrior.architecture, classifier: world.classifier, oracle: world.oracle,
      settings: settings)
  }

  /// Cascading randomisation: the head (fc) first, then from the target's conv block (conv1)
  /// up; the layers below the cut keep the trained weights exactly.
  @Test func randomisationCascadesFromTheHeadIntoTheTargetBlock() throws {
    let e = try explainer()
    #expect(e.randomizationCuts() == [2, 0])
    let randomized = try e.randomizedClassifier(from: 2, seed: 77)
    let trained = e.classifier.namedParameters
    let fresh = randomized.namedParameters
    for ((name, a), (_, b)) in zip(trained, fresh) {
      if name.hasPrefix("conv1") { #expect(a.value == b.value, "\(name) must be kept") }
      if name.hasPrefix("conv2") || name.hasPrefix("fc") { #expect(a.value != b.value, "\(name) must be re-drawn") }
    }
  }

  /// The prior was trained where class 0 is rare (10%). Guidance must raise the share of
  /// samples the classifier puts in class 0 above the unguided prior's (disjoint Wilson
  /// intervals at 60 samples), the oracle must agree (the samples really show the square), the
  /// sanity check must pass, and the document must carry the controls.
  @Test func guidanceRaisesTheActivationScoreAboveThePrior() throws {
    let e = try explainer()
    let (explanation, samples) = try e.explain(0)
    #expect(explanation.activation.low > explanation.priorActivation.high, "\(explanation.text)")
    #expect(explanation.oracle.map { $0.low > explanation.oraclePrior!.high } == true, "\(explanation.text)")
    #expect(explanation.sanity.passed, "\(explanation.text)")
    #expect(explanation.sanity.stages.map(\.layers) == [["conv2", "fc"], ["conv1", "conv2", "fc"]])
    #expect(explanation.sanity.space == "oracle_penultimate")
    #expect(explanation.verdicts.first?.hasPrefix("guidance works") == true)
    #expect(explanation.settings.guidedSteps == 13)  // 20 steps 950, 900, …, 0; t ≤ 600: 600, 550, …, 0
    #expect(samples.guided.shape == [60, 1, 8, 8] && samples.prior.shape == [60, 1, 8, 8])
    let decoded = try JSONDecoder().decode(ClassExplanation.self, from: Data(try explanation.json().utf8))
    #expect(decoded == explanation)
  }

  @Test func refusesAPriorOfAnotherShape() throws {
    var description = TinyPrior.description()
    description = GeneratorDescription.standard(
      dataset: "synthetic", image: [1, 12, 12], seed: 1, split: description.split, width: 4, hidden: 16)
    let prior = try GenerativePrior(description: description, splitIndices: Array(0..<20))
    #expect(throws: GeneratorError.self) {
      try ClassExplainer(
        prior: prior, architecture: TinyPrior.architecture, classifier: try TinyPrior.architecture.build(seed: 4),
        oracle: nil, settings: .init())
    }
  }

  @Test func verdictsNameOffManifoldEvidenceAndInsensitivity() {
    let explanation = ClassExplanation(
      classIndex: 2, className: "Pullover",
      settings: .init(count: 100, scale: 10, guidedFraction: 0.6, ddimSteps: 50, guidedSteps: 31, seed: 1),
      activation: Proportion(hits: 90, trials: 100), priorActivation: Proportion(hits: 10, trials: 100),
      oracle: Proportion(hits: 20, trials: 100), oraclePrior: Proportion(hits: 10, trials: 100),
      sanity: .init(
        space: "oracle_penultimate", distanceSeeds: 1,
        stages: [.init(layers: ["fc"], distance: 1.5, activation: Proportion(hits: 50, trials: 100))], threshold: 2,
        passed: false),
      verdicts: [], seconds: 1)
    let verdicts = ClassExplainer.verdicts(explanation)
    #expect(verdicts[0].hasPrefix("guidance works"))
    #expect(verdicts[1].hasPrefix("off-manifold or non-robust evidence"))
    #expect(verdicts[2].hasPrefix("sanity check FAILED"))
  }
}

extension ClassExplainerTests {
  /// In the trained 8×8 world, each class's guided samples attend like that class's real
  /// images more than like the other classes' (profile cosine). (Nearest-prototype accuracy is
  /// not asserted here: the classes differ only by where the square is, and occupancy histograms
  /// do not see position — it measured 0.38 against chance 0.33. On Fashion-MNIST it is 0.73–0.75
  /// against 0.10; see the README.)
  @Test func syntheticPrototypesResembleTheirClass() throws {
    let world = TrainedTinyWorld.shared
    let sampler = DDIMSampler(prior: world.prior, steps: 20)
    let samples = (0..<3).map { c in
      sampler.sample(
        count: 30, seed: 40 + UInt64(c), guidance: Guidance(classifier: world.classifier, target: c, scale: 100)
      ).images
    }
    let (probes, labels) = TrainedTinyWorld.images(count: 90, rareShare: 1.0 / 3, seed: 9)
    let comparison = SyntheticPrototypes.compare(
      classifier: world.classifier, samples: samples, probes: probes, labels: labels, clusters: 6, maximumComponents: 4)
    let own = comparison.profileCosine.reduce(0, +) / 3
    let other = comparison.profileCosineOther.reduce(0, +) / 3
    #expect(own > other, "own \(comparison.profileCosine), other \(comparison.profileCosineOther)")
    for c in 0..<3 { #expect(comparison.profileCosine[c] > comparison.profileCosineOther[c], "class \(c)") }
    #expect(comparison.samples == 90 && comparison.probes == 90)
  }
}

import Engine
import Foundation
import Models
import Prototypes
import Testing

@testable import DaemonCore

/// The daemon's intervention sweep measures its prototype/class pairs on every core at once,
/// one network replica per thread (`InterventionRunner.Session.measureAll`); each pair's
/// outcome must be exactly what measuring it alone, on the session's own network, gives.
@Suite struct InterventionSweepTests {
  @Test func pairsMeasuredOnTheCoresEqualThoseMeasuredOneByOne() throws {
    let architecture = try #require(Architecture.reference("smallcnn"))
    let network = try architecture.build(seed: 3)
    // 80 probes, 8 of each class, of seeded noise with a bright class-dependent square, so
    // prototypes differ between classes and most pairs have holders.
    var generator = SplitMix64(seed: 11)
    let n = 80
    let labels = (0..<n).map { $0 % 10 }
    var pixels = [Float](repeating: 0, count: n * 784)
    for i in 0..<n {
      for q in 0..<784 { pixels[i * 784 + q] = Float(generator.next() % 64) / 255 }
      let corner = labels[i] * 2
      for y in corner..<(corner + 6) { for x in corner..<(corner + 6) { pixels[i * 784 + y * 28 + x] = 1 } }
    }
    let images = Tensor(shape: [n, 1, 28, 28], scalars: pixels)
    let (observation, features) = CheckpointObservation.observe(
      network: network, step: 5, images: images, labels: labels, faithfulnessSample: 0)
    let vocabulary = Vocabulary.fit(
      features: features, step: 5, clusters: 6, maximumComponents: 8, previous: nil, seed: 17)
    let session = InterventionRunner.Session(
      network: network, vocabulary: vocabulary, observation: observation,
      probe: (images: pixels, shape: [n, 1, 28, 28], labels: labels, classes: (0..<10).map { "c\($0)" }))
    let pairs =
      vocabulary.ids.flatMap { id in (0..<10).map { (id: id, label: $0, companions: [Int]()) } }
      + [(id: vocabulary.ids[0], label: 1, companions: Array(vocabulary.ids.dropFirst().prefix(2)))]
    let alone = pairs.map { session.measure($0.id, $0.label, companions: $0.companions) }
    var replicas = 0
    let together = try session.measureAll(pairs) {
      replicas += 1
      return try architecture.build(seed: 3)
    }
    #expect(replicas == min(Parallel.workers, pairs.count) - 1)
    #expect(alone.compactMap { $0 }.count >= 10, "most pairs have holders: \(alone.compactMap { $0 }.count)")
    #expect(together == alone)
  }
}

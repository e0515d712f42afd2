import Datasets
import Engine
import Models
import Testing
import Training

/// The two-replica step (half a batch per core) against one network over the whole batch.
@Suite struct TrainingLoopTests {
  /// Five SGD steps (momentum, per-image loss weights, an odd batch) on smallcnn and cifarcnn:
  /// the losses and the weights after them agree with the single-network loop to float
  /// summation order (1e-4 relative), and the replica's own starting weights do not matter.
  @Test(arguments: ["smallcnn", "cifarcnn"])
  func replicaStepsEqualOneNetworksSteps(name: String) throws {
    let architecture = try #require(Architecture.reference(name))
    let data = syntheticImages(architecture, count: 96)
    let single = TrainingLoop(
      network: try architecture.build(seed: 3), rule: SGD(learningRate: 0.05, momentum: 0.9), batchSize: 33)
    let split = TrainingLoop(
      network: try architecture.build(seed: 3), rule: SGD(learningRate: 0.05, momentum: 0.9), batchSize: 33,
      replica: try architecture.build(seed: 99))
    let weights = (0..<33).map { Float(1 + $0 % 3) }
    for step in 0..<5 {
      let indices = Array((step * 13)..<(step * 13 + 33))[...]
      let a = try single.step(on: data, indices: indices, weights: weights)
      let b = try split.step(on: data, indices: indices, weights: weights)
      #expect(abs(a - b) <= 1e-4 * max(1, abs(a)), "step \(step): loss \(a) vs \(b)")
    }
    for (x, y) in zip(single.network.parameters, split.network.parameters) {
      var difference: Float = 0
      var scale: Float = 1e-6
      for i in 0..<x.value.count {
        difference = max(difference, abs(x.value.scalars[i] - y.value.scalars[i]))
        scale = max(scale, abs(x.value.scalars[i]))
      }
      #expect(difference / scale < 1e-4, "\(x.name): relative difference \(difference / scale)")
    }
  }

  /// BatchNorm needs the whole batch's statistics: such a network never splits its batches.
  @Test func batchNormNetworksDoNotSplit() throws {
    let bn = try #require(Architecture.reference("smallcnn-bn"))
    #expect(!TrainingLoop.canSplitBatches(try bn.build(seed: 1)))
    let plain = try #require(Architecture.reference("smallcnn"))
    #expect(TrainingLoop.canSplitBatches(try plain.build(seed: 1)))
  }

  /// Inside `Parallel.replicas` the engine's loops stay on the calling thread; outside, they
  /// split again.
  @Test func replicasKeepTheirLoopsSerial() {
    #expect(!Parallel.isSerialHere)
    var inside = [Bool](repeating: false, count: 2)
    inside.withUnsafeMutableBufferPointer { slots in
      let out = UncheckedPointer(slots.baseAddress)
      Parallel.replicas(2) { index in out.pointer?[index] = Parallel.isSerialHere }
    }
    #expect(inside == [true, true])
    #expect(!Parallel.isSerialHere)
  }

  private func syntheticImages(_ architecture: Architecture, count: Int) -> LabeledImages {
    var generator = SplitMix64(seed: 17)
    let size = architecture.input.reduce(1, *)
    return LabeledImages(
      channels: architecture.input[0], height: architecture.input[1], width: architecture.input[2],
      pixels: (0..<(count * size)).map { _ in UInt8(truncatingIfNeeded: generator.next() >> 56) },
      labels: (0..<count).map { $0 % architecture.classes },
      classNames: (0..<architecture.classes).map { "class \($0)" })
  }
}

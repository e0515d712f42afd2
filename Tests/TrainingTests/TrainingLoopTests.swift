import Datasets
import Dispatch
import Engine
import Models
import Testing
import Training

/// The two-replica step (half a batch per core) against one network over the whole batch.
@Suite struct TrainingLoopTests {
  /// Five SGD steps (momentum, per-image loss weights, an odd batch) on each reference
  /// architecture: the losses, the weights and BatchNorm's running statistics after them agree
  /// with the single-network loop to float summation order (1e-4 relative), and the replica's
  /// own starting weights do not matter. smallcnn-bn's BatchNorm layers are synchronised.
  @Test(arguments: ["smallcnn", "smallcnn-bn", "cifarcnn"])
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
    #expect(TrainingLoop.canSplitBatches(split.network))
    var compared: [(String, Tensor, Tensor)] = zip(single.network.namedParameters, split.network.namedParameters)
      .map { ($0.name, $0.parameter.value, $1.parameter.value) }
    for (a, b) in zip(single.network.leafLayers, split.network.leafLayers) {
      for (key, value) in a.buffers.sorted(by: { $0.key < $1.key }) {
        compared.append(("\(a.name).\(key)", value, try #require(b.buffers[key])))
      }
    }
    #expect(compared.count > single.network.parameters.count || name != "smallcnn-bn")
    for (label, x, y) in compared {
      var difference: Float = 0
      var scale: Float = 1e-6
      for i in 0..<x.count {
        difference = max(difference, abs(x.scalars[i] - y.scalars[i]))
        scale = max(scale, abs(x.scalars[i]))
      }
      #expect(difference / scale < 1e-4, "\(label): relative difference \(difference / scale)")
    }
  }

  /// A BatchNorm at the top level is synchronised across replicas; one inside a residual
  /// block is not, so such a network keeps its batches whole.
  @Test func onlyTopLevelBatchNormSplits() throws {
    let bn = try #require(Architecture.reference("smallcnn-bn"))
    #expect(TrainingLoop.canSplitBatches(try bn.build(seed: 1)))
    var generator = SplitMix64(seed: 1)
    let inner = Network(
      layers: [
        Residual(name: "block", body: [BatchNorm2d(name: "bn", channels: 1)]), Flatten(name: "flat"),
        Linear(name: "fc", inputFeatures: 4, outputFeatures: 2, generator: &generator),
      ], inputShape: [1, 2, 2], targetLayerIndex: 0)
    #expect(!TrainingLoop.canSplitBatches(inner))
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

  /// Two callers at once: one gets the dedicated replica threads, the other dispatch's;
  /// both compute every index exactly once, many times over (no lost or doubled hand-off).
  @Test func concurrentReplicaCallersEachRunEveryIndexOnce() {
    let rounds = 2_000
    var counts = [Int](repeating: 0, count: 2 * 2)
    counts.withUnsafeMutableBufferPointer { buffer in
      let slots = UncheckedPointer(buffer.baseAddress)
      DispatchQueue.concurrentPerform(iterations: 2) { caller in
        for _ in 0..<rounds {
          Parallel.replicas(2) { index in slots.pointer?[caller * 2 + index] += 1 }
        }
      }
    }
    #expect(counts == [Int](repeating: rounds, count: 4))
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

import Engine

/// Disjoint held-out splits of a training source, chosen by a seeded permutation:
/// validation, a class-stratified probe set, a generator split (for the generative prior),
/// and the rest for training. The test split is the dataset's separate test set.
public struct DatasetSplits: Sendable, Equatable {
  /// Indices trained on.
  public var train: [Int]
  /// Indices for per-epoch validation.
  public var validation: [Int]
  /// Class-stratified probe indices (never trained on).
  public var probe: [Int]
  /// Indices reserved for the generative prior.
  public var generator: [Int]

  /// Makes the splits.
  /// - Parameters:
  ///   - probePerClass: probe images of each class (fewer if a class runs out).
  ///   - validation, generator: split sizes (clamped to what remains).
  public static func make(
    labels: [Int], classes: Int, validation: Int, probePerClass: Int, generator: Int, seed: UInt64
  ) -> DatasetSplits {
    var random = SplitMix64(seed: seed ^ 0x5EED_5EED)
    var order = Array(labels.indices).shuffled(using: &random)
    var probe: [Int] = []
    var taken = [Int](repeating: 0, count: classes)
    var rest: [Int] = []
    for index in order {
      let label = labels[index]
      if label >= 0 && label < classes && taken[label] < probePerClass {
        taken[label] += 1
        probe.append(index)
      } else {
        rest.append(index)
      }
    }
    order = rest
    let validationCount = min(max(0, validation), order.count)
    let validationSplit = Array(order[0..<validationCount])
    let generatorCount = min(max(0, generator), order.count - validationCount)
    let generatorSplit = Array(order[validationCount..<(validationCount + generatorCount)])
    let train = Array(order[(validationCount + generatorCount)...])
    return DatasetSplits(train: train, validation: validationSplit, probe: probe, generator: generatorSplit)
  }
}

/// Disjoint splits of a training source, chosen by a seeded permutation: a class-stratified
/// probe set, validation, a generator split (for the generative prior), and the rest for
/// training. The test split is the dataset's separate test file.
public struct DatasetSplits: Sendable, Equatable {
  /// Indices trained on: everything not in another split, in permuted order.
  public var train: [Int]
  /// Indices for per-epoch validation.
  public var validation: [Int]
  /// Class-stratified probe indices (never trained on), in permuted order.
  public var probe: [Int]
  /// Indices reserved for the generative prior.
  public var generator: [Int]

  /// Creates splits from explicit index lists (e.g. ones recorded with a run).
  public init(train: [Int], validation: [Int], probe: [Int], generator: [Int]) {
    self.train = train
    self.validation = validation
    self.probe = probe
    self.generator = generator
  }

  /// Makes the splits of `labels.count` images.
  ///
  /// One seeded permutation of all indices is walked once: the first `probePerClass` images
  /// of each class go to the probe set; of the remaining order, the first `validation` go to
  /// validation, the next `generator` to the generator split and the rest to training. The
  /// four splits are disjoint and together cover every index.
  /// - Parameters:
  ///   - labels: label per image; labels outside `0..<classes` are never probes.
  ///   - classes: number of classes.
  ///   - validation: validation size, clamped to what the probe set leaves.
  ///   - probePerClass: probe images of each class (fewer if a class runs out).
  ///   - generator: generator split size, clamped to what remains after validation.
  ///   - seed: equal seeds give equal splits.
  public static func make(
    labels: [Int], classes: Int, validation: Int, probePerClass: Int, generator: Int, seed: UInt64
  ) -> DatasetSplits {
    precondition(classes > 0, "DatasetSplits: classes must be positive, got \(classes)")
    var random = SeededGenerator(seed: seed ^ 0x5EED_5EED)
    let order = Array(labels.indices).shuffled(using: &random)
    var probe: [Int] = []
    var taken = [Int](repeating: 0, count: classes)
    var rest: [Int] = []
    rest.reserveCapacity(order.count)
    for index in order {
      let label = labels[index]
      if label >= 0 && label < classes && taken[label] < probePerClass {
        taken[label] += 1
        probe.append(index)
      } else {
        rest.append(index)
      }
    }
    let validationEnd = min(max(0, validation), rest.count)
    let generatorEnd = validationEnd + min(max(0, generator), rest.count - validationEnd)
    return DatasetSplits(
      train: Array(rest[generatorEnd...]), validation: Array(rest[..<validationEnd]), probe: probe,
      generator: Array(rest[validationEnd..<generatorEnd]))
  }
}

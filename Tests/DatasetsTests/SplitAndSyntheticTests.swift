import Datasets
import Testing

@Suite struct SplitAndSyntheticTests {
  @Test func syntheticIsDeterministicAndBalanced() {
    let a = SyntheticImages.make(count: 100, classes: 10, seed: 3)
    let b = SyntheticImages.make(count: 100, classes: 10, seed: 3)
    let c = SyntheticImages.make(count: 100, classes: 10, seed: 4)
    #expect(a.pixels == b.pixels && a.labels == b.labels)
    #expect(a.pixels != c.pixels)
    for k in 0..<10 { #expect(a.labels.filter { $0 == k }.count == 10) }
  }

  /// The blob of class 0 sits right of centre (angle 0), class 5 left (angle π) for 10 classes.
  @Test func syntheticClassesDifferWhereTheBlobIs() {
    let set = SyntheticImages.make(count: 20, classes: 10, seed: 1)
    func meanColumn(_ label: Int) -> Double {
      var weighted = 0.0
      var total = 0.0
      for i in set.labels.indices where set.labels[i] == label {
        for y in 0..<28 {
          for x in 0..<28 {
            let v = Double(set.pixels[i * 784 + y * 28 + x])
            weighted += v * Double(x)
            total += v
          }
        }
      }
      return weighted / total
    }
    #expect(meanColumn(0) > 14 && meanColumn(5) < 14)
  }

  @Test func splitsAreDisjointCoveringStratifiedAndDeterministic() {
    let labels = (0..<1000).map { $0 % 10 }
    let s = DatasetSplits.make(labels: labels, classes: 10, validation: 100, probePerClass: 5, generator: 50, seed: 9)
    let all = s.train + s.validation + s.probe + s.generator
    #expect(Set(all).count == all.count)
    #expect(Set(all) == Set(0..<1000))
    #expect(s.validation.count == 100 && s.generator.count == 50 && s.probe.count == 50)
    for k in 0..<10 { #expect(s.probe.filter { labels[$0] == k }.count == 5) }
    #expect(
      s == DatasetSplits.make(labels: labels, classes: 10, validation: 100, probePerClass: 5, generator: 50, seed: 9))
    #expect(
      s != DatasetSplits.make(labels: labels, classes: 10, validation: 100, probePerClass: 5, generator: 50, seed: 10))
  }

  @Test func fillBatchScalesPixelsIntoPlace() {
    let set = LabeledImages(
      channels: 1, height: 1, width: 2, pixels: [0, 255, 51, 102], labels: [0, 1], classNames: ["a", "b"])
    #expect(set.batchFloats([1, 0]) == [0.2, 0.4, 0, 1])
    #expect(set.subset([1]).pixels == [51, 102])
  }
}

import Datasets
import Testing

@Suite struct DatasetSplitsTests {
  let labels = (0..<1000).map { $0 % 10 }

  func make(_ labels: [Int], seed: UInt64 = 9) -> DatasetSplits {
    DatasetSplits.make(
      labels: labels, classes: 10, validation: 100, probePerClass: 5, generator: 50, seed: seed)
  }

  @Test func disjointCoveringAndSized() {
    let s = make(labels)
    let all = s.train + s.validation + s.probe + s.generator
    #expect(all.count == 1000 && Set(all) == Set(0..<1000))
    #expect(s.validation.count == 100 && s.generator.count == 50 && s.probe.count == 50)
    #expect(s.train.count == 800)
  }

  @Test func probeIsStratified() {
    let s = make(labels)
    for k in 0..<10 { #expect(s.probe.filter { labels[$0] == k }.count == 5) }
    // Class 9 has only 2 images: it gets 2 probes, the others 5.
    let scarce = (0..<500).map { $0 < 2 ? 9 : $0 % 9 }
    let t = make(scarce)
    #expect(t.probe.filter { scarce[$0] == 9 }.count == 2)
    #expect(t.probe.count == 9 * 5 + 2)
  }

  @Test func deterministicForTheSeed() {
    #expect(make(labels) == make(labels))
    #expect(make(labels) != make(labels, seed: 10))
  }

  /// 30 images: 10 probes (1 per class), then validation 100 clamps to the 20 left.
  @Test func sizesClampToWhatRemains() {
    let s = DatasetSplits.make(
      labels: (0..<30).map { $0 % 10 }, classes: 10, validation: 100, probePerClass: 1,
      generator: 50, seed: 1)
    #expect(s.probe.count == 10 && s.validation.count == 20)
    #expect(s.generator.isEmpty && s.train.isEmpty)
  }
}

import Datasets
import Testing

@Suite struct SyntheticImagesTests {
  @Test func deterministicForTheSeedAndBalanced() {
    let a = SyntheticImages.make(count: 100, classes: 10, seed: 3)
    let b = SyntheticImages.make(count: 100, classes: 10, seed: 3)
    let c = SyntheticImages.make(count: 100, classes: 10, seed: 4)
    #expect(a.pixels == b.pixels && a.labels == b.labels)
    #expect(a.pixels != c.pixels)
    #expect(a.count == 100 && a.height == 28 && a.width == 28 && a.channels == 1)
    for k in 0..<10 { #expect(a.labels.filter { $0 == k }.count == 10) }
    #expect(a.classNames.count == 10)
  }

  /// Blob centre (14 + 8.4·cos 2πc/10, 14 + 8.4·sin 2πc/10) ± 2: class 0 at x ≈ 22.4,
  /// class 5 at x ≈ 5.6; class 2 at row ≈ 22.0, class 7 at row ≈ 6.0. Noise (< 40) is
  /// subtracted.
  @Test func classesDifferWhereTheBlobIs() {
    let set = SyntheticImages.make(count: 40, classes: 10, seed: 1)
    func centroid(_ label: Int) -> (x: Double, y: Double) {
      var x = 0.0
      var y = 0.0
      var total = 0.0
      for i in set.labels.indices where set.labels[i] == label {
        for row in 0..<28 {
          for column in 0..<28 {
            let v = max(0, Double(set.pixels[i * 784 + row * 28 + column]) - 40)  // above noise
            x += v * Double(column)
            y += v * Double(row)
            total += v
          }
        }
      }
      return (x / total, y / total)
    }
    #expect(centroid(0).x > 19 && centroid(5).x < 9)
    #expect(centroid(2).y > 17 && centroid(7).y < 11)
  }

  @Test func colourImagesHaveTheRequestedShape() {
    let set = SyntheticImages.make(
      count: 6, classes: 3, channels: 3, height: 32, width: 32, seed: 2)
    #expect(set.pixels.count == 6 * 3 * 32 * 32 && set.imageSize == 3072)
    for k in 0..<3 { #expect(set.labels.filter { $0 == k }.count == 2) }
  }
}

import Datasets
import Testing

@Suite struct SeededGeneratorTests {
  /// SplitMix64's published first outputs for seed 0.
  @Test func matchesSplitMix64() {
    var g = SeededGenerator(seed: 0)
    #expect(g.next() == 0xE220_A839_7B1D_CDAF)
    #expect(g.next() == 0x6E78_9E6A_A1B9_65F4)
  }

  @Test func uniformAndGaussianMoments() {
    var g = SeededGenerator(seed: 42)
    let n = 20000
    let uniforms = (0..<n).map { _ in g.nextUniform() }
    #expect(uniforms.allSatisfy { $0 >= 0 && $0 < 1 })
    #expect(abs(uniforms.reduce(0, +) / Double(n) - 0.5) < 0.01)
    let normals = (0..<n).map { _ in g.nextGaussian() }
    let mean = normals.reduce(0, +) / Double(n)
    let variance = normals.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
    #expect(abs(mean) < 0.03 && abs(variance - 1) < 0.05)
  }

  @Test func shufflesDeterministically() {
    var a = SeededGenerator(seed: 5)
    var b = SeededGenerator(seed: 5)
    #expect(Array(0..<50).shuffled(using: &a) == Array(0..<50).shuffled(using: &b))
  }
}

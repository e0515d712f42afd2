import Charts
import XCTest

final class NiceTicksTests: XCTestCase {
  func testUnitRangeGetsFifths() {
    // (1 − 0) / 5 = 0.2 is already nice: 0, 0.2, …, 1.
    let ticks = NiceTicks(minimum: 0, maximum: 1, maximumCount: 6)
    XCTAssertEqual(ticks.values, [0, 0.2, 0.4, 0.6, 0.8, 1])
    // One number of decimals for every label of an axis.
    XCTAssertEqual(ticks.values.map(ticks.label), ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
  }

  func testRangeIsWidenedToWholeSpacings() {
    // 3…97 with at most 6 ticks: 94/5 = 18.8 → 20; 0…100 in steps of 20 is 6 ticks.
    let ticks = NiceTicks(minimum: 3, maximum: 97, maximumCount: 6)
    XCTAssertEqual(ticks.spacing, 20)
    XCTAssertEqual(ticks.values, [0, 20, 40, 60, 80, 100])
    XCTAssertEqual(ticks.lower, 0)
    XCTAssertEqual(ticks.upper, 100)
  }

  func testQuarterSpacingKeepsTwoDecimals() {
    // 0…1 with at most 5 ticks: 1/4 = 0.25 is nice.
    let ticks = NiceTicks(minimum: 0, maximum: 1, maximumCount: 5)
    XCTAssertEqual(ticks.values, [0, 0.25, 0.5, 0.75, 1])
    XCTAssertEqual(ticks.values.map(ticks.label), ["0.00", "0.25", "0.50", "0.75", "1.00"])
  }

  func testStepsOfATwoHundredCheckpointRun() {
    // Steps 10…2,000 (200 checkpoints every 10 steps) with 8 ticks: 1990/7 = 284 → 500.
    let ticks = NiceTicks(minimum: 10, maximum: 2000, maximumCount: 8)
    XCTAssertEqual(ticks.values, [0, 500, 1000, 1500, 2000])
    XCTAssertEqual(ticks.label(1500), "1500")
  }

  func testDegenerateRangeIsWidened() {
    let ticks = NiceTicks(minimum: 5, maximum: 5)
    XCTAssertLessThan(ticks.lower, 5)
    XCTAssertGreaterThan(ticks.upper, 5)
    let zero = NiceTicks(minimum: 0, maximum: 0)
    XCTAssertEqual(zero.lower, -1)
    XCTAssertEqual(zero.upper, 1)
  }

  /// Over seeded random ranges and requested counts up to 40: never more than 12 ticks, the
  /// ticks cover the data, are evenly spaced and the spacing is 1, 2, 2.5 or 5 × 10^k.
  func testNeverMoreThanTwelveTicksAndAlwaysCovering() {
    var generator = SplitMix(seed: 7)
    for _ in 0..<2000 {
      let a = (generator.unit() - 0.5) * pow(10, Double(Int(generator.unit() * 8) - 3))
      let b = a + generator.unit() * pow(10, Double(Int(generator.unit() * 8) - 3))
      let requested = Int(generator.unit() * 40)
      let ticks = NiceTicks(minimum: a, maximum: b, maximumCount: requested)
      XCTAssertLessThanOrEqual(ticks.values.count, NiceTicks.limit, "\(a)…\(b) asked \(requested)")
      XCTAssertLessThanOrEqual(ticks.values.count, max(3, requested), "\(a)…\(b) asked \(requested)")
      XCTAssertLessThanOrEqual(ticks.lower, a + 1e-12 * max(1, abs(a)))
      XCTAssertGreaterThanOrEqual(ticks.upper, b - 1e-12 * max(1, abs(b)))
      let mantissa = ticks.spacing / pow(10, floor(log10(ticks.spacing)))
      XCTAssertTrue([1, 2, 2.5, 5].contains { abs($0 - mantissa) < 1e-9 }, "spacing \(ticks.spacing)")
    }
  }

  func testLabelledIndicesOfManyColumns() {
    // 200 checkpoints: every 20th column is labelled, 10 labels.
    XCTAssertEqual(NiceTicks.indices(count: 200), Array(stride(from: 0, to: 200, by: 20)))
    XCTAssertEqual(NiceTicks.indices(count: 12), Array(0..<12))
    // 13 columns no longer fit: every 2nd, 7 labels.
    XCTAssertEqual(NiceTicks.indices(count: 13), [0, 2, 4, 6, 8, 10, 12])
    XCTAssertEqual(NiceTicks.indices(count: 0), [])
    for count in 1...5000 {
      XCTAssertLessThanOrEqual(NiceTicks.indices(count: count).count, NiceTicks.limit, "\(count) columns")
    }
  }
}

/// A seeded generator (SplitMix64) so the property test replays.
struct SplitMix {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

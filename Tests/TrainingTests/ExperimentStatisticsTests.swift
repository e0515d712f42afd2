import Foundation
import Testing

@testable import Training

/// The experiment's statistics against hand-checked cases and against the independent Python
/// implementation in `scripts/crosscheck-bootstrap.py` (its printed numbers are pinned here, so
/// this test needs no Python).
@Suite struct ExperimentStatisticsTests {
  // The script's fixed dataset: test accuracy of an arm and of the control over 10 seeds.
  static let arm = [0.8712, 0.8698, 0.8731, 0.8705, 0.8690, 0.8722, 0.8709, 0.8716, 0.8701, 0.8727]
  static let control = [0.8705, 0.8701, 0.8712, 0.8699, 0.8702, 0.8710, 0.8695, 0.8711, 0.8707, 0.8714]

  @Test func meanAndSampleStandardDeviationByHand() {
    // [1, 2, 3, 4]: mean 2.5; squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5, / (n − 1) = 5/3.
    #expect(ExperimentStatistics.mean([1, 2, 3, 4]) == 2.5)
    #expect(abs(ExperimentStatistics.standardDeviation([1, 2, 3, 4]) - (5.0 / 3).squareRoot()) < 1e-15)
    #expect(ExperimentStatistics.standardDeviation([7]) == 0)
    #expect(ExperimentStatistics.mean([]) == 0)
  }

  @Test func percentileInterpolatesLikeNumpy() {
    // 5 values: q = 0.1 sits at position 0.4 between 10 and 20 → 14; q = 1 is the maximum.
    let sorted: [Double] = [10, 20, 30, 40, 50]
    #expect(abs(ExperimentStatistics.percentile(sorted: sorted, 0.1) - 14) < 1e-12)
    #expect(ExperimentStatistics.percentile(sorted: sorted, 0.5) == 30)
    #expect(ExperimentStatistics.percentile(sorted: sorted, 1) == 50)
  }

  @Test func bootstrapOfHandCheckableCases() {
    // Equal differences: every resample mean is that value.
    let constant = ExperimentStatistics.bootstrapInterval([0.25, 0.25, 0.25])
    #expect(constant.lower == 0.25 && constant.upper == 0.25)
    // [0, 1]: resample means are 0 (p = 1/4), 0.5 (1/2) or 1 (1/4); the 2.5% and 97.5%
    // order statistics of 10,000 draws are 0 and 1.
    let two = ExperimentStatistics.bootstrapInterval([0, 1])
    #expect(two.lower == 0 && two.upper == 1)
  }

  @Test func matchesTheIndependentPythonImplementation() {
    // python3 scripts/crosscheck-bootstrap.py (numpy 2.4.6 and the stdlib path agree):
    //   arm mean 0.8711100000000002 std 0.0013135617398677695
    //   control mean 0.87056 std 0.0006257440016137046
    //   difference mean 0.000550000000000006
    //   bootstrap 95% CI [-3.999999999998449e-05, 0.00109999999999999]
    let summary = ExperimentStatistics.summary(Self.arm)
    #expect(abs(summary.mean - 0.8711100000000002) < 1e-12)
    #expect(abs(summary.std - 0.0013135617398677695) < 1e-12)
    #expect(abs(ExperimentStatistics.standardDeviation(Self.control) - 0.0006257440016137046) < 1e-12)
    let paired = ExperimentStatistics.paired(Self.arm, minus: Self.control)
    #expect(paired.differences.count == 10)
    #expect(abs(paired.meanDifference - 0.000550000000000006) < 1e-12)
    #expect(abs(paired.ciLower - -3.999999999998449e-05) < 1e-12)
    #expect(abs(paired.ciUpper - 0.00109999999999999) < 1e-12)
  }

  @Test func sameSeedSameIntervalOtherSeedOtherDraws() {
    let values = zip(Self.arm, Self.control).map { $0 - $1 }
    let first = ExperimentStatistics.bootstrapInterval(values)
    let again = ExperimentStatistics.bootstrapInterval(values)
    #expect(first == again)
    let other = ExperimentStatistics.bootstrapInterval(values, seed: 99)
    #expect(other.lower <= 0.00055 && other.upper >= 0.00055)
  }
}

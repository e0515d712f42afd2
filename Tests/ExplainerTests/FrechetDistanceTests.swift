import Foundation
import Testing

@testable import Explainer

@Suite struct FrechetDistanceTests {
  @Test func identicalSetsAreAtZeroAndShiftsAddTheirSquaredNorm() {
    let a: [Double] = [0, 0, 1, 0, 0, 1, 1, 1, 2, 3]  // 5 rows of 2
    #expect(abs(FrechetDistance.distance(a, a, dimension: 2)) < 1e-9)
    let shifted = a.enumerated().map { $0.offset % 2 == 0 ? $0.element + 3 : $0.element - 4 }
    #expect(abs(FrechetDistance.distance(a, shifted, dimension: 2) - 25) < 1e-9)
  }

  /// For diagonal covariances the distance is ‖μ₁−μ₂‖² + Σ_k (σ₁ₖ − σ₂ₖ)².
  @Test func diagonalCovariancesMatchTheClosedForm() {
    // Rows (±1, ±2) and (±3, ±1) in all four sign combinations: means 0, variances (4/3)·(1,4)
    // and (4/3)·(9,1) with the n − 1 divisor, no covariance.
    let a: [Double] = [1, 2, 1, -2, -1, 2, -1, -2]
    let b: [Double] = [3, 1, 3, -1, -3, 1, -3, -1]
    let s = 4.0 / 3.0
    let expected =
      pow((s * 1).squareRoot() - (s * 9).squareRoot(), 2) + pow((s * 4).squareRoot() - (s * 1).squareRoot(), 2)
    #expect(abs(FrechetDistance.distance(a, b, dimension: 2) - expected) < 1e-9)
  }

  /// Wilson 95% interval of 50/100 is [0.4038, 0.5962] (z = 1.96); 0/20 is [0, 0.1611].
  @Test func wilsonIntervals() {
    let half = Proportion(hits: 50, trials: 100)
    #expect(abs(half.low - 0.40383) < 1e-4 && abs(half.high - 0.59617) < 1e-4)
    let none = Proportion(hits: 0, trials: 20)
    #expect(none.low == 0 && abs(none.high - 0.16113) < 1e-4)
  }
}

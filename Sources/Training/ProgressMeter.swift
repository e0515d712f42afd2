import Foundation

/// Throttled progress lines: epoch, step, images/s, loss and ETA, at most about once a second.
struct ProgressMeter {
  let totalSteps: Int
  let batchSize: Int
  let log: @Sendable (String) -> Void
  private let start = Date()
  private var lastReport = Date.distantPast
  private var steps = 0

  init(totalSteps: Int, batchSize: Int, log: @escaping @Sendable (String) -> Void) {
    self.totalSteps = totalSteps
    self.batchSize = batchSize
    self.log = log
  }

  /// Images per second since the start.
  var imagesPerSecond: Double {
    let elapsed = Date().timeIntervalSince(start)
    return elapsed > 0 ? Double(steps * batchSize) / elapsed : 0
  }

  mutating func stepFinished(epoch: Int, epochs: Int, loss: Float) {
    steps += 1
    let now = Date()
    guard now.timeIntervalSince(lastReport) >= 1 || steps == totalSteps else { return }
    lastReport = now
    let elapsed = now.timeIntervalSince(start)
    let eta = steps > 0 ? elapsed / Double(steps) * Double(totalSteps - steps) : 0
    log(
      String(
        format: "epoch %d/%d step %d/%d %.0f img/s loss %.4f ETA %.0fs", epoch, epochs, steps, totalSteps,
        imagesPerSecond, loss, eta))
  }
}

import Foundation
import Testing

@testable import ClientCore

/// What `i2x watch` prints for each kind of event, and the compact view it repaints.
@Suite struct WatchViewTests {
  // 2026-12-01 18:00:00 UTC.
  static let at = 1_796_148_000.0

  static func event(_ id: Int, _ kind: String, step: Int?, _ detail: [String: Any]) -> [String: Any] {
    var event: [String: Any] = ["id": id, "kind": kind, "at": at, "detail": detail]
    if let step { event["step"] = step }
    return event
  }

  @Test func oneLinePerEventKind() {
    var view = WatchView(run: "r")
    view.classNames = ["T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt"]
    let events = [
      Self.event(1, "checkpoint", step: 100, ["epoch": 1, "metrics": ["loss": 0.41234, "lr": 0.05]]),
      Self.event(2, "analysis", step: 100, ["state": "done"]),
      Self.event(3, "flag", step: 100, ["prototype": 12, "pair": [0, 6], "flips": 2, "score": 0.4567]),
      Self.event(4, "directive", step: 100, ["id": 1, "state": "failed", "pair": [0, 6], "reason": "interrupted"]),
      Self.event(5, "explanation", step: 100, ["id": 3, "class": 6, "state": "done", "activation": 0.66]),
      Self.event(6, "checkpoint", step: 200, ["epoch": 1, "metrics": [:] as [String: Any]]),
    ]
    let lines = events.map { view.line($0) }
    #expect(lines[0] == "18:00:00  step 100    checkpoint stored (epoch 1) loss=0.4123 lr=0.05")
    #expect(lines[1] == "18:00:00  step 100    analysis done")
    #expect(lines[2] == "18:00:00  step 100    uncertain prototype 12 between T-shirt / Shirt (flips 2, score 0.457)")
    #expect(lines[3] == "18:00:00  step 100    fine-tune #1 of T-shirt / Shirt: failed (interrupted)")
    #expect(lines[4] == "18:00:00  step 100    explanation #3 of Shirt: done, activation 66%")
    for event in events { view.apply(event) }
    let screen = view.screen()
    #expect(screen.hasPrefix("\u{1B}[H\u{1B}[2J"), "the view clears the terminal first")
    #expect(screen.contains("checkpoint   step 200, epoch 1"))
    #expect(screen.contains("analysed up to step 100; 1 checkpoint(s) waiting"))
    #expect(screen.contains("  prototype 12 between T-shirt / Shirt since step 100"))
    #expect(screen.contains("  #1 T-shirt / Shirt: failed"))
    #expect(screen.contains("  #3 Shirt: done, activation 66%"))
  }
}

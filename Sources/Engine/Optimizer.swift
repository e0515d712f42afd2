/// An update rule applied to one parameter at a time; the loop lives in `Optimizer`.
public protocol UpdateRule {
  /// Number of state tensors (same shape as the parameter) the rule keeps per parameter.
  var stateCount: Int { get }
  /// Updates `value` from `gradient` at optimiser step `step` (1-based), with its state.
  func update(
    value: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>, count: Int,
    state: [UnsafeMutablePointer<Float>], step: Int)
}

/// Applies an update rule to a fixed list of parameters and keeps the per-parameter state.
public final class Optimizer {
  /// The rule (SGD, Adam).
  public var rule: any UpdateRule
  /// Parameters updated by `step()`, in order.
  public let parameters: [Parameter]
  /// Steps taken so far.
  public private(set) var stepCount = 0
  private let state: [[StateBuffer]]

  /// Creates an optimiser with zero state.
  public init(rule: any UpdateRule, parameters: [Parameter]) {
    self.rule = rule
    self.parameters = parameters
    state = parameters.map { p in (0..<rule.stateCount).map { _ in StateBuffer(count: p.value.count) } }
  }

  /// Applies one update to every parameter from its current gradient.
  public func step() {
    stepCount += 1
    for (index, parameter) in parameters.enumerated() {
      let count = parameter.value.count
      precondition(
        parameter.gradient.count == count,
        "optimizer: \(parameter.name) gradient has \(parameter.gradient.count) scalars, value \(count)")
      let buffers = state[index].map(\.pointer)
      parameter.gradient.withPointer { g in
        parameter.value.withMutablePointer { w in
          rule.update(value: w, gradient: g, count: count, state: buffers, step: stepCount)
        }
      }
    }
  }
}

/// A zero-initialised scalar buffer owned by the optimiser (momentum, moments).
private final class StateBuffer {
  let pointer: UnsafeMutablePointer<Float>

  init(count: Int) {
    pointer = .allocate(capacity: max(1, count))
    pointer.initialize(repeating: 0, count: max(1, count))
  }

  deinit { pointer.deallocate() }
}

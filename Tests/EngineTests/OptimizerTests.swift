import Engine
import Testing

@Suite struct OptimizerTests {
  /// One scalar w₀ = 1 with a constant gradient 0.5, lr 0.1, μ 0.9, weight decay 0.1:
  /// g = 0.5 + 0.1·w.
  /// step 1: g = 0.6,   v = 0.6,                 w = 1 − 0.06 = 0.94
  /// step 2: g = 0.594, v = 0.9·0.6 + 0.594 = 1.134, w = 0.94 − 0.1134 = 0.8266
  /// step 3: g = 0.58266, v = 0.9·1.134 + 0.58266 = 1.60326, w = 0.8266 − 0.160326 = 0.666274
  @Test func sgdWithMomentumAndWeightDecayFollowsPyTorch() {
    let parameter = Parameter(name: "w", value: Tensor(shape: [1], scalars: [1]))
    let optimizer = Optimizer(rule: SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 0.1), parameters: [parameter])
    var trajectory: [Float] = []
    for _ in 0..<3 {
      parameter.gradient = Tensor(shape: [1], scalars: [0.5])
      optimizer.step()
      trajectory.append(parameter.value.scalars[0])
    }
    for (got, expected) in zip(trajectory, [0.94, 0.8266, 0.666274] as [Float]) {
      #expect(abs(got - expected) < 1e-6)
    }
  }

  /// Nesterov, w₀ = 1, gradient 1, lr 0.1, μ 0.5: step 1: v = 1, g = 1 + 0.5·1 = 1.5, w = 0.85;
  /// step 2: v = 0.5 + 1 = 1.5, g = 1 + 0.75 = 1.75, w = 0.85 − 0.175 = 0.675.
  @Test func nesterovMomentum() {
    let parameter = Parameter(name: "w", value: Tensor(shape: [1], scalars: [1]))
    let optimizer = Optimizer(rule: SGD(learningRate: 0.1, momentum: 0.5, nesterov: true), parameters: [parameter])
    parameter.gradient = Tensor(shape: [1], scalars: [1])
    optimizer.step()
    #expect(abs(parameter.value.scalars[0] - 0.85) < 1e-6)
    optimizer.step()
    #expect(abs(parameter.value.scalars[0] - 0.675) < 1e-6)
  }

  /// Adam, w₀ = 1, gradients 0.5 then −0.25, lr 0.1, β = (0.9, 0.999), ε = 1e-8:
  /// step 1: m = 0.05, v = 0.00025; m̂ = 0.5, v̂ = 0.25 → w = 1 − 0.1·0.5/0.5 = 0.9
  /// step 2: m = 0.045 − 0.025 = 0.02, v = 0.00024975 + 0.0000625 = 0.00031225;
  ///   m̂ = 0.02/0.19 = 0.105263, v̂ = 0.00031225/0.001999 = 0.156203, √v̂ = 0.395225
  ///   → w = 0.9 − 0.1·0.105263/0.395225 = 0.873366
  @Test func adamFollowsPyTorch() {
    let parameter = Parameter(name: "w", value: Tensor(shape: [1], scalars: [1]))
    let optimizer = Optimizer(rule: Adam(learningRate: 0.1), parameters: [parameter])
    parameter.gradient = Tensor(shape: [1], scalars: [0.5])
    optimizer.step()
    #expect(abs(parameter.value.scalars[0] - 0.9) < 1e-6)
    parameter.gradient = Tensor(shape: [1], scalars: [-0.25])
    optimizer.step()
    #expect(abs(parameter.value.scalars[0] - 0.873366) < 1e-5)
  }
}

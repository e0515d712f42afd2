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

  /// Plain SGD with weight decay only, w₀ = 1, gradient 0.5, lr 0.1, λ 0.1 (w ← w − 0.1·(0.5 + 0.1·w)):
  /// 1 − 0.06 = 0.94; 0.94 − 0.0594 = 0.8806; 0.8806 − 0.058806 = 0.821794.
  @Test func sgdWithWeightDecayOnly() {
    let parameter = Parameter(name: "w", value: Tensor(shape: [1], scalars: [1]))
    let optimizer = Optimizer(rule: SGD(learningRate: 0.1, weightDecay: 0.1), parameters: [parameter])
    parameter.gradient = Tensor(shape: [1], scalars: [0.5])
    for expected: Float in [0.94, 0.8806, 0.821794] {
      optimizer.step()
      #expect(abs(parameter.value.scalars[0] - expected) < 1e-6)
    }
    #expect(optimizer.stepCount == 3)
  }

  /// Nesterov with weight decay, w₀ = 1, gradient 1, lr 0.1, μ 0.5, λ 0.1
  /// (g = 1 + 0.1·w; v = g on step 1, else 0.5·v + g; w ← w − 0.1·(g + 0.5·v)):
  /// step 1: g = 1.1,       v = 1.1,       g + μv = 1.65,       w = 0.835
  /// step 2: g = 1.0835,    v = 1.6335,    g + μv = 1.90025,    w = 0.644975
  /// step 3: g = 1.0644975, v = 1.8812475, g + μv = 2.00512125, w = 0.444462875
  @Test func nesterovWithWeightDecayOverThreeSteps() {
    let parameter = Parameter(name: "w", value: Tensor(shape: [1], scalars: [1]))
    let optimizer = Optimizer(
      rule: SGD(learningRate: 0.1, momentum: 0.5, weightDecay: 0.1, nesterov: true), parameters: [parameter])
    parameter.gradient = Tensor(shape: [1], scalars: [1])
    for expected: Float in [0.835, 0.644975, 0.444462875] {
      optimizer.step()
      #expect(abs(parameter.value.scalars[0] - expected) < 1e-6)
    }
  }

  /// Adam with L2 decay λ 0.25, w₀ = 2, gradient 0.5, lr 0.1 (g = 0.5 + 0.25·w):
  /// step 1: g = 1,      m = 0.1,     v = 0.001;     m̂ = 1, v̂ = 1             → w = 1.9
  /// step 2: g = 0.975,  m = 0.1875,  v = 0.001949625; m̂ = 0.1875/0.19 = 0.9868421,
  ///   v̂ = 0.001949625/0.001999 = 0.9753001, √v̂ = 0.9875728 → w = 1.9 − 0.1·0.9992600 = 1.8000740
  /// step 3: g = 0.9500185, m = 0.2637518, v = 0.0028502105 → w = 1.7002738
  @Test func adamWithWeightDecayFollowsPyTorch() {
    let parameter = Parameter(name: "w", value: Tensor(shape: [1], scalars: [2]))
    let optimizer = Optimizer(rule: Adam(learningRate: 0.1, weightDecay: 0.25), parameters: [parameter])
    parameter.gradient = Tensor(shape: [1], scalars: [0.5])
    for expected: Float in [1.9, 1.8000740, 1.7002738] {
      optimizer.step()
      #expect(abs(parameter.value.scalars[0] - expected) < 2e-6)
    }
  }

  /// Each parameter (and each scalar) keeps its own momentum buffer. lr 1, μ 0.9, constant
  /// gradient g from 0: w₁ = −g, v₂ = 0.9g + g = 1.9g, w₂ = −g − 1.9g = −2.9g.
  @Test func momentumStateIsPerParameter() {
    let a = Parameter(name: "a", value: Tensor(shape: [2], scalars: [0, 0]))
    let b = Parameter(name: "b", value: Tensor(shape: [1], scalars: [0]))
    let optimizer = Optimizer(rule: SGD(learningRate: 1, momentum: 0.9), parameters: [a, b])
    a.gradient = Tensor(shape: [2], scalars: [1, -3])
    b.gradient = Tensor(shape: [1], scalars: [2])
    optimizer.step()
    optimizer.step()
    for (got, expected) in zip(a.value.scalars + b.value.scalars, [-2.9, 8.7, -5.8] as [Float]) {
      #expect(abs(got - expected) < 1e-5)
    }
  }
}

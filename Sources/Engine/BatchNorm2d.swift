/// Batch normalisation over (N,H,W) per channel (Ioffe & Szegedy 2015), PyTorch semantics.
///
/// Training: `x̂ = (x − μ_B)/√(σ²_B + ε)` with the biased batch variance, `out = γ·x̂ + β`;
/// running stats `r ← (1 − m)·r + m·stat` with the *unbiased* variance (momentum m = 0.1).
/// Evaluation uses the running stats. Shape (N,C,H,W) → same. Buffers: `running_mean`,
/// `running_var`, `num_batches_tracked`.
public final class BatchNorm2d: Layer {
  public let name: String
  /// Channels C.
  public let channels: Int
  /// ε added to the variance.
  public let epsilon: Float
  /// Momentum m of the running statistics.
  public let momentum: Float
  /// Scale γ (`weight`), initialised to 1.
  public let weight: Parameter
  /// Shift β (`bias`), initialised to 0.
  public let bias: Parameter
  /// Running mean (C).
  public var runningMean: Tensor
  /// Running (unbiased) variance (C).
  public var runningVariance: Tensor
  /// Number of training batches seen.
  public var batchesTracked: Int = 0

  private var normalized = Tensor(shape: [0])
  private var inverseStd = [Float]()
  private var trainingMode = false
  private var batchCount = 0

  /// Creates a layer with γ = 1, β = 0, running mean 0 and variance 1.
  public init(name: String, channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) {
    self.name = name
    self.channels = channels
    self.epsilon = epsilon
    self.momentum = momentum
    weight = Parameter(name: "weight", value: Tensor(shape: [channels], repeating: 1))
    bias = Parameter(name: "bias", value: Tensor(shape: [channels]))
    runningMean = Tensor(shape: [channels])
    runningVariance = Tensor(shape: [channels], repeating: 1)
  }

  public var parameters: [Parameter] { [weight, bias] }

  public var buffers: [String: Tensor] {
    get {
      [
        "running_mean": runningMean, "running_var": runningVariance,
        "num_batches_tracked": Tensor(shape: [], scalars: [Float(batchesTracked)]),
      ]
    }
    set {
      if let mean = newValue["running_mean"] { runningMean = mean }
      if let variance = newValue["running_var"] { runningVariance = variance }
      if let tracked = newValue["num_batches_tracked"]?.scalars.first { batchesTracked = Int(tracked) }
    }
  }

  public func outputShape(for s: [Int]) -> [Int]? { s.count == 4 && s[1] == channels ? s : nil }

  public func forward(_ input: Tensor, training: Bool) -> Tensor {
    // The input's shape is checked by `normalize` (evaluation) or `batchSums` (training).
    guard training else {
      trainingMode = false
      let inverseStd = (0..<channels).map { 1 / (runningVariance.scalars[$0] + epsilon).squareRoot() }
      return normalize(input, mean: runningMean.scalars, inverseStd: inverseStd)
    }
    let count = input.shape[0] * input.shape[2] * input.shape[3]
    return forward(input, batchSums: batchSums(input), count: count, updatesRunningStatistics: true)
  }

  /// Per channel, Σx and Σx² over every plane of a training batch: `[Σx₀, Σx²₀, Σx₁, Σx²₁, …]`,
  /// accumulated in Double (Σx² − Nμ² cancels); each plane's sums are taken in float lanes
  /// around its first value, so a large mean costs no digits. Sums of several parts of one batch
  /// add up to the whole batch's (synchronised BatchNorm across replicas).
  public func batchSums(_ input: Tensor) -> [Double] {
    precondition(outputShape(for: input.shape) != nil, "\(name): BatchNorm2d(\(channels)) got input \(input.shape)")
    let (n, plane) = (input.shape[0], input.shape[2] * input.shape[3])
    let channels = self.channels
    var sums = [Double](repeating: 0, count: 2 * channels)
    input.withPointer { x in
      sums.withUnsafeMutableBufferPointer { out in
        let target = UncheckedPointer(out.baseAddress)
        Parallel.forEach(0..<channels) { c in
          var sum = 0.0
          var squares = 0.0
          for b in 0..<n {
            // Shifted by the plane's first value, in float lanes; back to Σx, Σx² in Double.
            let row = x + (b * channels + c) * plane
            let shift = row[0]
            let part = Reductions.shiftedSumAndSquares(row, count: plane, shift: shift)
            let (offset, values) = (Double(shift), Double(plane))
            sum += Double(part.sum) + values * offset
            squares += Double(part.squares) + 2 * offset * Double(part.sum) + values * offset * offset
          }
          target.pointer?[2 * c] = sum
          target.pointer?[2 * c + 1] = squares
        }
      }
    }
    return sums
  }

  /// The training forward pass with the statistics of a batch given by its `batchSums` over
  /// `count` values per channel — this input's own, or those of a whole batch of which the
  /// input is a part (the other parts on replicas of this layer).
  /// - Parameter updatesRunningStatistics: update the running mean and variance (and the
  ///   batch count) with these statistics; one replica of a split batch does.
  public func forward(
    _ input: Tensor, batchSums sums: [Double], count: Int, updatesRunningStatistics: Bool
  ) -> Tensor {
    precondition(sums.count == 2 * channels, "\(name): \(sums.count) batch sums for \(channels) channels")
    precondition(count > 1, "\(name): training BatchNorm needs more than one value per channel, got \(count)")
    var mean = [Float](repeating: 0, count: channels)
    var invStd = [Float](repeating: 0, count: channels)
    for c in 0..<channels {
      let mu = sums[2 * c] / Double(count)
      let variance = max(0, sums[2 * c + 1] / Double(count) - mu * mu)
      mean[c] = Float(mu)
      invStd[c] = Float(1 / (variance + Double(epsilon)).squareRoot())
      guard updatesRunningStatistics else { continue }
      let unbiased = variance * Double(count) / Double(count - 1)
      runningMean.scalars[c] = (1 - momentum) * runningMean.scalars[c] + momentum * Float(mu)
      runningVariance.scalars[c] = (1 - momentum) * runningVariance.scalars[c] + momentum * Float(unbiased)
    }
    if updatesRunningStatistics { batchesTracked += 1 }
    trainingMode = true
    batchCount = count
    return normalize(input, mean: mean, inverseStd: invStd)
  }

  private func normalize(_ input: Tensor, mean: [Float], inverseStd invStd: [Float]) -> Tensor {
    precondition(outputShape(for: input.shape) != nil, "\(name): BatchNorm2d(\(channels)) got input \(input.shape)")
    let (n, plane) = (input.shape[0], input.shape[2] * input.shape[3])
    inverseStd = invStd
    let gamma = weight.value.scalars
    let beta = bias.value.scalars
    let channels = self.channels
    var out = Tensor(shape: input.shape) { _ in }
    normalized = input.withPointer { x in
      Tensor(shape: input.shape) { h in
        out.withMutablePointer { y in
          Parallel.forEach(0..<(n * channels)) { planeIndex in
            let c = planeIndex % channels
            let base = planeIndex * plane
            let (mu, s, g, bt) = (mean[c], invStd[c], gamma[c], beta[c])
            // Offsets from the plane's own pointers (no overflow-checked index sums): the
            // loop vectorises (it ran scalar, a fifth of an intervention sweep's time).
            let (xs, hs, ys) = (x + base, h + base, y + base)
            for i in 0..<plane {
              let v = (xs[i] - mu) * s
              hs[i] = v
              ys[i] = g * v + bt
            }
          }
        }
      }
    }
    return out
  }

  // Training: ∂x = (γ·s/M)·(M·∂y − Σ∂y − x̂·Σ(∂y·x̂)), M = N·H·W; evaluation: ∂x = γ·s·∂y.
  public func backward(_ gradOutput: Tensor, needs: BackwardNeeds) -> Tensor {
    let sums = gradientSums(gradOutput, parameterGradients: needs.parameterGradients)
    guard needs.inputGradient else { return Tensor(shape: [0]) }
    return inputGradient(gradOutput, gradientSums: sums, count: trainingMode ? batchCount : 0)
  }

  /// Per channel, Σ∂y and Σ∂y·x̂ after the last forward: `[Σ∂y₀, Σ∂y·x̂₀, Σ∂y₁, …]`. With
  /// `parameterGradients` they become this layer's β and γ gradients (this part's share of
  /// a split batch's). Sums of a batch's parts add up to the whole batch's.
  public func gradientSums(_ gradOutput: Tensor, parameterGradients: Bool) -> [Float] {
    precondition(
      gradOutput.shape == normalized.shape, "\(name): gradient \(gradOutput.shape) does not match the last output")
    let shape = normalized.shape
    let (n, plane) = (shape[0], shape[2] * shape[3])
    let channels = self.channels
    // Σ∂y and Σ∂y·x̂ per channel: Float lanes per plane, then Float across planes in batch
    // order.
    var sums = [Float](repeating: 0, count: 2 * channels)
    gradOutput.withPointer { gy in
      normalized.withPointer { h in
        sums.withUnsafeMutableBufferPointer { out in
          let target = UncheckedPointer(out.baseAddress)
          Parallel.forEach(0..<channels) { c in
            var sg: Float = 0
            var sgx: Float = 0
            for b in 0..<n {
              let base = (b * channels + c) * plane
              let part = Reductions.sumAndDot(gy + base, h + base, count: plane)
              sg += part.sum
              sgx += part.dot
            }
            target.pointer?[2 * c] = sg
            target.pointer?[2 * c + 1] = sgx
          }
        }
      }
    }
    if parameterGradients {
      weight.gradient = Tensor(shape: [channels], scalars: (0..<channels).map { sums[2 * $0 + 1] })
      bias.gradient = Tensor(shape: [channels], scalars: (0..<channels).map { sums[2 * $0] })
    }
    return sums
  }

  /// The input gradient after the last forward, from the `gradientSums` of the whole batch
  /// (this input's own, or all parts' of a split batch added) over `count` values per
  /// channel (ignored after an evaluation forward).
  public func inputGradient(_ gradOutput: Tensor, gradientSums sums: [Float], count: Int) -> Tensor {
    precondition(
      gradOutput.shape == normalized.shape, "\(name): gradient \(gradOutput.shape) does not match the last output")
    let shape = normalized.shape
    let (n, plane) = (shape[0], shape[2] * shape[3])
    let channels = self.channels
    let total = Float(count)
    let gamma = weight.value.scalars
    let inverseStd = self.inverseStd
    let trainingMode = self.trainingMode
    return gradOutput.withPointer { gy in
      normalized.withPointer { h in
        Tensor(shape: shape) { gx in
          Parallel.forEach(0..<(n * channels)) { planeIndex in
            let c = planeIndex % channels
            let base = planeIndex * plane
            let scale = gamma[c] * inverseStd[c]
            if trainingMode {
              let meanGrad = sums[2 * c] / total
              let meanGradXhat = sums[2 * c + 1] / total
              for i in 0..<plane { gx[base + i] = scale * (gy[base + i] - meanGrad - h[base + i] * meanGradXhat) }
            } else {
              for i in 0..<plane { gx[base + i] = scale * gy[base + i] }
            }
          }
        }
      }
    }
  }
}

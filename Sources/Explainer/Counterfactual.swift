import Engine
import Foundation

/// Generative counterfactuals (Liu et al. 2019, arXiv 1907.03077; DESIGN §8): for an image x and
/// a target class b, the latent z′ is optimised from x's encoding z₀ by Adam on
/// `λ·CE(f(Dec(z′)), b) + ‖x − Dec(z′)‖₁ + μ‖z′ − z₀‖²`, with λ the smallest of a doubling
/// ladder that flips the prediction, refined by bisection. Baseline: a targeted pixel-space PGD
/// adversarial example with the smallest L∞ budget ε that flips it (bisection on ε).
public struct Counterfactual {
  /// Settings.
  public struct Settings: Sendable, Equatable {
    /// Adam steps per λ.
    public var steps = 100
    /// Adam learning rate on the latent.
    public var learningRate: Float = 0.05
    /// Weight μ of the latent distance.
    public var mu: Float = 0.1
    /// The λ ladder: λ₀·2^i for i < rungs, then `bisections` halvings of the bracket.
    public var initialLambda: Float = 0.25, rungs = 12, bisections = 4
    /// PGD: steps per ε, and bisection rounds on ε in [0, 1].
    public var pgdSteps = 20, pgdBisections = 10
    /// Creates the defaults.
    public init() {}
  }

  /// One image's counterfactual and its adversarial baseline.
  public struct Outcome: Codable, Equatable, Sendable {
    /// Classes: the classifier's prediction on x, and the target.
    public var from: Int, to: Int
    /// The counterfactual flips the classifier to `to`; the oracle agrees.
    public var valid: Bool, oracleValid: Bool?
    /// The control: the oracle already calls the unedited image `to`.
    public var oracleOriginal: Bool?
    /// λ used (nil when no rung flipped).
    public var lambda: Double?
    /// Proximity: mean |x − x′| per pixel, ‖x − x′‖₂, and ‖z′ − z₀‖₂ (standardised latents).
    public var l1: Double, l2: Double, latentDistance: Double
    /// PGD baseline: flips the classifier, the oracle agrees, its L∞ budget and L2 norm.
    public var pgdValid: Bool, pgdOracleValid: Bool?, pgdLinf: Double, pgdL2: Double

    enum CodingKeys: String, CodingKey {
      case from, to, valid, lambda, l1, l2
      case oracleValid = "oracle_valid"
      case oracleOriginal = "oracle_original"
      case latentDistance = "latent_distance"
      case pgdValid = "pgd_valid"
      case pgdOracleValid = "pgd_oracle_valid"
      case pgdLinf = "pgd_linf"
      case pgdL2 = "pgd_l2"
    }
  }

  /// The prior.
  public let prior: GenerativePrior
  /// The classifier.
  public let classifier: Network
  /// The oracle.
  public let oracle: Network?
  /// Settings.
  public var settings: Settings

  /// Creates a counterfactual maker.
  public init(prior: GenerativePrior, classifier: Network, oracle: Network?, settings: Settings = .init()) {
    self.prior = prior
    self.classifier = classifier
    self.oracle = oracle
    self.settings = settings
  }

  /// The prior's reconstruction Dec(z₀) of `images` (N,C,H,W): where every edit starts.
  public func reconstruction(_ images: Tensor) -> Tensor { prior.decode(standardisedMeans(images)) }

  /// Counterfactuals of `images` (N,C,H,W) towards `targets` (one per image), with the
  /// generative edit and its pixel-space baseline. Also returns the edited images.
  public func run(_ images: Tensor, targets: [Int]) -> (outcomes: [Outcome], edited: Tensor, adversarial: Tensor) {
    let n = images.shape[0]
    precondition(targets.count == n, "Counterfactual: \(targets.count) targets for \(n) images")
    let from = ClassExplainer.predictions(classifier, images)
    let z0 = standardisedMeans(images)
    // λ ladder per image: the first rung that flips, then bisection between it and the rung below.
    var best: [(lambda: Float, z: [Float])?] = Array(repeating: nil, count: n)
    var low = [Float](repeating: 0, count: n)
    var lambdas = [Float](repeating: settings.initialLambda, count: n)
    for _ in 0..<settings.rungs {
      let active = (0..<n).filter { best[$0] == nil }
      if active.isEmpty { break }
      let (z, flipped) = optimise(images, z0: z0, targets: targets, lambdas: lambdas, only: active)
      for i in active {
        if flipped[i] {
          best[i] = (lambdas[i], z[i])
        } else {
          low[i] = lambdas[i]
          lambdas[i] *= 2
        }
      }
    }
    for _ in 0..<settings.bisections {
      let active = (0..<n).filter { best[$0] != nil }
      if active.isEmpty { break }
      for i in active { lambdas[i] = (low[i] + best[i]!.lambda) / 2 }
      let (z, flipped) = optimise(images, z0: z0, targets: targets, lambdas: lambdas, only: active)
      for i in active {
        if flipped[i] { best[i] = (lambdas[i], z[i]) } else { low[i] = lambdas[i] }
      }
    }
    let l = prior.latent
    let finalZ = Tensor(
      shape: [n, l], scalars: (0..<n).flatMap { best[$0]?.z ?? Array(z0.scalars[($0 * l)..<(($0 + 1) * l)]) })
    let edited = prior.decode(finalZ)
    let adversarial = pgd(images, targets: targets)
    let predicted = ClassExplainer.predictions(classifier, edited)
    let judged = oracle.map { ClassExplainer.predictions($0, edited) }
    let pgdPredicted = ClassExplainer.predictions(classifier, adversarial.images)
    let pgdJudged = oracle.map { ClassExplainer.predictions($0, adversarial.images) }
    let originalJudged = oracle.map { ClassExplainer.predictions($0, images) }
    let size = images.count / n
    var outcomes: [Outcome] = []
    for i in 0..<n {
      var l1 = 0.0
      var l2 = 0.0
      var latentDistance = 0.0
      var pgdL2 = 0.0
      for p in 0..<size {
        let d = Double(images.scalars[i * size + p] - edited.scalars[i * size + p])
        l1 += abs(d)
        l2 += d * d
        let a = Double(images.scalars[i * size + p] - adversarial.images.scalars[i * size + p])
        pgdL2 += a * a
      }
      for d in 0..<l {
        let v = Double(finalZ.scalars[i * l + d] - z0.scalars[i * l + d])
        latentDistance += v * v
      }
      outcomes.append(
        Outcome(
          from: from[i], to: targets[i], valid: predicted[i] == targets[i],
          oracleValid: judged.map { $0[i] == targets[i] }, oracleOriginal: originalJudged.map { $0[i] == targets[i] },
          lambda: best[i].map { Double($0.lambda) }, l1: l1 / Double(size), l2: l2.squareRoot(),
          latentDistance: latentDistance.squareRoot(), pgdValid: pgdPredicted[i] == targets[i],
          pgdOracleValid: pgdJudged.map { $0[i] == targets[i] }, pgdLinf: Double(adversarial.epsilons[i]),
          pgdL2: pgdL2.squareRoot()))
    }
    return (outcomes, edited, adversarial.images)
  }

  /// Standardised posterior means of images, (N,L).
  func standardisedMeans(_ images: Tensor) -> Tensor {
    let raw = prior.encodeMeans(images)
    let l = prior.latent
    return Tensor(
      shape: raw.shape,
      scalars: raw.scalars.enumerated().map { ($1 - prior.latentMean[$0 % l]) / prior.latentStd[$0 % l] })
  }

  /// Adam on the latents of the `only` images for their λ; returns every image's latent row
  /// and whether its prediction flipped to its target.
  func optimise(_ images: Tensor, z0: Tensor, targets: [Int], lambdas: [Float], only: [Int]) -> ([[Float]], [Bool]) {
    let l = prior.latent
    let size = images.count / images.shape[0]
    let m = only.count
    let x = Tensor(
      shape: [m] + prior.image, scalars: only.flatMap { Array(images.scalars[($0 * size)..<(($0 + 1) * size)]) })
    let start = Tensor(shape: [m, l], scalars: only.flatMap { Array(z0.scalars[($0 * l)..<(($0 + 1) * l)]) })
    let z = Parameter(name: "latent", value: start)
    let optimizer = Optimizer(rule: Adam(learningRate: settings.learningRate), parameters: [z])
    for _ in 0..<settings.steps {
      let decoded = prior.decode(z.value)
      let logits = classifier.forward(decoded, training: false).logits
      let classes = logits.shape[1]
      var gradLogits = SoftmaxCrossEntropy.softmax(logits)
      gradLogits.withMutablePointer { g in
        for (row, i) in only.enumerated() {
          for c in 0..<classes {
            g[row * classes + c] = lambdas[i] * (g[row * classes + c] - (c == targets[i] ? 1 : 0))
          }
        }
      }
      var gradImages = classifier.backward(gradLogits, parameterGradients: false, inputGradient: true)
      let count = gradImages.count
      gradImages.withMutablePointer { g in
        for p in 0..<count {
          let d = decoded.scalars[p] - x.scalars[p]
          g[p] += d > 0 ? 1 : (d < 0 ? -1 : 0)
        }
      }
      var gradZ = prior.decodeBackward(gradImages, images: decoded)
      let total = gradZ.count
      gradZ.withMutablePointer { g in
        for i in 0..<total { g[i] += 2 * settings.mu * (z.value.scalars[i] - start.scalars[i]) }
      }
      z.gradient = gradZ
      optimizer.step()
    }
    let predictions = ClassExplainer.predictions(classifier, prior.decode(z.value))
    var rows = Array(repeating: [Float](), count: images.shape[0])
    var flipped = Array(repeating: false, count: images.shape[0])
    for (row, i) in only.enumerated() {
      rows[i] = Array(z.value.scalars[(row * l)..<((row + 1) * l)])
      flipped[i] = predictions[row] == targets[i]
    }
    return (rows, flipped)
  }

  /// Targeted PGD with the smallest flipping L∞ budget per image: ε = 1 first (an image it
  /// cannot flip keeps ε = 1 and stays invalid), then bisection on [0, 1].
  func pgd(_ images: Tensor, targets: [Int]) -> (images: Tensor, epsilons: [Float]) {
    let n = images.shape[0]
    let size = images.count / n
    var low = [Float](repeating: 0, count: n)
    var high = [Float](repeating: 1, count: n)
    var best: [[Float]?] = Array(repeating: nil, count: n)
    func round(_ epsilons: [Float], _ active: [Int]) {
      let attacked = attack(images, targets: targets, epsilons: epsilons)
      let predictions = ClassExplainer.predictions(classifier, attacked)
      for i in active {
        if predictions[i] == targets[i] {
          high[i] = epsilons[i]
          best[i] = Array(attacked.scalars[(i * size)..<((i + 1) * size)])
        } else {
          low[i] = epsilons[i]
        }
      }
    }
    round([Float](repeating: 1, count: n), Array(0..<n))
    let flippable = (0..<n).filter { best[$0] != nil }
    for _ in 0..<settings.pgdBisections where !flippable.isEmpty {
      var epsilons = [Float](repeating: 0, count: n)
      for i in flippable { epsilons[i] = (low[i] + high[i]) / 2 }
      round(epsilons, flippable)
    }
    var out: [Float] = []
    out.reserveCapacity(images.count)
    for i in 0..<n { out += best[i] ?? Array(images.scalars[(i * size)..<((i + 1) * size)]) }
    return (Tensor(shape: images.shape, scalars: out), high)
  }

  /// `pgdSteps` signed-gradient steps of size 2.5ε/steps on CE(f(x+δ), target), projected onto
  /// ‖δ‖∞ ≤ ε and [0, 1].
  func attack(_ images: Tensor, targets: [Int], epsilons: [Float]) -> Tensor {
    let n = images.shape[0]
    let size = images.count / n
    var x = images
    for _ in 0..<settings.pgdSteps {
      let logits = classifier.forward(x, training: false).logits
      let classes = logits.shape[1]
      var gradLogits = SoftmaxCrossEntropy.softmax(logits)
      gradLogits.withMutablePointer { g in
        for i in 0..<n { g[i * classes + targets[i]] -= 1 }
      }
      let grad = classifier.backward(gradLogits, parameterGradients: false, inputGradient: true)
      x.withMutablePointer { p in
        for i in 0..<n {
          let step = 2.5 * epsilons[i] / Float(settings.pgdSteps)
          for q in 0..<size {
            let index = i * size + q
            let g = grad.scalars[index]
            var v = p[index] - step * (g > 0 ? 1 : (g < 0 ? -1 : 0))
            let original = images.scalars[index]
            v = min(max(v, original - epsilons[i]), original + epsilons[i])
            p[index] = min(max(v, 0), 1)
          }
        }
      }
    }
    return x
  }
}

import Engine
import Foundation

/// Concept discovery (DESIGN §8; DEXTER's prompt search with the prior's concept codebook in
/// place of words). `slots` Gumbel-softmax slots (τ = 1, straight-through) each choose one of
/// the codebook's concepts; the image is the decoding of the mean of the chosen concepts'
/// latents. Adam minimises, per Gumbel draw,
/// `−log p_f(c | x) − mean(top-5 features of c) + Σ_s CE(h_s, softmax(θ_s))`,
/// where h_s is the history mean of slot s's distribution over the optimisation (DEXTER's
/// pseudo-labels). Top-k runs exclude the concepts chosen by earlier runs.
public struct ConceptDiscovery {
  /// Settings.
  public struct Settings: Sendable, Equatable {
    /// Slots per run.
    public var slots = 4
    /// Optimisation steps per run.
    public var steps = 150
    /// Gumbel draws per step.
    public var draws = 16
    /// Adam learning rate on the slot logits.
    public var learningRate: Float = 0.1
    /// Weight of the pseudo-label loss (0: the ablation).
    public var pseudoLabelWeight: Float = 1
    /// Runs (top-k), each excluding the concepts chosen before.
    public var runs = 3
    /// Fresh draws for the scores.
    public var evaluationDraws = 100
    /// Seed of the Gumbel noise.
    public var seed: UInt64 = 1
    /// Creates the defaults.
    public init() {}
  }

  /// One run's outcome.
  public struct Run: Codable, Equatable, Sendable {
    /// The concept each slot settled on (argmax of its logits).
    public var concepts: [Int]
    /// How often each concept was drawn in the evaluation draws (all slots), by concept id.
    public var frequencies: [String: Double]
    /// The classifier's share of the evaluation images in the class.
    public var activation: Proportion
    /// The oracle's share, when there is an oracle.
    public var oracle: Proportion?
    /// Mean loss over the last 10 steps.
    public var finalLoss: Double

    enum CodingKeys: String, CodingKey {
      case concepts, frequencies, activation, oracle
      case finalLoss = "final_loss"
    }
  }

  /// The prior (with its codebook).
  public let prior: GenerativePrior
  /// The classifier's objective.
  public let objective: ClassifierObjective
  /// The oracle.
  public let oracle: Network?
  /// Settings.
  public var settings: Settings

  /// Creates a search; the prior must have a concept codebook.
  /// - Throws: `GeneratorError` without one.
  public init(prior: GenerativePrior, classifier: Network, oracle: Network?, settings: Settings) throws {
    guard prior.conceptCount > 0 else {
      throw GeneratorError("this generator has no concept codebook; retrain it with this i2x-train generator")
    }
    self.prior = prior
    objective = try ClassifierObjective(classifier)
    self.oracle = oracle
    self.settings = settings
  }

  /// The top-k runs for class `target`.
  public func discover(_ target: Int) -> [Run] {
    var excluded = Set<Int>()
    var runs: [Run] = []
    for index in 0..<settings.runs {
      let run = search(target, excluded: excluded, seed: settings.seed &+ UInt64(index) &* 7919)
      runs.append(run)
      excluded.formUnion(run.concepts)
      if excluded.count + settings.slots > prior.conceptCount { break }
    }
    return runs
  }

  /// Gumbel(0,1) noise, (count) values.
  static func gumbel(_ count: Int, _ random: inout SplitMix64) -> [Float] {
    (0..<count).map { _ in
      let u = (Double(random.next() >> 11) + 0.5) / Double(1 << 53)
      return Float(-log(-log(u)))
    }
  }

  /// Softmax of `logits + noise` over each slot's K entries (τ = 1). (S·K).
  static func softmax(_ logits: [Float], noise: [Float]?, slots: Int, concepts k: Int) -> [Float] {
    var out = [Float](repeating: 0, count: slots * k)
    for s in 0..<slots {
      var largest = -Float.infinity
      for j in 0..<k { largest = max(largest, logits[s * k + j] + (noise?[s * k + j] ?? 0)) }
      var total: Float = 0
      for j in 0..<k {
        let e = exp(logits[s * k + j] + (noise?[s * k + j] ?? 0) - largest)
        out[s * k + j] = e
        total += e
      }
      for j in 0..<k { out[s * k + j] /= total }
    }
    return out
  }

  /// The straight-through gradient with respect to the slot logits: given ∂L/∂y (the loss's
  /// gradient with respect to the one-hot choices y), the soft path's Jacobian:
  /// `∂L/∂θ_sk = y_sk (g_sk − Σ_j y_sj g_sj)` with y = softmax(θ + noise) (τ = 1).
  public static func logitGradient(soft: [Float], gradChoices g: [Float], slots: Int, concepts k: Int) -> [Float] {
    var out = [Float](repeating: 0, count: slots * k)
    for s in 0..<slots {
      var dot: Float = 0
      for j in 0..<k { dot += soft[s * k + j] * g[s * k + j] }
      for j in 0..<k { out[s * k + j] = soft[s * k + j] * (g[s * k + j] - dot) }
    }
    return out
  }

  /// Latents (B,L) of one-hot choices (B draws of S slots): the mean of the chosen concepts.
  func latents(_ choices: [[Int]]) -> Tensor {
    let l = prior.latent
    var z = Tensor(shape: [choices.count, l])
    z.withMutablePointer { p in
      for (b, chosen) in choices.enumerated() {
        for c in chosen {
          for d in 0..<l { p[b * l + d] += prior.concepts[c * l + d] / Float(chosen.count) }
        }
      }
    }
    return z
  }

  /// One run: Adam on the slot logits, then the evaluation draws.
  func search(_ target: Int, excluded: Set<Int>, seed: UInt64) -> Run {
    let (s, k, l) = (settings.slots, prior.conceptCount, prior.latent)
    var random = SplitMix64(seed: seed)
    // Small random logits so that slots start apart; excluded concepts can never be drawn.
    let theta = Parameter(
      name: "logits",
      value: Tensor(shape: [s * k], scalars: (0..<(s * k)).map { excluded.contains($0 % k) ? -1e4 : 0 }))
    var start = Tensor.normal(shape: [s * k], scale: 0.01, using: &random)
    start.withMutablePointer { p in
      for i in 0..<(s * k) where !excluded.contains(i % k) { theta.value.scalars[i] += p[i] }
    }
    let optimizer = Optimizer(rule: Adam(learningRate: settings.learningRate), parameters: [theta])
    var history = [Float](repeating: 0, count: s * k)
    let features = objective.topFeatures(target)
    var losses: [Double] = []
    for step in 1...max(1, settings.steps) {
      let logits = theta.value.scalars
      let current = Self.softmax(logits, noise: nil, slots: s, concepts: k)
      for i in 0..<(s * k) { history[i] += (current[i] - history[i]) / Float(step) }
      var gradTheta = [Float](repeating: 0, count: s * k)
      var draws: [[Int]] = []
      var softs: [[Float]] = []
      for _ in 0..<settings.draws {
        let noise = Self.gumbel(s * k, &random)
        let soft = Self.softmax(logits, noise: noise, slots: s, concepts: k)
        softs.append(soft)
        draws.append((0..<s).map { slot in (0..<k).max { soft[slot * k + $0] < soft[slot * k + $1] }! })
      }
      let z = latents(draws)
      let images = prior.decode(z)
      let evaluated = objective.evaluate(images, target: target, logWeight: 1, featureWeight: 1, features: features)
      // Minimise −(log p + features): the gradient of the loss is minus the objective's.
      var gradImages = evaluated.gradient
      let count = gradImages.count
      gradImages.withMutablePointer { g in for i in 0..<count { g[i] = -g[i] / Float(settings.draws) } }
      let gradZ = prior.decodeBackward(gradImages, images: images)
      for (b, soft) in softs.enumerated() {
        // ∂L/∂y_sk = ⟨∂L/∂z_b, c_k⟩ / S.
        var gradChoices = [Float](repeating: 0, count: s * k)
        for j in 0..<k where !excluded.contains(j) {
          var dot: Float = 0
          for d in 0..<l { dot += gradZ.scalars[b * l + d] * prior.concepts[j * l + d] }
          for slot in 0..<s { gradChoices[slot * k + j] = dot / Float(s) }
        }
        let g = Self.logitGradient(soft: soft, gradChoices: gradChoices, slots: s, concepts: k)
        for i in 0..<(s * k) { gradTheta[i] += g[i] }
      }
      // Pseudo-label loss CE(h_s, softmax(θ_s)): gradient softmax(θ_s) − h_s.
      var pseudo = 0.0
      for i in 0..<(s * k) where !excluded.contains(i % k) {
        gradTheta[i] += settings.pseudoLabelWeight * (current[i] - history[i])
        pseudo -= Double(history[i]) * log(max(Double(current[i]), 1e-30))
      }
      for i in 0..<(s * k) where excluded.contains(i % k) { gradTheta[i] = 0 }
      theta.gradient = Tensor(shape: [s * k], scalars: gradTheta)
      optimizer.step()
      losses.append(
        -evaluated.values.reduce(0, +) / Double(settings.draws) + Double(settings.pseudoLabelWeight) * pseudo)
    }
    // The run's answer and its scores on fresh draws.
    let logits = theta.value.scalars
    let concepts = (0..<s).map { slot in (0..<k).max { logits[slot * k + $0] < logits[slot * k + $1] }! }
    var counts: [Int: Int] = [:]
    var draws: [[Int]] = []
    for _ in 0..<settings.evaluationDraws {
      let soft = Self.softmax(logits, noise: Self.gumbel(s * k, &random), slots: s, concepts: k)
      let chosen = (0..<s).map { slot in (0..<k).max { soft[slot * k + $0] < soft[slot * k + $1] }! }
      for c in chosen { counts[c, default: 0] += 1 }
      draws.append(chosen)
    }
    let images = prior.decode(latents(draws))
    func share(_ network: Network) -> Proportion {
      let predictions = ClassExplainer.predictions(network, images)
      return Proportion(hits: predictions.filter { $0 == target }.count, trials: predictions.count)
    }
    let total = Double(settings.evaluationDraws * s)
    return Run(
      concepts: concepts,
      frequencies: Dictionary(uniqueKeysWithValues: counts.map { ("\($0.key)", Double($0.value) / total) }),
      activation: share(objective.network), oracle: oracle.map(share),
      finalLoss: losses.suffix(10).reduce(0, +) / Double(min(10, losses.count)))
  }

  /// The decoded image of each concept, (K,C,H,W) in [0,1].
  public func conceptImages(_ ids: [Int]) -> Tensor {
    prior.decode(latents(ids.map { [$0] }))
  }
}

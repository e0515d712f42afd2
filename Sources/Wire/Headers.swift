/// `register-run` header: the run and what the daemon needs to analyse it. Payload: the
/// probe set as safetensors (`images` U8 [N,C,H,W], `labels` I64 [N]).
public struct RegisterRunHeader: Codable, Equatable, Sendable {
  /// Run name.
  public var run: String
  /// Architecture JSON (`i2x.architecture/1`).
  public var architecture: String
  /// Class names by index.
  public var classes: [String]
  /// SHA-256 of the payload (hex).
  public var sha256: String
  /// Fine-tune policy of the run: `auto`, `manual` or `off` (absent: `manual`).
  public var finetunePolicy: String?
  /// Dataset name (`fashion-mnist`, …), for the explainer's generator check (added with the
  /// explainer; absent: unknown).
  public var dataset: String?
  /// SHA-256 of the run's held-out generator split indices (as the generator file records it).
  public var generatorSplit: String?
  /// Explainer policy: `auto`, `manual` or `off` (absent: the daemon's `--explain`).
  public var explainPolicy: String?

  enum CodingKeys: String, CodingKey {
    case run, architecture, classes, sha256, dataset
    case finetunePolicy = "finetune_policy"
    case generatorSplit = "generator_split_sha256"
    case explainPolicy = "explain_policy"
  }

  /// Creates a header.
  public init(
    run: String, architecture: String, classes: [String], sha256: String, finetunePolicy: String? = nil,
    dataset: String? = nil, generatorSplit: String? = nil, explainPolicy: String? = nil
  ) {
    self.run = run
    self.architecture = architecture
    self.classes = classes
    self.sha256 = sha256
    self.finetunePolicy = finetunePolicy
    self.dataset = dataset
    self.generatorSplit = generatorSplit
    self.explainPolicy = explainPolicy
  }
}

/// `directive-status` header (trainer → daemon, acknowledged): a directive changed state.
public struct DirectiveStatusHeader: Codable, Equatable, Sendable {
  /// Run name.
  public var run: String
  /// Directive id.
  public var directive: Int
  /// The directive's idempotency key (must match the daemon's).
  public var key: String
  /// `received`, `running`, `done` or `failed`.
  public var state: String
  /// Why (for `failed`), or a note.
  public var reason: String?
  /// Scalar results (`removed`, `first_step`, `last_step`, before/after metrics, …).
  public var metrics: [String: Double]

  /// Creates a header.
  public init(
    run: String, directive: Int, key: String, state: String, reason: String? = nil, metrics: [String: Double] = [:]
  ) {
    self.run = run
    self.directive = directive
    self.key = key
    self.state = state
    self.reason = reason
    self.metrics = metrics
  }
}

/// `command` header (client → daemon): a change of daemon state, answered with a `reply`.
public struct CommandHeader: Codable, Equatable, Sendable {
  /// `set-policy` or `finetune`.
  public var command: String
  /// Run name.
  public var run: String
  /// For `set-policy`: `auto`, `manual` or `off`.
  public var policy: String?
  /// For `finetune`: the pair, as class names or indices.
  public var pair: [String]?
  /// For `finetune`: the uncertain prototype ids (default: the run's flags for the pair);
  /// for `intervene`: the one prototype to test.
  public var prototypes: [Int]?
  /// For `explain` and `intervene`: the class, as a name or an index (`intervene` default: where
  /// the prototype is most present).
  public var className: String?
  /// For `explain`: the checkpoint step (default: the latest).
  public var step: Int?
  /// For `counterfactual`: the probe image's index in the run's probe set, and the target class
  /// (a name or an index).
  public var probe: Int?, target: String?

  enum CodingKeys: String, CodingKey {
    case command, run, policy, pair, prototypes, step, probe
    case className = "class"
    case target = "to"
  }

  /// Creates a header.
  public init(
    command: String, run: String, policy: String? = nil, pair: [String]? = nil, prototypes: [Int]? = nil,
    className: String? = nil, step: Int? = nil, probe: Int? = nil, target: String? = nil
  ) {
    self.command = command
    self.run = run
    self.policy = policy
    self.pair = pair
    self.prototypes = prototypes
    self.className = className
    self.step = step
    self.probe = probe
    self.target = target
  }
}

/// `checkpoint` header. Payload: the checkpoint file's bytes, unchanged.
public struct CheckpointHeader: Codable, Equatable, Sendable {
  /// Run name (registered first).
  public var run: String
  /// Optimiser step.
  public var step: Int
  /// Epoch.
  public var epoch: Int
  /// SHA-256 of the payload (hex).
  public var sha256: String
  /// Scalar metrics.
  public var metrics: [String: Double]

  /// Creates a header.
  public init(run: String, step: Int, epoch: Int, sha256: String, metrics: [String: Double] = [:]) {
    self.run = run
    self.step = step
    self.epoch = epoch
    self.sha256 = sha256
    self.metrics = metrics
  }
}

/// A request from the daemon to the trainer, delivered in acks (DESIGN §7).
public struct Directive: Codable, Equatable, Sendable {
  /// Directive id.
  public var id: Int
  /// Kind (`finetune`).
  public var kind: String
  /// Kind-specific JSON (for `finetune`: a `FineTuneDirective`, format `i2x.directive/2`).
  public var payload: String
  /// Idempotency key: the trainer records it durably before acting and never executes a key
  /// twice, so redelivery is harmless.
  public var key: String

  /// Creates a directive.
  public init(id: Int, kind: String, payload: String, key: String = "") {
    self.id = id
    self.kind = kind
    self.payload = payload
    self.key = key
  }

  enum CodingKeys: String, CodingKey { case id, kind, payload, key }

  /// Decodes, accepting directives without a key (older daemons).
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    id = try container.decode(Int.self, forKey: .id)
    kind = try container.decode(String.self, forKey: .kind)
    payload = try container.decode(String.self, forKey: .payload)
    key = try container.decodeIfPresent(String.self, forKey: .key) ?? ""
  }
}

/// `ack` header.
public struct AckHeader: Codable, Equatable, Sendable {
  /// `registered`, `stored` or `duplicate`.
  public var status: String
  /// Run name.
  public var run: String
  /// Step, for checkpoints.
  public var step: Int?
  /// Digest the daemon stored.
  public var sha256: String?
  /// Pending directives for the run.
  public var directives: [Directive]

  /// Creates a header.
  public init(status: String, run: String, step: Int? = nil, sha256: String? = nil, directives: [Directive] = []) {
    self.status = status
    self.run = run
    self.step = step
    self.sha256 = sha256
    self.directives = directives
  }
}

/// `error` header.
public struct ErrorHeader: Codable, Equatable, Sendable {
  /// Machine-readable code (`bad-data`, `unknown-run`, `conflict`, `unknown-type`, …).
  public var code: String
  /// What went wrong and what to do.
  public var message: String

  /// Creates a header.
  public init(code: String, message: String) {
    self.code = code
    self.message = message
  }
}

/// `query` header.
public struct QueryHeader: Codable, Equatable, Sendable {
  /// `status`, `runs` or `checkpoints`.
  public var query: String
  /// Run name, for run-specific queries.
  public var run: String?
  /// Checkpoint step, for queries about one analysed checkpoint (default: the latest).
  public var step: Int?
  /// Directive id, for `directive-payload`.
  public var directive: Int?
  /// Class index, for `explanations`.
  public var classIndex: Int?
  /// Explanation id and image name (`guided`, `prior`, `randomized`), for `explanation-image`.
  public var explanation: Int?, image: String?
  /// Prototype id, for `lineage`.
  public var prototype: Int?

  enum CodingKeys: String, CodingKey {
    case query, run, step, directive, explanation, image, prototype
    case classIndex = "class"
  }

  /// Creates a header.
  public init(
    query: String, run: String? = nil, step: Int? = nil, directive: Int? = nil, classIndex: Int? = nil,
    explanation: Int? = nil, image: String? = nil, prototype: Int? = nil
  ) {
    self.query = query
    self.run = run
    self.step = step
    self.directive = directive
    self.classIndex = classIndex
    self.explanation = explanation
    self.image = image
    self.prototype = prototype
  }
}

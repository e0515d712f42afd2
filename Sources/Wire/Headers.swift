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

  /// Creates a header.
  public init(run: String, architecture: String, classes: [String], sha256: String) {
    self.run = run
    self.architecture = architecture
    self.classes = classes
    self.sha256 = sha256
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
  /// Kind (e.g. `fine-tune`).
  public var kind: String
  /// Kind-specific JSON.
  public var payload: String

  /// Creates a directive.
  public init(id: Int, kind: String, payload: String) {
    self.id = id
    self.kind = kind
    self.payload = payload
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

  /// Creates a header.
  public init(query: String, run: String? = nil, step: Int? = nil) {
    self.query = query
    self.run = run
    self.step = step
  }
}

import Checkpoints
import Foundation
import Models
import Store
import Wire

/// Turns one request's frames into one reply: the daemon's logic, free of sockets, so the
/// same code runs behind ZeroMQ and behind the in-memory twin. Never throws: every failure
/// becomes an `error` reply.
public final class RequestHandler {
  /// Daemon version reported by `status`.
  public static let version = "i2xd 0.1.0"

  let store: DaemonStore
  let started = Date()
  /// Called after a checkpoint was stored (wakes the job worker).
  public var onStored: () -> Void = {}
  /// Log sink.
  public var log: (String) -> Void
  /// Caps on what a trainer may register.
  public var limits = RequestLimits()
  /// The explainer's settings (generator description, default policy).
  public var explainer = ExplainerSettings()

  /// Creates a handler over `store` (owned by the calling thread).
  public init(store: DaemonStore, log: @escaping (String) -> Void) {
    self.store = store
    self.log = log
  }

  /// The reply to `frames`.
  public func handle(_ frames: [[UInt8]]) -> WireMessage {
    do {
      let message: WireMessage
      do { message = try WireMessage(frames: frames) } catch {
        let code: DaemonError.Code =
          switch error.kind {
          case .unknownType: .unknownType
          case .unsupportedVersion: .unsupportedVersion
          default: .badData
          }
        throw DaemonError(code, error.message)
      }
      switch message.type {
      case .registerRun: return try registerRun(message)
      case .checkpoint: return try checkpoint(message)
      case .query: return try query(message)
      case .directiveStatus: return try directiveStatus(message)
      case .command: return try command(message)
      case .ack, .error, .reply:
        throw DaemonError(.unknownType, "the daemon does not accept '\(message.type)' messages")
      }
    } catch let error as DaemonError {
      return Self.errorReply(error)
    } catch let error as WireError {
      return Self.errorReply(DaemonError(.badData, error.message))
    } catch let error as PostgreSQLError where error.isDataException {
      // A value of the request the store cannot hold (text with a NUL character on
      // PostgreSQL): the request's fault, and retrying it cannot help.
      return Self.errorReply(DaemonError(.badData, "the store cannot take a value of this request: \(error.message)"))
    } catch {
      log("request failed: \(error)")
      return Self.errorReply(
        DaemonError(.internalError, "the daemon could not complete the request (\(error)); retry later"))
    }
  }

  static func errorReply(_ error: DaemonError) -> WireMessage {
    (try? WireMessage(type: .error, header: ErrorHeader(code: error.code.rawValue, message: error.message)))
      ?? WireMessage(type: .error, headerBytes: Array(#"{"code":"internal","message":"unencodable error"}"#.utf8))
  }

  private func registerRun(_ message: WireMessage) throws -> WireMessage {
    let header = try message.decode(RegisterRunHeader.self)
    try Self.validateRunName(header.run)
    guard let payload = message.payload else {
      throw DaemonError(.badData, "register-run needs the probe set as payload")
    }
    guard SHA256.hex(payload) == header.sha256 else {
      throw DaemonError(.badData, "probe set sha256 does not match the header; the payload was damaged")
    }
    let architecture: Architecture
    do { architecture = try Architecture(json: header.architecture, limits: limits.architecture) } catch {
      throw DaemonError(.badData, "run '\(header.run)': \(error)")
    }
    guard header.classes.count == architecture.classes else {
      throw DaemonError(
        .badData, "run '\(header.run)': \(header.classes.count) class names for \(architecture.classes) classes")
    }
    let probe = try Self.validateProbe(payload, architecture: architecture, limits: limits.safetensors)
    let targetBytes = probe.multipliedReportingOverflow(
      by: try architecture.validate(limits: limits.architecture).targetActivationElements)
    guard !targetBytes.overflow, targetBytes.partialValue <= limits.maximumAnalysisBytes / 4 else {
      throw DaemonError(
        .badData,
        "run '\(header.run)': the analysis would hold \(probe) probe images × the target layer's "
          + "activations = more than \(limits.maximumAnalysisBytes) bytes (i2xd --max-analysis-bytes); "
          + "use fewer probe images or an earlier, smaller target layer")
    }
    guard probe <= limits.maximumProbeImages else {
      throw DaemonError(
        .badData,
        "run '\(header.run)': \(probe) probe images, over the daemon's cap of \(limits.maximumProbeImages) "
          + "(i2xd --max-probe-images); use fewer (i2x-train --probe-per-class)")
    }
    let policy = try header.finetunePolicy.map { text in
      guard let policy = DaemonStore.FineTunePolicy(rawValue: text) else {
        throw DaemonError(.badData, "run '\(header.run)': fine-tune policy '\(text)' is not auto, manual or off")
      }
      return policy
    }
    let explainPolicy = try header.explainPolicy.map { text in
      guard let policy = DaemonStore.ExplainPolicy(rawValue: text) else {
        throw DaemonError(.badData, "run '\(header.run)': explain policy '\(text)' is not auto, manual or off")
      }
      return policy
    }
    let outcome = try store.registerRun(
      name: header.run, architecture: architecture.json(), classes: header.classes, probe: payload,
      probeSHA256: header.sha256, probeCount: probe)
    if outcome == .stored, let policy { try store.setPolicy(run: header.run, policy) }
    if outcome == .stored {
      if header.dataset != nil || header.generatorSplit != nil {
        try store.setRunData(run: header.run, dataset: header.dataset, generatorSplit: header.generatorSplit)
      }
      if let explainPolicy { try store.setExplainPolicy(run: header.run, explainPolicy) }
    }
    log(
      "run '\(header.run)' \(outcome == .stored ? "registered" : "re-registered") (\(architecture.name), \(probe) probe images)"
    )
    return try WireMessage(
      type: .ack,
      header: AckHeader(
        status: outcome == .stored ? "registered" : "duplicate", run: header.run, directives: directives(header.run)))
  }

  private func checkpoint(_ message: WireMessage) throws -> WireMessage {
    let header = try message.decode(CheckpointHeader.self)
    try Self.validateRunName(header.run)
    guard header.step >= 0, header.epoch >= 0 else { throw DaemonError(.badData, "step and epoch must be ≥ 0") }
    guard let payload = message.payload else {
      throw DaemonError(.badData, "checkpoint needs the safetensors file as payload")
    }
    guard SHA256.hex(payload) == header.sha256 else {
      throw DaemonError(.badData, "checkpoint sha256 does not match the header; the payload was damaged in transit")
    }
    try validateCheckpoint(payload, run: header.run, step: header.step)
    let metrics = String(decoding: try JSONEncoder().encode(header.metrics.filter { $0.value.isFinite }), as: UTF8.self)
    let outcome = try store.storeCheckpoint(
      run: header.run, step: header.step, epoch: header.epoch, metrics: metrics, bytes: payload, sha256: header.sha256)
    if outcome == .stored {
      log("run '\(header.run)' step \(header.step): stored \(payload.count) bytes")
      onStored()
    }
    try store.refreshDirectiveLeases(run: header.run)
    return try WireMessage(
      type: .ack,
      header: AckHeader(
        status: outcome.rawValue, run: header.run, step: header.step, sha256: header.sha256,
        directives: directives(header.run)))
  }

  func directives(_ run: String) throws -> [Directive] {
    try store.deliverableDirectives(run: run).map {
      Directive(id: $0.id, kind: $0.kind, payload: $0.payload, key: $0.key)
    }
  }

  /// Refuses a checkpoint its run could never load: not a valid safetensors file, tensors
  /// missing, extra or of the wrong shape for the run's architecture, or non-finite values.
  /// A refused checkpoint is never stored or acked.
  func validateCheckpoint(_ payload: [UInt8], run: String, step: Int) throws {
    guard let json = try store.architecture(run: run) else {
      throw DaemonError(
        .unknownRun, "run '\(run)' is not registered; the trainer registers it before its first checkpoint")
    }
    do {
      let architecture = try Architecture(json: json, limits: limits.architecture)
      _ = try ModelCheckpoint(
        file: try SafetensorsFile(bytes: payload, limits: limits.safetensors), architecture: architecture,
        limits: limits.architecture)
    } catch {
      throw DaemonError(.badData, "run '\(run)' step \(step) does not fit the run's architecture: \(error)")
    }
  }

  /// Longest run name in UTF-8 bytes.
  static let maximumRunNameBytes = 200

  /// Run names: 1–200 UTF-8 bytes, no control characters (a NUL would alias another run in
  /// C APIs, a newline would forge log lines).
  static func validateRunName(_ name: String) throws {
    guard !name.isEmpty, name.utf8.count <= maximumRunNameBytes else {
      throw DaemonError(
        .badData, "run names must be 1–\(maximumRunNameBytes) bytes of UTF-8, got \(name.utf8.count) bytes")
    }
    if let bad = name.unicodeScalars.first(where: { $0.properties.generalCategory == .control }) {
      throw DaemonError(
        .badData,
        "run names must not contain control characters (found U+\(String(bad.value, radix: 16, uppercase: true)))")
    }
  }

  /// Checks the probe set: `images` U8 [N,C,H,W] matching the architecture, `labels` I64 [N]
  /// within the classes. Returns N.
  static func validateProbe(
    _ payload: [UInt8], architecture: Architecture, limits: SafetensorsFile.Limits = .default
  ) throws -> Int {
    do {
      let file = try SafetensorsFile(bytes: payload, limits: limits)
      let images = try file.tensor("images")
      let labels = try file.tensor("labels")
      guard images.dtype == .u8, images.shape.count == 4, Array(images.shape.dropFirst()) == architecture.input else {
        throw DaemonError(
          .badData,
          "probe 'images' must be U8 [N,\(architecture.input.map(String.init).joined(separator: ","))], got \(images.dtype.rawValue) \(images.shape)"
        )
      }
      let values = try labels.int64s()
      guard labels.shape == [images.shape[0]], values.allSatisfy({ $0 >= 0 && $0 < architecture.classes }) else {
        throw DaemonError(.badData, "probe 'labels' must be I64 [\(images.shape[0])] in 0..<\(architecture.classes)")
      }
      return images.shape[0]
    } catch let error as DaemonError {
      throw error
    } catch {
      throw DaemonError(.badData, "probe set: \(error)")
    }
  }
}

/// Caps on what a trainer may send, configurable in `i2xd`, checked before anything of that
/// size is allocated.
public struct RequestLimits: Sendable {
  /// Largest probe set, in images (`--max-probe-images`).
  public var maximumProbeImages = 10_000
  /// Bytes of target-layer activations the analysis may hold for the whole probe set
  /// (`--max-analysis-bytes`): probe images × d·h·w × 4.
  public var maximumAnalysisBytes = 2 << 30
  /// Parameters, activation size, classes, layers (`--max-parameters`,
  /// `--max-activation-elements`, `--max-classes`).
  public var architecture = Architecture.Limits.default
  /// Header bytes and tensor count of checkpoint and probe files (`--max-header-bytes`,
  /// `--max-tensors`).
  public var safetensors = SafetensorsFile.Limits.default
  /// Creates the defaults.
  public init() {}
}

import CLI
import Checkpoints
import Foundation
import Models
import Wire

extension TrainerCommands {
  static let publishSpec = CommandSpec(
    name: "i2x-train publish", abstract: "Publish an existing checkpoint file to a daemon.",
    options: [
      .value("checkpoint", "FILE", "Checkpoint (.safetensors), e.g. a PyTorch export.", required: true),
      .value("endpoint", "ENDPOINT", "Daemon endpoint.", default: "tcp://127.0.0.1:7070"),
      .value("run", "NAME", "Run name (registered if new).", required: true),
      .value("step", "N", "Step (default: the file's i2x.step, else 0)."),
      .value("arch", "NAME", "Architecture for checkpoints without i2x metadata."),
      .value("probe", "FILE", "Probe set: safetensors with images U8 [N,C,H,W] and labels I64 [N] (default: none)."),
      .value("timeout", "MS", "Milliseconds to wait for each reply.", default: "5000"),
    ],
    discussion: "Sends synchronously; exits 69 if no daemon answers. The bytes sent are the file's bytes.")

  static func publish(_ arguments: [String], out: @Sendable (String) -> Void, log: @Sendable (String) -> Void) throws
    -> ExitCode
  {
    let options = try ParsedOptions(arguments, spec: publishSpec)
    let endpoint = try options.connectEndpoint("endpoint")
    let socketOptions = try options.clientSocketOptions()
    let checkpoint = try loadCheckpoint(options)
    let path = try options.requiredString("checkpoint")
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    let run = try options.requiredString("run")
    let architecture = checkpoint.architecture
    let probe: [UInt8]
    if let probePath = options.string("probe") {
      probe = [UInt8](try Data(contentsOf: URL(fileURLWithPath: probePath)))
    } else {
      probe = try SafetensorsFile(tensors: [
        "images": TensorRecord(bytes: [], shape: [0] + architecture.input),
        "labels": TensorRecord(int64s: [], shape: [0]),
      ]).serialized()
    }
    let classes = checkpoint.metadata.classes ?? (0..<architecture.classes).map { "class-\($0)" }
    let step = try options.int("step", minimum: 0) ?? checkpoint.metadata.step ?? 0
    let client = RequestClient(
      endpoint: endpoint, timeoutMilliseconds: try options.int("timeout", minimum: 1) ?? 5000, attempts: 3,
      options: socketOptions)
    defer { client.close() }
    let register = try Publisher.message(
      for: Outbox.Entry(kind: "register-run", run: run, architecture: architecture.json(), classes: classes),
      payload: probe)
    let send = try Publisher.message(
      for: Outbox.Entry(
        kind: "checkpoint", run: run, step: step, epoch: checkpoint.metadata.epoch ?? 0,
        metrics: checkpoint.metadata.metrics),
      payload: bytes)
    for message in [register, send] {
      let reply: WireMessage
      do { reply = try client.request(message) } catch let error as DaemonUnreachable {
        throw TrainingError(error.description, exitCode: .unavailable)
      }
      if reply.type == .error {
        let error = try reply.decode(ErrorHeader.self)
        throw TrainingError("daemon refused \(message.type): \(error.message)", exitCode: .dataError)
      }
      let ack = try reply.decode(AckHeader.self)
      log("\(message.type): \(ack.status)")
    }
    out("published \(path) as run '\(run)' step \(step) (sha256 \(SHA256.hex(bytes)))")
    return .success
  }

  static let drainSpec = CommandSpec(
    name: "i2x-train drain", abstract: "Send what an earlier run left in its outbox.",
    options: [
      .value("out", "DIR", "The run's output directory (its outbox is DIR/outbox).", required: true),
      .value("endpoint", "ENDPOINT", "Daemon endpoint.", default: "tcp://127.0.0.1:7070"),
      .value("timeout", "SECONDS", "Give up after this long.", default: "60"),
    ])

  static func drain(_ arguments: [String], out: @Sendable (String) -> Void, log: @escaping @Sendable (String) -> Void)
    throws -> ExitCode
  {
    let options = try ParsedOptions(arguments, spec: drainSpec)
    let endpoint = try options.connectEndpoint("endpoint")
    let socketOptions = try options.clientSocketOptions()
    let directory = URL(fileURLWithPath: try options.requiredString("out")).appendingPathComponent("outbox")
    guard FileManager.default.fileExists(atPath: directory.path) else {
      throw TrainingError("no outbox at \(directory.path); was the run trained with --publish?", exitCode: .noInput)
    }
    let publisher = Publisher(
      outbox: try Outbox(directory: directory), endpoint: endpoint, options: socketOptions, log: log)
    let before = publisher.outbox.pending().count
    publisher.start()
    let pending = publisher.drain(timeout: try options.double("timeout", minimum: 0) ?? 60)
    publisher.stop()
    out("sent \(before - pending) of \(before) outbox entries; \(pending) pending")
    return pending == 0 ? .success : .unavailable
  }
}

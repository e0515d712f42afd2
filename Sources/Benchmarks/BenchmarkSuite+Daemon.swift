import Checkpoints
import DaemonCore
import Datasets
import Engine
import Foundation
import Models
import Training
import Wire

extension BenchmarkSuite {
  /// Training with and without publishing: the same steps and checkpoint writes; with
  /// `--publish`, each checkpoint is also queued to an in-process daemon (same 2 cores).
  func publishOverhead(_ emit: (String) -> Void) throws {
    let architecture = try requireArchitecture("smallcnn")
    let data = SyntheticImages.make(count: 64 * 8, seed: 3)
    // DESIGN §10: a trainer publishing every 200 steps.
    let steps = quick ? 200 : 1200
    let every = quick ? 50 : 200
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let daemon = try EmbeddedDaemon(dataDirectory: directory.appendingPathComponent("daemon"))
    defer { daemon.shutdown() }
    var figures: [String: Double] = [:]
    for publishing in [false, true, false, true] {
      let out = directory.appendingPathComponent("run-\(publishing)-\(UUID().uuidString)")
      try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
      let network = try architecture.build(seed: 1)
      let loop = TrainingLoop(network: network, rule: SGD(learningRate: 0.01, momentum: 0.9), batchSize: 64)
      var publisher: Publisher?
      if publishing {
        let p = Publisher(
          outbox: try Outbox(directory: out.appendingPathComponent("outbox")), endpoint: daemon.endpoint,
          options: SocketOptions(), log: { _ in })
        let probe = try ModelCheckpointProbe.empty(architecture)
        try p.enqueue(
          Outbox.Entry(
            kind: "register-run", run: out.lastPathComponent, architecture: architecture.json(),
            classes: data.classNames),
          payload: probe)
        p.start()
        publisher = p
      }
      let start = DispatchTime.now().uptimeNanoseconds
      for step in 1...steps {
        let offset = (step * 64) % data.count
        try loop.step(on: data, indices: Array(offset..<min(data.count, offset + 64))[...])
        if step % every == 0 {
          let url = out.appendingPathComponent("step-\(step).safetensors")
          try ModelCheckpoint(
            architecture: architecture, network: network, metadata: CheckpointMetadata(run: "bench", step: step)
          ).write(to: url)
          try publisher?.enqueue(
            Outbox.Entry(kind: "checkpoint", run: out.lastPathComponent, step: step, epoch: 1), payloadFile: url)
        }
      }
      let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
      let pending = publisher?.drain(timeout: 30) ?? 0
      publisher?.stop()
      precondition(pending == 0, "benchmark daemon did not acknowledge every checkpoint")
      // Keep the better of two rounds per mode (warm caches, less noise).
      let key = publishing ? "with" : "without"
      figures[key] = max(figures[key] ?? 0, Double(steps * 64) / seconds)
    }
    let without = figures["without"] ?? 0
    let with = figures["with"] ?? 0
    emit(
      line([
        "figure": "publish_overhead", "arch": "smallcnn", "batch": 64, "checkpoint_every": every,
        "images_per_second_without": without, "images_per_second_with": with,
        "overhead_percent": (without / max(with, 1e-9) - 1) * 100,
      ]))
  }

  /// Checkpoints/s acknowledged by a daemon (fsync + commit each), and query latency; on the
  /// embedded store, or at `location` (the figures then name its backend).
  func ingestAndQueries(_ emit: (String) -> Void, location: StoreLocation? = nil) throws {
    let architecture = try requireArchitecture("smallcnn")
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let (backend, blobs): (String, String)
    if case .postgreSQL(_, let directory) = location {
      (backend, blobs) = ("postgresql", directory == nil ? "database" : "directory")
    } else {
      (backend, blobs) = ("sqlite", "directory")
    }
    let daemon = try EmbeddedDaemon(location: location ?? .directory(directory))
    defer { daemon.shutdown() }
    let client = RequestClient(endpoint: daemon.endpoint, timeoutMilliseconds: 10_000, attempts: 1)
    defer { client.close() }
    let probe = try ModelCheckpointProbe.empty(architecture)
    _ = try client.request(
      try Publisher.message(
        for: Outbox.Entry(
          kind: "register-run", run: "bench", architecture: architecture.json(), classes: (0..<10).map(String.init)),
        payload: probe))
    let count = quick ? 20 : 100
    let network = try architecture.build(seed: 1)
    var messages: [WireMessage] = []
    for step in 1...count {
      network.parameters[0].value.scalars[0] = Float(step)  // distinct bytes per checkpoint
      let bytes = try ModelCheckpoint(
        architecture: architecture, network: network, metadata: CheckpointMetadata(step: step)
      ).file.serialized()
      messages.append(
        try Publisher.message(for: Outbox.Entry(kind: "checkpoint", run: "bench", step: step, epoch: 1), payload: bytes)
      )
    }
    let start = DispatchTime.now().uptimeNanoseconds
    for message in messages {
      guard try client.request(message).type == .ack else { throw TrainingError("benchmark checkpoint refused") }
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    emit(
      line([
        "figure": "ingest", "store": backend, "blobs": blobs, "checkpoint_bytes": messages[0].payload?.count ?? 0,
        "checkpoints_per_second": Double(count) / seconds,
      ]))
    for query in [QueryHeader(query: "status"), QueryHeader(query: "checkpoints", run: "bench")] {
      let request = try WireMessage(type: .query, header: query)
      var samples: [Double] = []
      for _ in 0..<(quick ? 100 : 1000) {
        let t = DispatchTime.now().uptimeNanoseconds
        _ = try client.request(request)
        samples.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1e6)
      }
      samples.sort()
      emit(
        line([
          "figure": "query_latency", "store": backend, "query": query.query, "p50_ms": samples[samples.count / 2],
          "p99_ms": samples[samples.count * 99 / 100], "requests": samples.count,
        ]))
    }
  }

  private func requireArchitecture(_ name: String) throws -> Architecture {
    guard let architecture = Architecture.reference(name) else { throw TrainingError("no architecture \(name)") }
    return architecture
  }

  func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("i2x-bench-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }
}

/// An empty probe set of the right image shape (benchmarks do not analyse).
enum ModelCheckpointProbe {
  static func empty(_ architecture: Architecture) throws -> [UInt8] {
    try SafetensorsFile(tensors: [
      "images": TensorRecord(bytes: [], shape: [0] + architecture.input),
      "labels": TensorRecord(int64s: [], shape: [0]),
    ]).serialized()
  }
}

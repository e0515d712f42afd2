import DaemonCore
import Foundation
import Training
import Wire

extension BenchmarkSuite {
  /// Trains smallcnn-bn on Fashion-MNIST for one epoch, publishing every 200 steps to an
  /// in-process daemon on the same cores (1,000 probe images), samples the analysis queue depth
  /// once a second, then reports each checkpoint's analysis time by stage.
  func analysis(_ emit: (String) -> Void) throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "i2x-bench-analysis-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: directory) }
    let daemon = try EmbeddedDaemon(dataDirectory: directory.appendingPathComponent("daemon"))
    defer { daemon.shutdown() }
    var configuration = TrainingConfiguration()
    configuration.dataset = quick ? "synthetic" : "fashion-mnist"
    configuration.architecture = "smallcnn-bn"
    configuration.epochs = 1
    configuration.checkpointEvery = quick ? 20 : 200
    configuration.probePerClass = quick ? 10 : 100
    configuration.validationSize = quick ? 200 : 5000
    configuration.generatorSize = quick ? 100 : 5000
    configuration.publishEndpoint = daemon.endpoint
    configuration.runName = "bench"
    configuration.outputDirectory = directory.appendingPathComponent("run")
    let monitor = QueueMonitor(endpoint: daemon.endpoint)
    monitor.start()
    let started = Date()
    _ = try TrainingJob(configuration: configuration, log: { _ in }).run()
    let trainingSeconds = Date().timeIntervalSince(started)
    let client = RequestClient(endpoint: daemon.endpoint, timeoutMilliseconds: 10_000, attempts: 1)
    defer { client.close() }
    func ask(_ header: QueryHeader) throws -> [String: Any] {
      let reply = try client.request(try WireMessage(type: .query, header: header))
      return (try JSONSerialization.jsonObject(with: Data(reply.header)) as? [String: Any]) ?? [:]
    }
    while (try ask(QueryHeader(query: "status"))["queue_depth"] as? Int ?? 0) > 0 { Thread.sleep(forTimeInterval: 0.1) }
    let drained = Date().timeIntervalSince(started) - trainingSeconds
    let samples = monitor.stop()
    let steps = (try ask(QueryHeader(query: "checkpoints", run: "bench"))["checkpoints"] as? [[String: Any]] ?? [])
      .compactMap { $0["step"] as? Int }
    for step in steps {
      let answer = try ask(QueryHeader(query: "progress", run: "bench", step: step))
      var fields: [String: Any] = [
        "figure": "analysis", "arch": "smallcnn-bn", "dataset": configuration.dataset,
        "probe_images": configuration.probePerClass * 10,
        "step": step, "checkpoints_analysed": (answer["steps"] as? [Int])?.count ?? 0,
        "seconds": answer["analysis_seconds"] as? Double ?? 0,
      ]
      for (stage, seconds) in answer["timings"] as? [String: Double] ?? [:] { fields["seconds_" + stage] = seconds }
      emit(line(fields))
    }
    emit(
      line([
        "figure": "analysis_keeps_up", "publish_every_steps": configuration.checkpointEvery, "checkpoints": steps.count,
        "training_seconds": trainingSeconds, "seconds_to_drain_after_training": drained,
        "max_queue_depth": samples.max() ?? 0, "queue_depth_per_second": samples,
      ]))
  }
}

/// Samples the daemon's queue depth about once a second on its own thread.
private final class QueueMonitor: @unchecked Sendable {
  private let endpoint: String
  private let lock = NSLock()
  private var samples: [Int] = []
  private var running = true
  private let done = DispatchSemaphore(value: 0)

  init(endpoint: String) { self.endpoint = endpoint }

  func start() {
    Thread { [self] in
      let client = RequestClient(endpoint: endpoint, timeoutMilliseconds: 5000, attempts: 1)
      while lock.withLock({ running }) {
        if let reply = try? client.request(try WireMessage(type: .query, header: QueryHeader(query: "status"))),
          let object = try? JSONSerialization.jsonObject(with: Data(reply.header)) as? [String: Any],
          let depth = object["queue_depth"] as? Int
        {
          lock.withLock { samples.append(depth) }
        }
        Thread.sleep(forTimeInterval: 1)
      }
      client.close()
      done.signal()
    }.start()
  }

  func stop() -> [Int] {
    lock.withLock { running = false }
    done.wait()
    return lock.withLock { samples }
  }
}

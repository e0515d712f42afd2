import DaemonCore
import Foundation
import Training
import Wire

extension BenchmarkSuite {
  /// The fine-tune loop end to end, in process: smallcnn-bn trains on Fashion-MNIST for one
  /// epoch publishing every 100 steps to an embedded daemon under the `auto` policy; the
  /// first uncertain-prototype flag becomes a directive, the trainer runs the curated → full
  /// segment (at most one: `maximumFineTunes = 1`). Reports the time from flag (directive
  /// created) to delivery (in an ack) and the segment's time and images/s, as the trainer
  /// measured them.
  func finetune(_ emit: (String) -> Void) throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "i2x-bench-finetune-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: directory) }
    let daemon = try EmbeddedDaemon(dataDirectory: directory.appendingPathComponent("daemon"))
    defer { daemon.shutdown() }
    var configuration = TrainingConfiguration()
    configuration.dataset = quick ? "synthetic" : "fashion-mnist"
    configuration.architecture = "smallcnn-bn"
    configuration.epochs = 1
    configuration.checkpointEvery = quick ? 10 : 100
    configuration.probePerClass = quick ? 10 : 100
    configuration.validationSize = quick ? 200 : 5000
    configuration.generatorSize = quick ? 100 : 5000
    configuration.publishEndpoint = daemon.endpoint
    configuration.finetunePolicy = "auto"
    configuration.maximumFineTunes = 1
    configuration.awaitDirectives = quick ? 10 : 60
    configuration.runName = "bench"
    configuration.outputDirectory = directory.appendingPathComponent("run")
    let started = Date()
    _ = try TrainingJob(configuration: configuration, log: { _ in }).run()
    let seconds = Date().timeIntervalSince(started)
    let client = RequestClient(endpoint: daemon.endpoint, timeoutMilliseconds: 10_000, attempts: 1)
    defer { client.close() }
    let reply = try client.request(
      try WireMessage(type: .query, header: QueryHeader(query: "directives", run: "bench")))
    let answer = (try JSONSerialization.jsonObject(with: Data(reply.header)) as? [String: Any]) ?? [:]
    let directives = answer["directives"] as? [[String: Any]] ?? []
    if directives.isEmpty {
      emit(
        line([
          "figure": "finetune", "dataset": configuration.dataset, "directives": 0, "run_seconds": seconds,
          "note": "no uncertain prototype was flagged in this run, so nothing was fine-tuned",
        ]))
    }
    // The executed one (later directives are refused by the one-fine-tune limit).
    for directive in directives where directive["state"] as? String == "done" {
      let metrics = directive["metrics"] as? [String: Any] ?? [:]
      var fields: [String: Any] = [
        "figure": "finetune", "dataset": configuration.dataset, "arch": configuration.architecture,
        "directive": directive["id"] as? Int ?? 0, "state": directive["state"] as? String ?? "",
        "run_seconds": seconds,
      ]
      if let created = directive["created_at"] as? Double, let delivered = directive["delivered_at"] as? Double {
        fields["flag_to_delivery_seconds"] = delivered - created
      }
      for key in ["removed", "candidates", "steps", "seconds", "images_per_second", "training_seconds"] {
        if let value = metrics[key] as? Double { fields["segment_" + key] = value }
      }
      emit(line(fields))
    }
  }
}

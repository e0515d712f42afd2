import DaemonCore
import Datasets
import Engine
import Foundation
import Models
import Prototypes
import Training
import Wire

extension BenchmarkSuite {
  /// Trains smallcnn-bn on Fashion-MNIST for one epoch, publishing every 200 steps to an
  /// in-process daemon on the same cores (1,000 probe images), samples the analysis queue depth
  /// once a second, then reports each checkpoint's analysis time by stage.
  func analysis(_ emit: (String) -> Void) throws {
    try analysisRun(emit, checkpointEvery: quick ? 20 : 200, epochs: 1, figure: "analysis")
  }

  /// Growth of the per-checkpoint analysis time over a long run: smallcnn-bn on Fashion-MNIST
  /// publishing every 10 steps until `I2X_BENCH_CHECKPOINTS` checkpoints (500; 30 with
  /// `--quick`, on synthetic data), then the median analysis seconds around checkpoint 10 and
  /// around the last, and their ratio (issue target ≤ 1.5).
  func growth(_ emit: (String) -> Void) throws {
    let wanted = Int(ProcessInfo.processInfo.environment["I2X_BENCH_CHECKPOINTS"] ?? "") ?? (quick ? 30 : 500)
    // Steps per epoch at batch 64 after the trainer's held-out splits (Fashion-MNIST: 49,000
    // training images, 766 steps; synthetic: 2,000, 32 steps), so the run reaches `wanted`.
    let stepsPerEpoch = quick ? 32 : 766
    let epochs = max(1, (wanted * 10 + stepsPerEpoch - 1) / stepsPerEpoch)
    let measured = try analysisRun(emit, checkpointEvery: 10, epochs: epochs, figure: "growth_checkpoint")
    func median(_ values: [Double]) -> Double {
      let sorted = values.sorted()
      return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }
    // Wall seconds include waiting for the cores (the trainer runs at the same time, ahead of
    // the analysis); CPU seconds are the analysis's own work, the figure that shows growth.
    let seconds = measured.map(\.wall)
    let cpu = measured.map(\.cpu)
    let early = median(Array(cpu.dropFirst(7).prefix(6)))
    let late = median(Array(cpu.suffix(6)))
    emit(
      line([
        "figure": "analysis_growth", "checkpoints": measured.count,
        "median_cpu_seconds_near_10": early, "median_cpu_seconds_at_end": late, "ratio": late / max(early, 1e-9),
        "median_wall_seconds_near_10": median(Array(seconds.dropFirst(7).prefix(6))),
        "median_wall_seconds_at_end": median(Array(seconds.suffix(6))),
        "median_wall_seconds_all": median(seconds), "median_cpu_seconds_all": median(cpu), "target_ratio": 1.5,
      ]))
  }

  /// Trains with an in-process daemon and emits one line per analysed checkpoint (named
  /// `figure`); returns the per-checkpoint analysis wall and CPU seconds in step order.
  @discardableResult
  func analysisRun(
    _ emit: (String) -> Void, checkpointEvery: Int, epochs: Int, figure: String
  ) throws -> [(wall: Double, cpu: Double)] {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "i2x-bench-analysis-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: directory) }
    // Jobs in child processes of i2xd as the real daemon runs them (at niceness +10), when the
    // i2xd binary sits next to this one; else on the worker thread.
    let i2xd = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("i2xd")
    let isolated = FileManager.default.isExecutableFile(atPath: i2xd.path)
    let daemon = try EmbeddedDaemon(
      dataDirectory: directory.appendingPathComponent("daemon"),
      isolation: isolated ? .process(executable: i2xd.path, memoryLimit: 4 << 30, timeout: 3600) : .inProcess)
    defer { daemon.shutdown() }
    var configuration = TrainingConfiguration()
    configuration.dataset = quick ? "synthetic" : "fashion-mnist"
    configuration.architecture = "smallcnn-bn"
    configuration.epochs = epochs
    configuration.checkpointEvery = checkpointEvery
    configuration.probePerClass = quick ? 10 : 100
    configuration.validationSize = quick ? 200 : 5000
    configuration.generatorSize = quick ? 100 : 5000
    configuration.publishEndpoint = daemon.endpoint
    // Every checkpoint reaches the daemon, however far the analysis lags.
    configuration.drainTimeout = 600
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
    var perCheckpoint: [(wall: Double, cpu: Double)] = []
    for step in steps {
      let answer = try ask(QueryHeader(query: "progress", run: "bench", step: step))
      perCheckpoint.append(
        (answer["analysis_seconds"] as? Double ?? 0, (answer["timings"] as? [String: Double])?["cpu"] ?? 0))
      var fields: [String: Any] = [
        "figure": figure, "arch": "smallcnn-bn", "dataset": configuration.dataset,
        "probe_images": configuration.probePerClass * 10,
        "step": step, "checkpoints_analysed": (answer["steps"] as? [Int])?.count ?? 0,
        "seconds": answer["analysis_seconds"] as? Double ?? 0,
      ]
      for (stage, seconds) in answer["timings"] as? [String: Double] ?? [:] { fields["seconds_" + stage] = seconds }
      emit(line(fields))
    }
    var usage = rusage()
    getrusage(RUSAGE_CHILDREN.rawValue, &usage)
    emit(
      line([
        "figure": "analysis_keeps_up", "publish_every_steps": configuration.checkpointEvery, "checkpoints": steps.count,
        "training_seconds": trainingSeconds, "seconds_to_drain_after_training": drained,
        "max_queue_depth": samples.max() ?? 0, "queue_depth_per_second": samples,
        "jobs_in_child_processes": isolated,
        // ru_maxrss of children: the largest resident set of any analysis process (KiB).
        "analysis_process_peak_rss_mb": isolated ? Double(usage.ru_maxrss) / 1024 : 0,
      ]))
    return perCheckpoint
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

extension BenchmarkSuite {
  /// The I2X core's cost per checkpoint, stage by stage, in process and without a daemon:
  /// smallcnn-bn trained for 300 steps on Fashion-MNIST (synthetic data with `--quick`), 1,000
  /// test images as the probe set, observations at steps 100, 150, …, 400. Each stage is timed
  /// over `repeats` rounds (median wall seconds, and the median process CPU seconds, which a
  /// loaded machine inflates less): GradCAM of the probe set, faithfulness (50 images, timed
  /// apart: the issue lets it run at a lower cadence), the vocabulary cold (no previous fit) and
  /// warm (from the previous checkpoint's), and the run analysis of the incremental window.
  func stages(_ emit: (String) -> Void) throws {
    let data = try DatasetCatalog.load(name: quick ? "synthetic" : "fashion-mnist", dataDirectory: nil, seed: 1)
    guard let architecture = Architecture.reference("smallcnn-bn") else { return }
    let network = try architecture.build(seed: 1)
    let optimizer = Optimizer(rule: SGD(learningRate: 0.05, momentum: 0.9), parameters: network.parameters)
    let shape = [data.test.channels, data.test.height, data.test.width]
    let probeCount = min(1000, data.test.count)
    let probe = Array(0..<probeCount)
    let images = Tensor(shape: [probeCount] + shape, scalars: data.test.batchFloats(probe))
    let labels = probe.map { data.test.labels[$0] }
    var generator = SplitMix64(seed: 3)
    var observations: [CheckpointObservation] = []
    var features: [Tensor] = []
    for step in 1...400 {
      let batch = (0..<64).map { _ in Int(generator.next() % UInt64(data.train.count)) }
      let x = Tensor(shape: [64] + shape, scalars: data.train.batchFloats(batch))
      let (logits, _) = network.forward(x, training: true)
      let result = SoftmaxCrossEntropy.evaluate(logits: logits, labels: batch.map { data.train.labels[$0] })
      network.backward(result.gradient, parameterGradients: true, inputGradient: false)
      optimizer.step()
      if step >= 100 && step % 50 == 0 {
        let (observation, feature) = CheckpointObservation.observe(
          network: network, step: step, images: images, labels: labels, faithfulnessSample: 0)
        observations.append(observation)
        features.append(feature)
      }
    }
    let repeats = quick ? 2 : 5
    func measure(_ body: () -> Void) -> (wall: Double, cpu: Double) {
      var walls: [Double] = []
      var cpus: [Double] = []
      for _ in 0..<repeats {
        let (wall, cpu) = (Date(), ProcessClock.cpuSeconds())
        body()
        walls.append(Date().timeIntervalSince(wall))
        cpus.append(ProcessClock.cpuSeconds() - cpu)
      }
      return (walls.sorted()[repeats / 2], cpus.sorted()[repeats / 2])
    }
    let last = observations.count - 1
    let small = shape[1] <= 28
    let (clusters, components) = (small ? 32 : 128, small ? 32 : 64)
    let previous = Vocabulary.fit(
      features: features[last - 1], step: observations[last - 1].step, clusters: clusters,
      maximumComponents: components, previous: nil, seed: 17)
    var vocabulary = previous
    let window = min(RunAnalysis.incrementalWindow + 1, observations.count)
    var analysisStages: [String: Double] = [:]
    let timed: [(String, () -> Void)] = [
      (
        "gradcam",
        {
          _ = CheckpointObservation.observe(
            network: network, step: 400, images: images, labels: labels, faithfulnessSample: 0)
        }
      ),
      (
        "faithfulness",
        {
          _ = CheckpointObservation.faithfulness(
            network: network, images: images, labels: labels, normalized: observations[last].normalized,
            mapShape: [observations[last].height, observations[last].width], sample: 50, seed: 1)
        }
      ),
      (
        "vocabulary_cold",
        {
          _ = Vocabulary.fit(
            features: features[last], step: 400, clusters: clusters, maximumComponents: components, previous: nil,
            seed: 17)
        }
      ),
      (
        "vocabulary_warm",
        {
          vocabulary = Vocabulary.fit(
            features: features[last], step: 400, clusters: clusters, maximumComponents: components,
            previous: previous, seed: 17)
        }
      ),
      (
        "run_analysis_window",
        {
          _ = RunAnalysis.analyze(
            observations: Array(observations.suffix(window)), labels: labels, classNames: data.test.classNames,
            vocabulary: vocabulary, firstInterval: max(0, observations.count - window),
            images: ProbeImages(pixels: images.scalars, shape: [probeCount] + shape),
            timings: { analysisStages[$0] = $1 })
        }
      ),
    ]
    var core = (wall: 0.0, cpu: 0.0)
    for (stage, body) in timed {
      let (wall, cpu) = measure(body)
      if ["gradcam", "vocabulary_warm", "run_analysis_window"].contains(stage) {
        core = (core.wall + wall, core.cpu + cpu)
      }
      var fields: [String: Any] = [
        "figure": "analysis_stage", "stage": stage, "arch": "smallcnn-bn", "probe_images": probeCount,
        "seconds": wall, "cpu_seconds": cpu, "repeats": repeats, "dataset": quick ? "synthetic" : "fashion-mnist",
      ]
      if stage == "run_analysis_window" {
        for (name, seconds) in analysisStages { fields["seconds_" + name] = seconds }
      }
      if stage == "vocabulary_warm" { fields["challenged"] = vocabulary.warmRefits == 0 }
      emit(line(fields))
    }
    emit(
      line([
        "figure": "analysis_core", "arch": "smallcnn-bn", "probe_images": probeCount, "seconds": core.wall,
        "cpu_seconds": core.cpu, "stages": "gradcam + vocabulary_warm + run_analysis_window", "target_seconds": 0.5,
      ]))
  }
}

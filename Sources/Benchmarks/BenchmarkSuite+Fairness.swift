import DaemonCore
import Foundation
import Training
import Wire

extension BenchmarkSuite {
  /// Several runs at once (issue 13, part 4): `I2X_BENCH_TRAINERS` (4) real `i2x-train`
  /// processes train smallcnn on Fashion-MNIST for one epoch (synthetic data with `--quick`)
  /// at the same time, each publishing every 100 steps to one daemon that runs its jobs in
  /// `i2xd` child processes, all on the same cores. `i2x status` is sampled once a second;
  /// the figures: per run, checkpoints published and analysed, the largest lag (checkpoints
  /// waiting) and the seconds from its trainer's end to its last analysis; across runs, the
  /// largest spread of lags at one sample (round-robin keeps it small: one run's backlog never
  /// waits behind another's) and Jain's index of the analyses each run received while all
  /// runs had work waiting (1 = equal shares).
  func fairness(_ emit: (String) -> Void) throws {
    let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    let trainer = binaries.appendingPathComponent("i2x-train")
    let i2xd = binaries.appendingPathComponent("i2xd")
    guard FileManager.default.isExecutableFile(atPath: trainer.path),
      FileManager.default.isExecutableFile(atPath: i2xd.path)
    else {
      throw TrainingError(
        "the fairness benchmark starts i2x-train and i2xd from \(binaries.path); build them first "
          + "(swift build -c release)", exitCode: .unavailable)
    }
    let count = Int(ProcessInfo.processInfo.environment["I2X_BENCH_TRAINERS"] ?? "") ?? 4
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let daemon = try EmbeddedDaemon(
      dataDirectory: directory.appendingPathComponent("daemon"),
      isolation: .process(executable: i2xd.path, memoryLimit: 4 << 30, timeout: 3600))
    defer { daemon.shutdown() }
    let runs = (1...count).map { "fair-\($0)" }
    let started = Date()
    let trainers = try runs.enumerated().map { index, run -> Process in
      let process = Process()
      process.executableURL = trainer
      process.arguments = [
        "train", "--dataset", quick ? "synthetic" : "fashion-mnist", "--arch", "smallcnn", "--epochs", "1",
        "--seed", "\(index + 1)", "--run", run, "--publish", daemon.endpoint, "--publish-every", quick ? "20" : "100",
        "--out", directory.appendingPathComponent(run).path,
      ]
      if quick {
        process.arguments! += ["--validation-size", "200", "--probe-per-class", "10", "--generator-size", "100"]
      }
      let log = directory.appendingPathComponent("\(run).log")
      _ = FileManager.default.createFile(atPath: log.path, contents: nil)
      process.standardOutput = FileHandle.nullDevice
      process.standardError = try FileHandle(forWritingTo: log)
      try process.run()
      return process
    }
    let client = RequestClient(endpoint: daemon.endpoint, timeoutMilliseconds: 10_000, attempts: 1)
    defer { client.close() }
    func ask(_ header: QueryHeader) -> [String: Any] {
      guard let reply = try? client.request(try WireMessage(type: .query, header: header)) else { return [:] }
      return (try? JSONSerialization.jsonObject(with: Data(reply.header)) as? [String: Any]) ?? [:]
    }
    func analysed(_ run: String) -> Int {
      (ask(QueryHeader(query: "progress", run: run))["steps"] as? [Int])?.count ?? 0
    }
    var trainerEnd: [String: Double] = [:]
    var lastAnalysis: [String: Double] = [:]
    var maxLag: [String: Int] = [:]
    var spreads: [Int] = []
    var contendedShares = [Int](repeating: 0, count: count)
    var previous = [Int](repeating: 0, count: count)
    while true {
      Thread.sleep(forTimeInterval: 1)
      let now = Date().timeIntervalSince(started)
      for (index, process) in trainers.enumerated() where !process.isRunning && trainerEnd[runs[index]] == nil {
        trainerEnd[runs[index]] = now
      }
      let status = ask(QueryHeader(query: "status"))
      var waiting: [String: Int] = [:]
      for row in status["lag"] as? [[String: Any]] ?? [] {
        if let run = row["run"] as? String { waiting[run] = row["queued"] as? Int ?? 0 }
      }
      let lags = runs.map { waiting[$0] ?? 0 }
      for (run, lag) in zip(runs, lags) { maxLag[run] = max(maxLag[run] ?? 0, lag) }
      let counts = runs.map(analysed)
      for (index, run) in runs.enumerated() where counts[index] > previous[index] { lastAnalysis[run] = now }
      // Shares while every run had a backlog: who got the analyses of this second.
      if lags.allSatisfy({ $0 > 0 }) {
        spreads.append((lags.max() ?? 0) - (lags.min() ?? 0))
        for index in 0..<count { contendedShares[index] += counts[index] - previous[index] }
      }
      previous = counts
      let idle = (status["queue_depth"] as? Int ?? 1) == 0
      if trainers.allSatisfy({ !$0.isRunning }) && idle { break }
      if now > 1800 { throw TrainingError("the fairness benchmark did not finish in 30 minutes", exitCode: .software) }
    }
    for (index, run) in runs.enumerated() where trainers[index].terminationStatus != 0 {
      let log = (try? String(contentsOf: directory.appendingPathComponent("\(run).log"), encoding: .utf8)) ?? ""
      throw TrainingError(
        "trainer \(run) exited with status \(trainers[index].terminationStatus): "
          + log.split(separator: "\n").suffix(3).joined(separator: " | "), exitCode: .software)
    }
    for (index, run) in runs.enumerated() {
      let published = (ask(QueryHeader(query: "checkpoints", run: run))["checkpoints"] as? [[String: Any]] ?? []).count
      emit(
        line([
          "figure": "fairness_run", "run": run, "trainer_exit_status": Int(trainers[index].terminationStatus),
          "checkpoints": published, "analysed": previous[index], "max_lag_checkpoints": maxLag[run] ?? 0,
          "trainer_seconds": trainerEnd[run] ?? 0,
          "seconds_from_trainer_end_to_last_analysis": max(0, (lastAnalysis[run] ?? 0) - (trainerEnd[run] ?? 0)),
        ]))
    }
    let shares = contendedShares.map(Double.init)
    let total = shares.reduce(0, +)
    let squares = shares.reduce(0) { $0 + $1 * $1 }
    emit(
      line([
        "figure": "fairness", "trainers": count, "arch": "smallcnn", "publish_every_steps": quick ? 20 : 100,
        "seconds": Date().timeIntervalSince(started), "samples_with_every_run_waiting": spreads.count,
        "max_lag_spread_checkpoints": spreads.max() ?? 0,
        "mean_lag_spread_checkpoints": spreads.isEmpty ? 0 : Double(spreads.reduce(0, +)) / Double(spreads.count),
        "analyses_while_all_waiting": contendedShares,
        "jain_index": squares > 0 ? total * total / (Double(count) * squares) : 1,
      ]))
  }
}

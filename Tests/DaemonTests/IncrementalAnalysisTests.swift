import Checkpoints
import DaemonCore
import Foundation
import Prototypes
import Testing
import Wire

/// Flat cost per checkpoint, without giving up I2X's retrospective result: after ten
/// checkpoints, some analyses were incremental, and once the daemon is idle the stored report
/// equals a full analysis of every observation under the final vocabulary.
@Suite struct IncrementalAnalysisTests {
  @Test func idleRefreshEndsWithTheFullRetrospectiveAnalysis() throws {
    let directory = try DaemonFixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let store = try TestStore.open(directory)
    let handler = RequestHandler(store: store, log: { _ in })
    let payload = try DaemonFixtures.probe(count: 40)
    let header = RegisterRunHeader(
      run: "r1", architecture: DaemonFixtures.architecture.json(), classes: (0..<10).map { "c\($0)" },
      sha256: SHA256.hex(payload))
    _ = handler.handle(try WireMessage(type: .registerRun, header: header, payload: payload).frames)
    var settings = AnalysisSettings()
    settings.refreshAfter = 0.5
    let worker = JobWorker(location: try TestStore.location(directory), settings: settings, log: { _ in })
    try worker.start()
    defer { worker.stop() }
    for step in 1...10 {
      _ = handler.handle(
        try DaemonFixtures.checkpoint(step: step, bytes: try DaemonFixtures.checkpointBytes(seed: UInt64(step))).frames)
      worker.notify()
      // In order, one at a time, as a trainer publishing slower than the analysis would.
      let deadline = Date().addingTimeInterval(30)
      while Date() < deadline, (try store.analysis(run: "r1", step: step)) == nil {
        Thread.sleep(forTimeInterval: 0.02)
      }
    }
    let incremental = try store.database.query("SELECT step FROM analyses WHERE run = 'r1' AND incremental = 1")
    #expect(!incremental.isEmpty, "checkpoints 8–10 have more than 7 observations: incremental")
    let settled = Date().addingTimeInterval(30)
    while Date() < settled,
      try store.database.query("SELECT 1 FROM analyses WHERE run = 'r1' AND step = 10 AND incremental = 0").isEmpty
    {
      Thread.sleep(forTimeInterval: 0.05)
    }
    let stored = try #require(try store.analysis(run: "r1", step: nil))
    #expect(stored.step == 10)
    var report = try JSONDecoder().decode(AnalysisReport.self, from: Data(stored.report.utf8))
    #expect(report.incremental != true, "refreshed when idle")
    let vocabulary = try #require(try store.latestVocabulary(run: "r1"))
    let probe = try #require(try store.probe(run: "r1"))
    let full = RunAnalysis.analyze(
      observations: try store.observations(run: "r1"), labels: probe.labels, classNames: probe.classes,
      vocabulary: vocabulary, images: ProbeImages(pixels: probe.images, shape: probe.shape))
    report.incremental = nil
    #expect(report == full)
  }
}

/// A run's full re-analysis waits until it stops publishing: at least the configured quiet
/// time, and three of its last checkpoint intervals.
@Suite struct RefreshQuietTests {
  @Test func refreshWaitsUntilTheRunIsQuiet() throws {
    let directory = try DaemonFixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let store = try TestStore.open(directory)
    let handler = RequestHandler(store: store, log: { _ in })
    let payload = try DaemonFixtures.probe(count: 20)
    let header = RegisterRunHeader(
      run: "r", architecture: DaemonFixtures.architecture.json(), classes: (0..<10).map { "c\($0)" },
      sha256: SHA256.hex(payload))
    _ = handler.handle(try WireMessage(type: .registerRun, header: header, payload: payload).frames)
    for step in 1...2 {
      _ = handler.handle(
        try DaemonFixtures.checkpoint(
          run: "r", step: step, bytes: try DaemonFixtures.checkpointBytes(seed: UInt64(step))
        )
        .frames)
    }
    #expect(try store.database.query("SELECT step FROM checkpoints WHERE run = 'r'").count == 2)
    try store.database.execute("UPDATE jobs SET state = 'done'")
    try store.database.execute(
      """
      INSERT INTO analyses (run, step, report, seconds, timings, created_at, incremental, faithfulness_measured)
      VALUES ('r', 2, '{}', 0, '{}', 0, 1, 1)
      """)
    func received(_ first: Double, _ second: Double) throws {
      let now = Date().timeIntervalSince1970
      try store.database.execute("UPDATE checkpoints SET received_at = ? WHERE step = 1", [.real(now - first)])
      try store.database.execute("UPDATE checkpoints SET received_at = ? WHERE step = 2", [.real(now - second)])
    }
    #expect(try store.settlingRuns().map(\.run) == ["r"])
    try received(3, 1)  // publishing every 2 s, the latest 1 s ago: not quiet
    #expect(try store.enqueueRefreshes(quiet: 0.5) == 0)
    try received(30, 8)  // quiet for 8 s, but its last interval was 22 s: wait 66 s (capped at 60)
    #expect(try store.enqueueRefreshes(quiet: 0.5) == 0)
    try received(10, 8)  // quiet for 8 s after a 2 s interval (6 s needed): refresh
    #expect(try store.enqueueRefreshes(quiet: 0.5) == 1)
    #expect(try store.settlingRuns().isEmpty, "a refresh is queued")
    #expect(try store.enqueueRefreshes(quiet: 0.5) == 0)
  }
}

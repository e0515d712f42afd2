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
    let store = try DaemonStore(directory: directory)
    let handler = RequestHandler(store: store, log: { _ in })
    let payload = try DaemonFixtures.probe(count: 40)
    let header = RegisterRunHeader(
      run: "r1", architecture: DaemonFixtures.architecture.json(), classes: (0..<10).map { "c\($0)" },
      sha256: SHA256.hex(payload))
    _ = handler.handle(try WireMessage(type: .registerRun, header: header, payload: payload).frames)
    let worker = JobWorker(directory: directory, log: { _ in })
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

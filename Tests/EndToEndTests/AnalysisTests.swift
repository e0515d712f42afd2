import Foundation
import Glibc
import Testing

/// The whole loop on loopback: trainer publishes, daemon analyses every checkpoint in order,
/// the client reads the structured explanation.
@Suite(.serialized) struct AnalysisTests {
  @Test func everyCheckpointIsAnalysedAndQueryable() throws {
    let daemon = try DaemonUnderTest(extraArguments: ["--faithfulness-sample", "4"])
    try daemon.start()
    let out = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: out) }
    // 2400 synthetic images − 200 − 50 − 100 = 2050 for training, batch 50: 41 steps an epoch;
    // 2 epochs, the initial weights (step 0), a checkpoint every 20 steps: 20, 40, 60, 80 and
    // the final 82.
    let trained = try runProduct(
      "i2x-train",
      [
        "train", "--dataset", "synthetic", "--arch", "smallcnn-bn", "--epochs", "2", "--batch", "50",
        "--validation-size", "200",
        "--probe-per-class", "5", "--generator-size", "100", "--run", "explained", "--publish", daemon.endpoint,
        "--publish-every", "20", "--out", out.path,
      ])
    #expect(trained.status == 0, "\(trained.output)")
    let deadline = Date().addingTimeInterval(240)
    // Analyses done, and the run's refresh once it went quiet (it measures the latest
    // checkpoint's faithfulness).
    while Date() < deadline {
      let status = try daemon.query("status")
      if status["queue_depth"] as? Int == 0 && status["refreshes_pending"] as? Int == 0 { break }
      Thread.sleep(forTimeInterval: 0.2)
    }
    let checkpoints = try daemon.query("checkpoints", run: "explained")["checkpoints"] as? [[String: Any]] ?? []
    #expect(checkpoints.count == 6)
    #expect(checkpoints.allSatisfy { $0["job"] as? String == "done" }, "\(checkpoints.map { $0["job_error"] ?? "" })")

    let progress = try runProduct("i2x", ["progress", "explained", "--endpoint", daemon.endpoint, "--json"])
    #expect(progress.status == 0, "\(progress.output)")
    let report = try #require(try JSONSerialization.jsonObject(with: Data(progress.output.utf8)) as? [String: Any])
    #expect(report["steps"] as? [Int] == [0, 20, 40, 60, 80, 82])
    #expect((report["classes"] as? [[String: Any]])?.count == 10)
    #expect((report["intervals"] as? [[String: Any]])?.count == 5, "the first from step 0")
    // Faithfulness at every 5th checkpoint (the first, step 0) and, once the run is quiet, the
    // latest.
    #expect((report["faithfulness"] as? [[String: Any]])?.compactMap { $0["step"] as? Int } == [0, 82])
    let prototypes = try #require(
      try JSONSerialization.jsonObject(
        with: Data(runProduct("i2x", ["prototypes", "explained", "--endpoint", daemon.endpoint, "--json"]).output.utf8))
        as? [String: Any])
    #expect((prototypes["vocabulary"] as? [String: Any])?["size"] as? Int == 32)
    let pairs = try runProduct("i2x", ["pairs", "explained", "--endpoint", daemon.endpoint])
    #expect(pairs.status == 0 && pairs.output.contains("learning order"))
    let uncertain = try runProduct("i2x", ["uncertain", "explained", "--endpoint", daemon.endpoint, "--json"])
    #expect(uncertain.status == 0)
    #expect(
      (try JSONSerialization.jsonObject(with: Data(uncertain.output.utf8)) as? [String: Any])?["uncertain"] is [Any])
    // PNG galleries: one per prototype with examples, plus the GradCAM overlays.
    let pngs = out.appendingPathComponent("png")
    let gallery = try runProduct("i2x", ["prototypes", "explained", "--endpoint", daemon.endpoint, "--png", pngs.path])
    #expect(gallery.status == 0, "\(gallery.output)")
    let files = try FileManager.default.contentsOfDirectory(atPath: pngs.path)
    #expect(files.contains("gradcam.png") && files.filter { $0.hasPrefix("prototype-") }.count >= 10)
    let header = try Data(contentsOf: pngs.appendingPathComponent("gradcam.png")).prefix(8)
    #expect(Array(header) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    // An older checkpoint's analysis is still there.
    let older = try runProduct(
      "i2x", ["progress", "explained", "--checkpoint", "40", "--endpoint", daemon.endpoint, "--json"])
    #expect(
      (try JSONSerialization.jsonObject(with: Data(older.output.utf8)) as? [String: Any])?["steps"] as? [Int] == [
        0, 20, 40,
      ])
    // Unknown run and not-yet-analysed checkpoint are clear errors.
    #expect(try runProduct("i2x", ["pairs", "ghost", "--endpoint", daemon.endpoint]).status == 66)
    let missing = try runProduct(
      "i2x", ["progress", "explained", "--checkpoint", "999", "--endpoint", daemon.endpoint])
    #expect(missing.status == 69 && missing.output.contains("no analysis for step 999"))
    daemon.kill(SIGTERM)
  }
}

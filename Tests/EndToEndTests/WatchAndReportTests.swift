import Foundation
import Glibc
import Testing

/// `i2x watch` and `i2x report` against a live run of the real binaries: the watch is started
/// before the run exists, follows its checkpoints, analyses and a manual fine-tune until Ctrl-C;
/// then the report of the run is written (no script in it) and opened in headless Chromium.
@Suite(.serialized) struct WatchAndReportTests {
  @Test func watchFollowsALiveRunAndTheReportRendersInChromium() throws {
    let out = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: out) }
    // A tiny generative prior on the run's own generator split (ExplainerEndToEndTests' recipe).
    let splits = ["--validation-size", "200", "--probe-per-class", "10", "--generator-size", "100"]
    let generator = out.appendingPathComponent("generator.safetensors")
    let made = try runProduct(
      "i2x-train",
      [
        "generator", "--dataset", "synthetic", "--vae-epochs", "1", "--denoiser-steps", "20", "--width", "4",
        "--hidden", "16", "--out", generator.path,
      ] + splits)
    try #require(made.status == 0, "\(made.output)")
    let daemon = try DaemonUnderTest(extraArguments: [
      "--faithfulness-sample", "2", "--generator", generator.path, "--explain", "manual", "--explain-samples", "4",
    ])
    try daemon.start()
    let run = "watched"
    let watch = try RunningProcess(
      "i2x", ["watch", run, "--json", "--interval", "0.2", "--endpoint", daemon.endpoint],
      log: out.appendingPathComponent("watch.log"))
    defer { if watch.isRunning { watch.kill(SIGKILL) } }
    Thread.sleep(forTimeInterval: 1)
    #expect(watch.isRunning, "the watch must wait for a run that has not registered: \(watch.output)")
    #expect(watch.output.contains("has not registered yet"))

    // The FineTuneTests recipe: 40 steps, a checkpoint every 10, a manual directive's segment.
    let trainer = try RunningProcess(
      "i2x-train",
      [
        "train", "--dataset", "synthetic", "--arch", "smallcnn-bn", "--epochs", "1", "--batch", "50", "--run", run,
        "--publish", daemon.endpoint, "--publish-every", "10", "--finetune", "manual", "--await-directives", "60",
        "--drain-timeout", "5", "--out", out.appendingPathComponent("run").path,
      ] + splits, log: out.appendingPathComponent("trainer.log"))
    defer { if trainer.isRunning { trainer.kill(SIGKILL) } }
    var prototypes: [[String: Any]] = []
    let analysed = Date().addingTimeInterval(60)
    while Date() < analysed, prototypes.isEmpty {
      prototypes = (try? daemon.query("prototypes", run: run, timeout: 3000))?["prototypes"] as? [[String: Any]] ?? []
      if prototypes.isEmpty { Thread.sleep(forTimeInterval: 0.3) }
    }
    try #require(!prototypes.isEmpty, "no analysis: \(trainer.output)")
    let prototype = try #require(
      prototypes.max {
        (($0["presence"] as? [Double]) ?? [0, 0]).prefix(2).reduce(0, +)
          < (($1["presence"] as? [Double]) ?? [0, 0]).prefix(2).reduce(0, +)
      }?["id"] as? Int)
    let finetune = try runProduct(
      "i2x", ["finetune", run, "--pair", "0,1", "--prototype", "\(prototype)", "--endpoint", daemon.endpoint])
    #expect(finetune.status == 0, "\(finetune.output)")
    var state = ""
    let finished = Date().addingTimeInterval(120)
    while Date() < finished, state != "done", state != "failed" {
      Thread.sleep(forTimeInterval: 0.3)
      state =
        ((try? daemon.query("directives", run: run, timeout: 3000))?["directives"] as? [[String: Any]])?.first?["state"]
        as? String ?? ""
    }
    #expect(state == "done", "\(trainer.output)")
    trainer.kill(SIGKILL)
    let explained = try runProduct(
      "i2x", ["explain", run, "--class", "0", "--wait", "300", "--endpoint", daemon.endpoint])
    #expect(explained.status == 0, "\(explained.output)")
    // Let the segment's analyses finish, then stop the watch as a user would.
    let drained = Date().addingTimeInterval(120)
    while Date() < drained, (try? daemon.query("status", timeout: 3000))?["queue_depth"] as? Int != 0 {
      Thread.sleep(forTimeInterval: 0.3)
    }
    Thread.sleep(forTimeInterval: 1)
    watch.kill(SIGINT)
    #expect(watch.process.terminationStatus == 0, "Ctrl-C ends the watch with exit 0: \(watch.output)")

    let events = watch.output.split(separator: "\n").filter { $0.hasPrefix("{") }.compactMap {
      (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
    }
    let ids = events.compactMap { $0["id"] as? Int }
    #expect(ids == ids.sorted() && Set(ids).count == ids.count, "events in cursor order, none twice")
    let stored = try daemon.storedCheckpoints(run: run)
    let checkpointSteps = events.filter { $0["kind"] as? String == "checkpoint" }.compactMap { $0["step"] as? Int }
    #expect(checkpointSteps.sorted() == stored.keys.sorted(), "one checkpoint event per stored checkpoint")
    let jobs = try daemon.query("checkpoints", run: run, timeout: 3000)["checkpoints"] as? [[String: Any]] ?? []
    let analysedSteps = Set(jobs.filter { $0["job"] as? String == "done" }.compactMap { $0["step"] as? Int })
    let analysisEvents = events.filter {
      $0["kind"] as? String == "analysis" && ($0["detail"] as? [String: Any])?["state"] as? String == "done"
    }
    #expect(Set(analysisEvents.compactMap { $0["step"] as? Int }) == analysedSteps)
    let directiveStates = events.filter { $0["kind"] as? String == "directive" }.compactMap {
      ($0["detail"] as? [String: Any])?["state"] as? String
    }
    #expect(directiveStates.first == "pending" && directiveStates.last == "done", "\(directiveStates)")
    let order = ["pending", "delivered", "received", "running", "done"]
    #expect(directiveStates == directiveStates.sorted { order.firstIndex(of: $0)! < order.firstIndex(of: $1)! })
    #expect(Set(events.compactMap { $0["run"] as? String }) == [run])
    let explanationStates = events.filter { $0["kind"] as? String == "explanation" }.compactMap {
      $0["detail"] as? [String: Any]
    }
    #expect(explanationStates.map { $0["state"] as? String ?? "" } == ["queued", "running", "done"])
    #expect(explanationStates.last?["activation"] is Double && explanationStates.last?["class"] as? Int == 0)
    // Every flag of the latest analysis was announced when it first appeared.
    let flags = try daemon.query("uncertain", run: run, timeout: 3000)["uncertain"] as? [[String: Any]] ?? []
    let announced = Set(
      events.filter { $0["kind"] as? String == "flag" }.map { event -> String in
        let detail = event["detail"] as? [String: Any] ?? [:]
        return "\(detail["prototype"] as? Int ?? -1)@\(detail["pair"] as? [Int] ?? [])"
      })
    for flag in flags {
      #expect(announced.contains("\(flag["prototype"] as? Int ?? -2)@\(flag["pair"] as? [Int] ?? [])"))
    }

    // Attention profiles of every analysed checkpoint under the latest vocabulary: one row per
    // class of one value per prototype, each a mean intensity in 0…1.
    let profiles = try daemon.query("profiles", run: run, timeout: 10000)
    let prototypeIDs = profiles["prototype_ids"] as? [Int] ?? []
    let profileSteps = profiles["steps"] as? [Int] ?? []
    let values = profiles["profiles"] as? [[[Double]]] ?? []
    #expect(Set(profileSteps) == analysedSteps && values.count == profileSteps.count && !prototypeIDs.isEmpty)
    #expect(
      values.allSatisfy {
        $0.count == 10 && $0.allSatisfy { $0.count == prototypeIDs.count && $0.allSatisfy { (0...1).contains($0) } }
      })
    // Not a terminal: one line per event; --count stops it.
    let lines = try runProduct("i2x", ["watch", run, "--count", "3", "--endpoint", daemon.endpoint])
    #expect(lines.status == 0, "\(lines.output)")
    let printed = lines.output.split(separator: "\n")
    #expect(printed.count == 3 && printed[0].contains("checkpoint stored"), "\(lines.output)")

    // The report of this run, rendered by Chromium.
    let html = out.appendingPathComponent("report.html")
    let report = try runProduct("i2x", ["report", run, "-o", html.path, "--endpoint", daemon.endpoint])
    #expect(report.status == 0, "\(report.output)")
    let missing = try runProduct(
      "i2x", ["report", run, "-o", html.path, "--checkpoint", "999999", "--endpoint", daemon.endpoint])
    #expect(missing.status == 66 && missing.output.contains("no checkpoint at step 999999"), "\(missing.output)")
    let usage = try runProduct("i2x", ["report", run, "--endpoint", daemon.endpoint])
    #expect(usage.status == 64 && usage.output.contains("--out"), "\(usage.output)")
    let text = try String(contentsOf: html, encoding: .utf8)
    #expect(text.contains("fine-tune #"), "the done fine-tune is in the report")
    #expect(text.contains("recomputed from each checkpoint's cached GradCAM maps"), "attention under one vocabulary")
    #expect(
      text.contains("<h3 id=\"explanation-") && text.contains("alt=\"guided samples of"), "the explanation's samples")
    #expect(!text.contains("<script") && text.range(of: #" on[a-z]+=""#, options: .regularExpression) == nil)
    #expect(text.contains("findings are not available from this daemon") || text.contains("<ol class=\"findings\">"))
    guard let chromium = HeadlessChromium.binary else {
      Issue.record(
        Comment(
          rawValue: "CHROMIUM IS MISSING: the report cannot be rendered. Install Debian's 'chromium' package "
            + "(scripts/install-prerequisites.sh does) or set I2X_CHROMIUM"))
      return
    }
    let shot = out.appendingPathComponent("report.png")
    let (status, _) = try HeadlessChromium.run(
      chromium, ["--window-size=1200,2400", "--screenshot=\(shot.path)"], file: html, home: out)
    #expect(status == 0)
    let png = try DecodedPNG([UInt8](try Data(contentsOf: shot)))
    #expect(png.width == 1200 && png.height == 2400)
    let (ink, colours) = png.inkAndColours
    #expect(ink > 0.05 && colours > 200, "a blank or flat screenshot: \(ink) ink, \(colours) colours")
    let (domStatus, dom) = try HeadlessChromium.run(chromium, ["--dump-dom"], file: html, home: out)
    #expect(domStatus == 0)
    for heading in [
      "Findings", "Run summary and learning curves", "Intra-class attention over checkpoints",
      "Confused pairs and the learning order", "Uncertain prototypes and fine-tunes", "Faithfulness of GradCAM",
      "Data-free explainer",
    ] {
      #expect(dom.contains("<h2>\(heading)</h2>"), "heading '\(heading)' missing from the rendered DOM")
    }
    #expect(dom.contains("<h2>Prototypes per class: galleries, GradCAM, footprints</h2>"))
    #expect(dom.components(separatedBy: "<svg").count > 5 && dom.components(separatedBy: "<img").count > 5)
    daemon.kill(SIGTERM)
  }
}

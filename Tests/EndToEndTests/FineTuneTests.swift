import Checkpoints
import Foundation
import Glibc
import Testing
import Wire

/// DESIGN §7 with the real binaries: a manual directive made with a raw `command` message
/// reaches a trainer waiting with --await-directives, which runs the segment, publishes its
/// checkpoints and reports `done` with the segment's steps.
@Suite(.serialized) struct FineTuneTests {
  @Test func manualDirectiveRunsASegmentAndIsReportedDone() throws {
    let daemon = try DaemonUnderTest(extraArguments: ["--faithfulness-sample", "2"])
    try daemon.start()
    let out = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: out) }
    // 2400 synthetic images − 200 − 100 − 100 = 2000 for training, batch 50: 40 steps; a
    // checkpoint every 10 → 10, 20, 30, 40. The segment (⌈|D \ R| / 50⌉ + 40 steps) runs
    // mid-training or during --await-directives, whichever the directive meets. smallcnn-bn,
    // because plain smallcnn is still at chance after 40 steps on synthetic data (R would be
    // empty).
    let trainer = try RunningProcess(
      "i2x-train",
      [
        "train", "--dataset", "synthetic", "--arch", "smallcnn-bn", "--epochs", "1", "--batch", "50",
        "--validation-size", "200", "--probe-per-class", "10", "--generator-size", "100", "--run", "tuned",
        "--publish", daemon.endpoint, "--publish-every", "10", "--finetune", "manual", "--await-directives", "60",
        "--drain-timeout", "5", "--out", out.path,
      ], log: out.appendingPathComponent("trainer.log"))
    defer { if trainer.isRunning { trainer.kill(SIGKILL) } }

    // Wait for an analysis, then pick the prototype most present in classes 0 and 1.
    var prototypes: [[String: Any]] = []
    let analysed = Date().addingTimeInterval(40)
    while Date() < analysed, prototypes.isEmpty {
      prototypes =
        (try? daemon.query("prototypes", run: "tuned", timeout: 3000))?["prototypes"] as? [[String: Any]] ?? []
      if prototypes.isEmpty { Thread.sleep(forTimeInterval: 0.3) }
    }
    try #require(!prototypes.isEmpty, "no analysis: \(trainer.output)")
    func presence(_ row: [String: Any]) -> Double {
      let values = row["presence"] as? [Double] ?? []
      return values.count > 1 ? values[0] + values[1] : 0
    }
    let prototype = try #require(prototypes.max { presence($0) < presence($1) }?["id"] as? Int)

    let client = RequestClient(endpoint: daemon.endpoint, timeoutMilliseconds: 3000, attempts: 1)
    let reply = try client.request(
      try WireMessage(
        type: .command,
        header: CommandHeader(command: "finetune", run: "tuned", pair: ["0", "1"], prototypes: [prototype])))
    client.close()
    #expect(reply.type == .reply, "\(String(decoding: reply.header, as: UTF8.self))")

    var directive: [String: Any] = [:]
    let finished = Date().addingTimeInterval(60)
    while Date() < finished, directive["state"] as? String != "done", directive["state"] as? String != "failed" {
      Thread.sleep(forTimeInterval: 0.3)
      directive =
        (try? daemon.query("directives", run: "tuned", timeout: 3000))
        .flatMap { ($0["directives"] as? [[String: Any]])?.first } ?? [:]
    }
    #expect(directive["state"] as? String == "done", "\(directive)\n\(trainer.output)")
    let metrics = directive["metrics"] as? [String: Any] ?? [:]
    let first = metrics["first_step"] as? Int ?? 0
    let last = metrics["last_step"] as? Int ?? 0
    #expect(first > 1 && last > first, "\(metrics)")
    #expect(metrics["removed"] is Int || metrics["removed"] is Double)
    #expect(metrics["steps"] as? Int == last - first + 1)
    // The status follows the segment's checkpoints in the outbox, so they are stored by now.
    let stored = try daemon.storedCheckpoints(run: "tuned")
    #expect(stored.keys.contains(last) && stored.keys.filter { $0 >= first }.count >= 4, "\(stored.keys.sorted())")
    let journal = try String(
      contentsOf: out.appendingPathComponent("directives").appendingPathComponent(
        try #require(
          FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("directives").path).first)),
      encoding: .utf8)
    #expect(journal.contains("\"state\":\"done\""))
    let tagged = try SafetensorsFile(contentsOf: out.appendingPathComponent("step-\(last).safetensors"))
    #expect(tagged.metadata["i2x.segment"] == "finetune:\(directive["id"] as? Int ?? -1)")
    // The trainer would wait out --await-directives; nothing is left to check there.
    trainer.kill(SIGKILL)
    daemon.kill(SIGTERM)
  }

  /// The whole loop with nothing inserted by hand: the real analysis flags an uncertain
  /// prototype, the `auto` policy makes a directive, the trainer fine-tunes (at most once),
  /// the segment's checkpoints are analysed, and the outcome is queryable. Synthetic data,
  /// smallcnn-bn, a checkpoint every 10 steps over 2 epochs (about 80 steps): on this recipe
  /// flags appear from the fifth checkpoint on (measured). The trainer waits up to 240 s for
  /// the flag's directive (the debug daemon analyses slowly) and stops waiting once it has done
  /// its one fine-tune (--max-finetunes 1).
  @Test func anAutoFlagBecomesAFineTuneWithAQueryableOutcome() throws {
    let daemon = try DaemonUnderTest(extraArguments: ["--faithfulness-sample", "2"])
    try daemon.start()
    let out = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: out) }
    let trainer = try RunningProcess(
      "i2x-train",
      [
        "train", "--dataset", "synthetic", "--arch", "smallcnn-bn", "--epochs", "2", "--batch", "50",
        "--validation-size", "200", "--probe-per-class", "20", "--generator-size", "100", "--run", "auto",
        "--publish", daemon.endpoint, "--publish-every", "10", "--finetune", "auto", "--max-finetunes", "1",
        "--await-directives", "240", "--drain-timeout", "10", "--out", out.path,
      ], log: out.appendingPathComponent("trainer.log"))
    defer { if trainer.isRunning { trainer.kill(SIGKILL) } }
    trainer.process.waitUntilExit()
    #expect(trainer.process.terminationStatus == 0, "\(trainer.output)")

    // Let the daemon analyse everything, then read the first directive and its outcome.
    var directive: [String: Any] = [:]
    let settled = Date().addingTimeInterval(180)
    while Date() < settled {
      let status = try daemon.query("status", run: nil, timeout: 3000)
      directive =
        (try? daemon.query("directives", run: "auto", timeout: 3000))
        .flatMap { ($0["directives"] as? [[String: Any]])?.first } ?? [:]
      if status["queue_depth"] as? Int == 0, directive["outcome"] != nil { break }
      Thread.sleep(forTimeInterval: 0.5)
    }
    #expect(directive["source"] as? String == "auto", "\(directive)\n\(trainer.output)")
    #expect(directive["state"] as? String == "done", "\(directive)")
    let outcome = directive["outcome"] as? [String: Any] ?? [:]
    #expect(outcome["analysed"] as? Bool == true, "\(outcome)")
    #expect(outcome["pair_confusions_before"] is Int && outcome["pair_confusions_after"] is Int)
    let metrics = directive["metrics"] as? [String: Any] ?? [:]
    let last = metrics["last_step"] as? Int ?? 0
    #expect((outcome["after_step"] as? Int ?? 0) >= last && last > 0, "\(outcome) \(metrics)")
    // The flag that raised it is in the analysis the directive was made from.
    let flagged = try daemon.query("uncertain", run: "auto", step: directive["step"] as? Int, timeout: 3000)
    let pairs = (flagged["uncertain"] as? [[String: Any]] ?? []).map { ($0["pair"] as? [Int] ?? []).sorted() }
    #expect(pairs.contains(directive["pair"] as? [Int] ?? []), "\(pairs) \(directive)")
    // Later directives were refused (the trainer's limit, or training had ended), never executed.
    let all = (try daemon.query("directives", run: "auto", timeout: 3000))["directives"] as? [[String: Any]] ?? []
    #expect(all.filter { $0["state"] as? String == "done" }.count == 1)
    for later in all.dropFirst() where later["state"] as? String == "failed" {
      let reason = later["reason"] as? String ?? ""
      #expect(reason.contains("--max-finetunes") || reason.contains("training had ended"), "\(reason)")
    }
    // The controlled experiment takes the directive from the daemon (--from-daemon) and runs
    // all four arms from an early checkpoint (one seed: this checks the plumbing, not the
    // statistics).
    let experiment = try runProduct(
      "i2x-train",
      [
        "experiment", "finetune", "--dataset", "synthetic", "--arch", "smallcnn-bn", "--start",
        out.appendingPathComponent("step-10.safetensors").path, "--from-daemon", "auto", "--endpoint", daemon.endpoint,
        "--seeds", "1", "--batch", "50", "--out", out.appendingPathComponent("experiment").path, "--json",
      ])
    #expect(experiment.status == 0, "\(experiment.output)")
    let report =
      try JSONSerialization.jsonObject(
        with: Data(contentsOf: out.appendingPathComponent("experiment/experiment.json"))) as? [String: Any] ?? [:]
    #expect(
      Set((report["arms"] as? [[String: Any]] ?? []).compactMap { $0["arm"] as? String })
        == ["i2x", "c1_equal_compute", "c2_random_removal", "c3_highest_loss"])
    // Without --pair it takes the newest directive.
    let newest = (try daemon.query("directives", run: "auto", timeout: 3000))["directives"] as? [[String: Any]] ?? []
    #expect((report["directive"] as? [String: Any])?["id"] as? Int == newest.compactMap { $0["id"] as? Int }.max())
    daemon.kill(SIGTERM)
  }
}

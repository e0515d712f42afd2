import Foundation
import Glibc
import Testing

/// Degenerate training runs from the real trainer into a real daemon: diverging, constant,
/// a single checkpoint, shuffled labels. Every checkpoint is acked (or, when its weights are
/// not finite, refused with the reason), every analysis job ends `done` or `failed` with a
/// reason, queries answer, and a restarted daemon does not crash-loop.
@Suite(.serialized) struct ReliabilityDegenerateRunTests {
  /// 2,400 synthetic images − 100 validation − 100 probe − 100 generator = 2,100 for
  /// training; batch 100: 21 steps.
  static func arguments(run: String, out: URL, endpoint: String, extra: [String]) -> [String] {
    [
      "train", "--dataset", "synthetic", "--arch", "smallcnn", "--epochs", "1", "--batch", "100",
      "--validation-size", "100", "--probe-per-class", "10", "--generator-size", "100", "--run", run,
      "--publish", endpoint, "--drain-timeout", "120", "--out", out.path,
    ] + extra
  }

  /// The degenerate recipes. `--lr 0` is refused by `i2x-train` (the minimum is 1e-12), so the
  /// constant run uses 1e-12: the weights change by less than a float's rounding.
  static let recipes: [(run: String, extra: [String])] = [
    ("diverging", ["--lr", "1e6", "--publish-every", "1"]),
    ("constant", ["--lr", "1e-12", "--publish-every", "7"]),
    ("single", ["--publish-every", "1000"]),
    ("shuffled", ["--shuffle-labels", "--publish-every", "7"]),
  ]

  @Test func degenerateRunsNeverWedgeTheDaemon() throws {
    let daemon = try DaemonUnderTest(extraArguments: ["--faithfulness-sample", "10"])
    try daemon.start()
    let work = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: work) }
    for recipe in Self.recipes {
      let out = work.appendingPathComponent(recipe.run)
      let trained = try runProduct(
        "i2x-train", Self.arguments(run: recipe.run, out: out, endpoint: daemon.endpoint, extra: recipe.extra))
      // A diverging run stops with exit 65 when the loss stops being finite.
      #expect(
        trained.status == 0 || (recipe.run == "diverging" && trained.status == 65),
        "\(recipe.run): \(trained.output.suffix(1000))")
      if trained.status != 0 {
        // Send what the run left in its outbox before it stopped.
        let drained = try runProduct(
          "i2x-train", ["drain", "--out", out.path, "--endpoint", daemon.endpoint, "--timeout", "60"])
        #expect(drained.status == 0, "\(recipe.run) drain: \(drained.output.suffix(500))")
      }
      let written = try writtenCheckpoints(in: out)
      let stored = try daemon.storedCheckpoints(run: recipe.run)
      let rejected = try refusals(in: out)
      #expect(!written.isEmpty, "\(recipe.run) wrote no checkpoint")
      #expect(stored.count + rejected.count == written.count, "\(recipe.run): each checkpoint acked or refused")
      #expect(stored.allSatisfy { written[$0.key] == $0.value }, "\(recipe.run): stored with the file's sha256")
      #expect(rejected.allSatisfy { $0.contains("non-finite") }, "\(recipe.run): refused only for non-finite weights")
      print(
        "[reliability] degenerate \(recipe.run): trainer exit \(trained.status), \(written.count) written, "
          + "\(stored.count) stored, \(rejected.count) refused \(rejected.first.map { String($0.prefix(160)) } ?? "")")

      #expect(daemon.waitForJobsToSettle(seconds: 180), "\(recipe.run): jobs settle")
      let jobs = try daemon.jobs(run: recipe.run)
      for (step, job) in jobs.sorted(by: { $0.key < $1.key }) {
        #expect(
          job.state == "done" || (job.state == "failed" && job.error?.isEmpty == false), "\(recipe.run) \(step): \(job)"
        )
      }
      let failed = jobs.values.filter { $0.state == "failed" }
      print(
        "[reliability] degenerate \(recipe.run): jobs done \(jobs.count - failed.count), failed \(failed.count)"
          + (failed.first?.error.map { ": \($0.prefix(160))" } ?? ""))
      for query in ["prototypes", "progress", "pairs", "uncertain"] {
        let answer = try runProduct("i2x", [query, recipe.run, "--endpoint", daemon.endpoint, "--json"])
        // 0: an answer; 65: the analysis failed, with the reason.
        #expect(
          answer.status == 0 || (answer.status == 65 && !answer.output.isEmpty),
          "\(recipe.run) \(query): exit \(answer.status): \(answer.output.suffix(300))")
        if answer.status != 0 {
          print("[reliability] degenerate \(recipe.run) \(query): exit \(answer.status): \(answer.output.prefix(200))")
        }
      }
      daemon.expectHealthy("degenerate \(recipe.run)")
    }
    // Restarted over the same data: it settles and stays up (no crash loop).
    daemon.stopCleanly("degenerate runs")
    try daemon.start()
    #expect(daemon.waitForJobsToSettle(seconds: 120))
    Thread.sleep(forTimeInterval: 2)
    daemon.expectHealthy("degenerate runs, restarted")
    daemon.stopCleanly("degenerate runs, restarted")
  }

  /// The reasons of outbox entries the daemon refused (`DIR/outbox/rejected/`).
  func refusals(in out: URL) throws -> [String] {
    let directory = out.appendingPathComponent("outbox/rejected")
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return [] }
    return try names.filter { $0.hasSuffix(".reason") }.sorted().map {
      try String(contentsOf: directory.appendingPathComponent($0), encoding: .utf8)
    }
  }
}

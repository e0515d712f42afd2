import Foundation
import Testing

/// `i2x-train experiment` end to end on synthetic data: the real binary, real files.
@Suite(.serialized) struct ExperimentCommandTests {
  /// A small synthetic run (700 training images, 11 steps per epoch) and a directive built from
  /// its final checkpoint by `experiment directive` (Vocabulary.fit on the probe images'
  /// target-layer features, the two most co-occurring prototypes of classes 0 and 1).
  static func prepare(_ directory: URL) throws -> (start: String, directive: String) {
    let run = directory.appendingPathComponent("run")
    let train = try ToolProcess.run([
      "train", "--dataset", "synthetic", "--arch", "smallcnn", "--epochs", "1", "--validation-size", "100",
      "--generator-size", "1500", "--probe-per-class", "10", "--out", run.path,
    ])
    #expect(train.status == 0, "\(train.stderr)")
    let start = run.appendingPathComponent("final.safetensors").path
    let directive = directory.appendingPathComponent("directive.json").path
    let built = try ToolProcess.run([
      "experiment", "directive", "--dataset", "synthetic", "--arch", "smallcnn", "--start", start, "--pair", "0,1",
      "--out", directive,
    ])
    #expect(built.status == 0, "\(built.stderr)")
    #expect(built.stdout.contains("flagged"))
    return (start, directive)
  }

  static func finetune(_ start: String, _ directive: String, out: URL, seeds: Int, extra: [String] = []) throws
    -> ToolProcess.Result
  {
    try ToolProcess.run(
      [
        "experiment", "finetune", "--dataset", "synthetic", "--arch", "smallcnn", "--start", start, "--directive",
        directive, "--seeds", "\(seeds)", "--out", out.path, "--json",
      ] + extra)
  }

  @Test func runsAllFourArmsWritesJSONAndResumes() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let (start, directive) = try Self.prepare(directory)
    let out = directory.appendingPathComponent("experiment")

    // One seed first; then pretend its i2x result was different: a resumed run must reuse
    // the file (not recompute it) and add seed 2.
    let first = try Self.finetune(start, directive, out: out, seeds: 1)
    #expect(first.status == 0, "\(first.stderr)")
    let i2xFile = out.appendingPathComponent("results/i2x-1.json")
    var recorded = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: i2xFile)) as? [String: Any])
    #expect(recorded["arm"] as? String == "i2x")
    recorded["accuracy"] = 0.123456
    try JSONSerialization.data(withJSONObject: recorded).write(to: i2xFile)

    let second = try Self.finetune(start, directive, out: out, seeds: 2)
    #expect(second.status == 0, "\(second.stderr)")
    #expect(second.stderr.contains("i2x seed 1: reusing"))
    #expect(second.stderr.contains("ETA"))
    #expect(!second.stderr.contains("i2x seed 1: accuracy"), "seed 1 of i2x must not be recomputed")
    let json = try #require(try JSONSerialization.jsonObject(with: Data(second.stdout.utf8)) as? [String: Any])
    let written = try JSONSerialization.jsonObject(
      with: Data(contentsOf: out.appendingPathComponent("experiment.json")))
    #expect((written as? [String: Any])?["seeds"] as? Int == 2)
    #expect(json["schema_version"] as? Int == 2)
    #expect(json["optimizer_state"] as? String == "fresh optimiser per arm")
    let arms = try #require(json["arms"] as? [[String: Any]])
    #expect(arms.map { $0["arm"] as? String } == ["i2x", "c1_equal_compute", "c2_random_removal", "c3_highest_loss"])
    for arm in arms {
      let accuracy = try #require(arm["accuracy"] as? [String: Any])
      #expect((accuracy["values"] as? [Double])?.count == 2)
      #expect(accuracy["std"] is Double)
      #expect(arm["pair_nll"] is [String: Any] && arm["pair_confusions"] is [String: Any])
      if arm["arm"] as? String == "c1_equal_compute" {
        #expect(arm["vs_c1"] == nil)
      } else {
        let versus = try #require(arm["vs_c1"] as? [String: Any])
        let difference = try #require(versus["accuracy"] as? [String: Any])
        let lower = try #require(difference["ci_lower"] as? Double)
        let upper = try #require(difference["ci_upper"] as? Double)
        #expect(lower <= upper)
      }
    }
    let results = try #require(json["results"] as? [[String: Any]])
    #expect(results.count == 8)
    let steps = Set(results.compactMap { $0["steps"] as? Int })
    #expect(steps.count == 1 && steps == [json["steps"] as? Int], "every arm takes the same number of steps")
    let reused = results.first { $0["arm"] as? String == "i2x" && $0["seed"] as? Int == 1 }
    #expect(reused?["accuracy"] as? Double == 0.123456)
    let removed = try #require(json["removed"] as? Int)
    for result in results where result["arm"] as? String != "c1_equal_compute" {
      #expect(result["removed"] as? Int == removed)
    }

    // Other settings in the same --out: refused, nothing overwritten.
    let changed = try Self.finetune(start, directive, out: out, seeds: 2, extra: ["--lr", "0.01"])
    #expect(changed.status == 64)
    #expect(changed.stderr.contains("other settings (lr differ)"))
  }

  @Test func badInputsGetTheirExitCodes() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let (start, directive) = try Self.prepare(directory)
    let out = directory.appendingPathComponent("never")
    let missing = try Self.finetune(start, directory.appendingPathComponent("absent.json").path, out: out, seeds: 1)
    #expect(missing.status == 66, "\(missing.stderr)")
    let malformed = directory.appendingPathComponent("malformed.json")
    try Data(#"{"format":"i2x.directive/9"}"#.utf8).write(to: malformed)
    let bad = try Self.finetune(start, malformed.path, out: out, seeds: 1)
    #expect(bad.status == 65, "\(bad.stderr)")
    let noStart = try Self.finetune(
      directory.appendingPathComponent("none.safetensors").path, directive, out: out, seeds: 1)
    #expect(noStart.status == 66)
    let both = try Self.finetune(start, directive, out: out, seeds: 1, extra: ["--from-daemon", "r"])
    #expect(both.status == 64 && both.stderr.contains("exactly one of"))
    let wrongArch = try ToolProcess.run([
      "experiment", "finetune", "--dataset", "synthetic", "--arch", "smallcnn-bn", "--start", start, "--directive",
      directive, "--seeds", "1", "--out", out.path,
    ])
    #expect(wrongArch.status == 64)

    let daemon = [
      "experiment", "finetune", "--dataset", "synthetic", "--arch", "smallcnn", "--start", start, "--from-daemon",
      "r", "--seeds", "1", "--out", out.path,
    ]
    let unreachable = try ToolProcess.run(daemon + ["--endpoint", "tcp://127.0.0.1:9", "--timeout", "100"])
    #expect(unreachable.status == 69, "\(unreachable.stderr)")
    #expect(try ToolProcess.run(daemon + ["--endpoint", "tcp://127.0.0.1:99999"]).status == 64)
    let partialCurve = try ToolProcess.run(
      daemon, environment: ["I2X_CURVE_SERVER_KEY": String(repeating: "a", count: 40)])
    #expect(partialCurve.status == 64)
  }

  @Test func helpForTheExperimentCommands() throws {
    let tool = try ToolProcess.run(["experiment", "--help"])
    #expect(tool.status == 0 && tool.stdout.contains("finetune") && tool.stdout.contains("directive"))
    let help = try ToolProcess.run(["experiment", "finetune", "--help"])
    #expect(help.status == 0)
    #expect(help.stdout.contains("USAGE: i2x-train experiment finetune"))
    #expect(help.stdout.contains("--from-daemon"))
    #expect(try ToolProcess.run(["experiment", "finetune", "--seeds", "2"]).status == 64)
    #expect(try ToolProcess.run(["experiment", "fly"]).status == 64)
  }
}

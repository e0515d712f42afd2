import Checkpoints
import Foundation
import Testing

/// `i2x-train` end to end on synthetic data: the real binary, real files.
@Suite struct TrainCommandTests {
  static let smallRun = [
    "--dataset", "synthetic", "--arch", "smallcnn-bn", "--epochs", "2", "--batch", "32", "--lr", "0.05",
    "--validation-size", "200", "--probe-per-class", "10", "--generator-size", "100", "--checkpoint-every", "25",
    "--run", "synthetic-test",
  ]

  @Test func trainsLearnsWritesCheckpointsAndEvaluates() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let result = try ToolProcess.run(["train"] + Self.smallRun + ["--out", directory.path])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stderr.contains("img/s"))
    #expect(result.stderr.contains("ETA"))
    #expect(result.stderr.contains("epoch 2/2: validation accuracy"))
    // 2400 synthetic images − 200 validation − 100 probe − 100 generator = 2000 → 63 steps/epoch.
    let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    #expect(files.contains("step-25.safetensors") && files.contains("step-100.safetensors"))
    #expect(files.contains("step-126.safetensors") && files.contains("final.safetensors"))
    #expect(files.contains("splits.json"))
    let final = try SafetensorsFile(contentsOf: directory.appendingPathComponent("final.safetensors"))
    #expect(final.metadata["i2x.step"] == "126")
    #expect(final.metadata["i2x.run"] == "synthetic-test")
    #expect(final.metadata["i2x.architecture"]?.contains("smallcnn-bn") == true)

    let eval = try ToolProcess.run([
      "eval", "--checkpoint", directory.appendingPathComponent("final.safetensors").path, "--dataset", "synthetic",
      "--json",
    ])
    #expect(eval.status == 0, "\(eval.stderr)")
    let json = try #require(try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
    #expect(json["schema_version"] as? Int == 2)
    let accuracy = try #require(json["accuracy"] as? Double)
    // Chance is 0.1; measured 0.896–0.93 depending on OpenBLAS's kernels (float rounding).
    #expect(accuracy > 0.85, "synthetic blobs are easy; got \(accuracy)")
    let confusion = try #require(json["confusion"] as? [[Int]])
    #expect(confusion.count == 10 && confusion.joined().reduce(0, +) == 500)
  }

  @Test func sameSeedGivesIdenticalCheckpoints() throws {
    let a = try makeTemporaryDirectory()
    let b = try makeTemporaryDirectory()
    defer {
      try? FileManager.default.removeItem(at: a)
      try? FileManager.default.removeItem(at: b)
    }
    let arguments = [
      "train", "--dataset", "synthetic", "--arch", "smallcnn", "--epochs", "1", "--batch", "64",
      "--validation-size", "100", "--generator-size", "1500", "--probe-per-class", "10", "--seed", "5",
    ]
    #expect(try ToolProcess.run(arguments + ["--out", a.path]).status == 0)
    #expect(try ToolProcess.run(arguments + ["--out", b.path]).status == 0)
    let first = try Data(contentsOf: a.appendingPathComponent("final.safetensors"))
    let second = try Data(contentsOf: b.appendingPathComponent("final.safetensors"))
    #expect(first == second)
  }

  @Test func usageErrorsExit64WithAHint() throws {
    let bad = try ToolProcess.run(["train", "--epochs", "zero", "--out", "/tmp/never"])
    #expect(bad.status == 64)
    #expect(bad.stderr.contains("error: '--epochs' expects an integer"))
    #expect(bad.stderr.contains("hint: see 'i2x-train train --help'"))
    #expect(bad.stdout.isEmpty)
    #expect(try ToolProcess.run(["train"]).status == 64)
    #expect(try ToolProcess.run(["train", "--arch", "resnet50", "--out", "/tmp/never"]).status == 64)
    #expect(try ToolProcess.run(["fly"]).status == 64)
  }

  @Test(arguments: ["train", "eval", "gradcam", "sample"])
  func everySubcommandHasHelp(subcommand: String) throws {
    let help = try ToolProcess.run([subcommand, "--help"])
    #expect(help.status == 0)
    #expect(help.stdout.contains("USAGE: i2x-train \(subcommand)"))
    #expect(help.stdout.contains("OPTIONS:"))
  }

  @Test func missingDatasetDirectoryExplainsWhatToDo() throws {
    let result = try ToolProcess.run(["eval", "--checkpoint", "/nonexistent.safetensors"])
    #expect(result.status == 66)
    let data = try ToolProcess.run(["train", "--data-dir", "/nonexistent", "--out", "/tmp/never-i2x"])
    #expect(data.status == 66)
    #expect(data.stderr.contains("dataset-fashion-mnist"))
  }
}

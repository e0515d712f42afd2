import Checkpoints
import Foundation
import Glibc
import Testing
import Wire

/// DESIGN §8 with the real binaries: a generator trained by i2x-train on the synthetic
/// dataset's generator split, a daemon started with it (under strace), a trainer publishing a
/// run on the same data, and `i2x explain` asking for a class. The explanation arrives with its
/// scores, sanity check and PNGs, and the explain job's process opens no probe, dataset or
/// training file — watched from outside the process.
@Suite(.serialized) struct ExplainerEndToEndTests {
  static let splitArguments = ["--validation-size", "200", "--probe-per-class", "2", "--generator-size", "200"]

  @Test func anExplanationIsServedAndItsJobReadsNoData() throws {
    let directory = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let generator = directory.appendingPathComponent("generator.safetensors")
    let made = try runProduct(
      "i2x-train",
      [
        "generator", "--dataset", "synthetic", "--vae-epochs", "1", "--denoiser-steps", "20", "--width", "4",
        "--hidden", "16", "--out", generator.path,
      ] + Self.splitArguments)
    try #require(made.status == 0, "\(made.output)")

    // i2xd under strace -f: every process it starts (the job children) is traced too.
    let data = directory.appendingPathComponent("data")
    let trace = directory.appendingPathComponent("trace.txt")
    let endpoint = "tcp://127.0.0.1:\(freePort())"
    let daemon = Process()
    daemon.executableURL = URL(fileURLWithPath: "/usr/bin/strace")
    daemon.arguments = [
      "-f", "-qq", "-e", "trace=execve,open,openat,openat2", "-s", "512", "-o", trace.path,
      productsDirectory.appendingPathComponent("i2xd").path, "--data-dir", data.path, "--endpoint", endpoint,
      "--generator", generator.path, "--explain", "manual", "--explain-samples", "4", "--faithfulness-sample", "2",
    ]
    let daemonLog = directory.appendingPathComponent("i2xd.log")
    _ = FileManager.default.createFile(atPath: daemonLog.path, contents: nil)
    let handle = try FileHandle(forWritingTo: daemonLog)
    daemon.standardOutput = handle
    daemon.standardError = handle
    try daemon.run()
    /// Stops i2xd (the traced process, whose pid starts the trace); strace exits with it.
    func stopDaemon() {
      guard daemon.isRunning else { return }
      let first = (try? String(contentsOf: trace, encoding: .utf8))?.split(separator: "\n").first
      if let pid = first.flatMap({ Int32($0.prefix { $0 != " " }) }) { kill(pid, SIGTERM) }
      daemon.waitUntilExit()
    }
    defer { stopDaemon() }

    let run = directory.appendingPathComponent("run")
    let trained = try runProduct(
      "i2x-train",
      [
        "train", "--dataset", "synthetic", "--arch", "smallcnn", "--epochs", "1", "--batch", "50", "--run", "ex",
        "--publish", endpoint, "--drain-timeout", "30", "--out", run.path,
      ] + Self.splitArguments)
    try #require(trained.status == 0, "\(trained.output)")

    let png = directory.appendingPathComponent("png")
    let explained = try runProduct(
      "i2x",
      ["explain", "ex", "--class", "class-1", "--json", "--png", png.path, "--endpoint", endpoint, "--wait", "300"],
      environment: [:])
    try #require(
      explained.status == 0, "\(explained.output)\n\((try? String(contentsOf: daemonLog, encoding: .utf8)) ?? "")")
    let json = try #require(explained.output.split(separator: "\n").last { $0.hasPrefix("{") })
    let row = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    #expect(row["state"] as? String == "done")
    #expect(row["class"] as? Int == 1 && row["class_name"] as? String == "class-1")
    #expect(
      (row["warnings"] as? [String])?.isEmpty == true, "same split: no warning expected, got \(row["warnings"] ?? "")")
    let explanation = try #require(row["explanation"] as? [String: Any])
    #expect((explanation["activation"] as? [String: Any])?["trials"] as? Int == 4)
    #expect((explanation["prior_activation"] as? [String: Any])?["trials"] as? Int == 4)
    #expect(((explanation["sanity"] as? [String: Any])?["stages"] as? [Any])?.count == 2)
    #expect(explanation["schema"] as? String == "i2x.explanation/1")
    for name in ["guided", "prior", "randomized"] {
      let bytes = try Data(contentsOf: png.appendingPathComponent("explanation-\(row["id"] as? Int ?? 0)-\(name).png"))
      #expect(Array(bytes.prefix(8)) == [137, 80, 78, 71, 13, 10, 26, 10], "\(name).png is a PNG")
    }

    // The templated text cites the measured scores and says what is absent.
    let text = try runProduct(
      "i2x", ["explain", "ex", "--class", "class-1", "--text", "--endpoint", endpoint], environment: [:])
    #expect(text.status == 0, "\(text.output)")
    #expect(text.output.contains("Guided by the classifier alone") && text.output.contains("% ["), "\(text.output)")
    #expect(text.output.contains("No concept search for class-1 yet"), "\(text.output)")

    // A counterfactual of a probe image towards class-0 (a probe whose label is not 0).
    let client = RequestClient(endpoint: endpoint, timeoutMilliseconds: 5000, attempts: 1)
    let probeReply = try client.request(try WireMessage(type: .query, header: QueryHeader(query: "probe", run: "ex")))
    client.close()
    let labels = try SafetensorsFile(bytes: try #require(probeReply.payload)).tensor("labels").int64s()
    let probeIndex = try #require(labels.firstIndex { $0 != 0 })
    let counterfactual = try runProduct(
      "i2x",
      [
        "counterfactual", "ex", "--probe", "\(probeIndex)", "--to", "class-0", "--json", "--png", png.path,
        "--endpoint", endpoint,
      ],
      environment: [:])
    try #require(counterfactual.status == 0, "\(counterfactual.output)")
    let cfJSON = try #require(counterfactual.output.split(separator: "\n").last { $0.hasPrefix("{") })
    let cfRow = try #require(try JSONSerialization.jsonObject(with: Data(cfJSON.utf8)) as? [String: Any])
    #expect(
      cfRow["kind"] as? String == "counterfactual" && cfRow["probe"] as? Int == probeIndex
        && cfRow["target"] as? Int == 0)
    let outcome = try #require((cfRow["explanation"] as? [String: Any])?["outcome"] as? [String: Any])
    #expect(outcome["valid"] is Bool && outcome["pgd_linf"] is Double && outcome["l2"] is Double, "\(outcome)")

    // The explain job's process: the child whose execve names `--job <its job id>`.
    stopDaemon()
    let job = try #require(row["job"] as? Int)
    let lines = try String(contentsOf: trace, encoding: .utf8).split(separator: "\n")
    func pid(_ line: Substring) -> Substring { line.prefix { $0 != " " } }
    let explainPIDs = Set(
      lines.filter { $0.contains("execve(") && $0.contains("\"run-job\"") && $0.contains("\"--job\", \"\(job)\"") }
        .map(pid))
    try #require(explainPIDs.count == 1, "the explain job's process was not found in the trace")
    let opened = lines.filter { explainPIDs.contains(pid($0)) && $0.contains("open") }
    let probe = try Self.probeSHA(endpoint: endpoint, data: data)
    #expect(opened.contains { $0.contains(generator.path) }, "the trace must show the generator being read")
    #expect(!opened.contains { $0.contains(probe) }, "the explain job opened the probe set")
    #expect(!opened.contains { $0.contains(run.path) }, "the explain job opened the trainer's files")
    #expect(!opened.contains { $0.contains("/datasets/") }, "the explain job opened a dataset")
    // The same trace shows the analysis jobs reading the probe set, so the check can fail.
    #expect(lines.contains { !explainPIDs.contains(pid($0)) && $0.contains("open") && $0.contains(probe) })
  }

  /// The probe set's blob name: the SHA-256 of the probe file the trainer registered, found as
  /// the only blob the daemon's runs table points to.
  static func probeSHA(endpoint: String, data: URL) throws -> String {
    let blobs = data.appendingPathComponent("blobs")
    var names: [String] = []
    for prefix in try FileManager.default.contentsOfDirectory(atPath: blobs.path) {
      names += try FileManager.default.contentsOfDirectory(atPath: blobs.appendingPathComponent(prefix).path)
    }
    // The probe file is the one blob that parses as a safetensors file with `images` and
    // `labels` and no architecture metadata.
    for name in names {
      let url = blobs.appendingPathComponent(String(name.prefix(2))).appendingPathComponent(name)
      if let file = try? SafetensorsFile(contentsOf: url), file.tensors["labels"] != nil,
        file.metadata["i2x.architecture"] == nil
      {
        return name
      }
    }
    throw E2EError("no probe blob in \(blobs.path) (\(names.count) blobs)")
  }
}

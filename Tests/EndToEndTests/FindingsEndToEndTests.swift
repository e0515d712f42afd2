import Foundation
import Glibc
import Testing

/// Issue 10's test on constructed data, through the real binaries: a synthetic set whose
/// classes 3 and 4 look the same (the same blob) except that every class-3 image of the
/// training source carries a planted 4×4 white mark at rows 1–4, columns 23–26; a clean twin
/// (no mark: 3 and 4 cannot be told apart) and a shuffled-label twin of the marked data.
/// The marked run must name a fixed-position cue of class 3 at the mark, with a mask that
/// lowers class-3 accuracy and a paste that flips other probes to class 3, each beyond its
/// control; the twins must not; the cue's prototype has a lineage. Class names come from the
/// data directory's classes.txt and travel with the run.
@Suite(.serialized) struct FindingsEndToEndTests {
  static let names = ["ring", "spot", "drop", "marked", "plain", "dot", "blob", "bead", "pip", "knot"]

  /// The planted cue of a twin, on every class-3 image of the training source.
  enum Cue {
    /// 255 at rows 1–4, columns 23–26.
    case mark
    /// A 1-pixel frame of 255 around the image (a 2-pixel one was not learned as a frame in
    /// these 3 epochs: its prototypes sat on the blob, and no border cue was named until the
    /// 5th epoch's end).
    case border
    /// A 2×2-pixel checkerboard of amplitude 96 added to every background pixel (noise, < 40).
    case texture
  }

  /// 28×28 images: class c's Gaussian blob (σ 2 px, peak 215) at angle 2πc/10 on a circle of
  /// radius 8.4 px around the centre, jittered ±2 px, on noise 0…39; class 3 uses class 4's
  /// position; class-3 images carry `cue`.
  static func images(count: Int, seed: UInt64, cue: Cue?) -> (pixels: [UInt8], labels: [UInt8]) {
    var state = seed
    func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    var pixels = [UInt8](repeating: 0, count: count * 784)
    var labels = [UInt8](repeating: 0, count: count)
    for i in 0..<count {
      let label = Int(next() % 10)
      labels[i] = UInt8(label)
      let position = label == 3 ? 4 : label
      let angle = 2 * Double.pi * Double(position) / 10
      let cy = 14 + 8.4 * sin(angle) + Double(Int(next() % 5) - 2)
      let cx = 14 + 8.4 * cos(angle) + Double(Int(next() % 5) - 2)
      for y in 0..<28 {
        for x in 0..<28 {
          let d2 = (Double(y) - cy) * (Double(y) - cy) + (Double(x) - cx) * (Double(x) - cx)
          let value = 215 * exp(-d2 / 8) + Double(next() % 40)
          pixels[i * 784 + y * 28 + x] = UInt8(min(255, value))
        }
      }
      guard label == 3, let cue else { continue }
      for y in 0..<28 {
        for x in 0..<28 {
          let p = i * 784 + y * 28 + x
          switch cue {
          case .mark: if (1...4).contains(y) && (23...26).contains(x) { pixels[p] = 255 }
          case .border: if min(y, x, 27 - y, 27 - x) == 0 { pixels[p] = 255 }
          case .texture: if pixels[p] < 40 && (y / 2 + x / 2) % 2 == 0 { pixels[p] += 96 }
          }
        }
      }
    }
    return (pixels, labels)
  }

  /// Writes the four IDX files (uncompressed) and classes.txt.
  static func writeDataset(_ directory: URL, cue: Cue?) throws {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    func bigEndian(_ values: [Int]) -> [UInt8] {
      values.flatMap { v in [24, 16, 8, 0].map { UInt8((v >> $0) & 0xFF) } }
    }
    for (stem, count, seed) in [("train", 2400, UInt64(7)), ("t10k", 500, UInt64(8))] {
      // The test set stays clean, as the issue's spurious-cue setting has it.
      let (pixels, labels) = images(count: count, seed: seed, cue: stem == "train" ? cue : nil)
      try Data(bigEndian([0x803, count, 28, 28]) + pixels).write(
        to: directory.appendingPathComponent("\(stem)-images-idx3-ubyte"))
      try Data(bigEndian([0x801, count]) + labels).write(
        to: directory.appendingPathComponent("\(stem)-labels-idx1-ubyte"))
    }
    try (names.joined(separator: "\n") + "\n").write(
      to: directory.appendingPathComponent("classes.txt"), atomically: true, encoding: .utf8)
  }

  static func train(_ run: String, data: URL, shuffled: Bool, daemon: DaemonUnderTest, out: URL) throws {
    // 2400 − 200 validation − 200 probe − 100 generator = 1900 for training, batch 50: 38
    // steps an epoch; 3 epochs, a checkpoint every 19 steps: 19, 38, …, 114 (6 checkpoints).
    let trained = try runProduct(
      "i2x-train",
      [
        "train", "--dataset", "mnist", "--data-dir", data.path, "--arch", "smallcnn-bn", "--epochs", "3", "--batch",
        "50", "--validation-size", "200", "--probe-per-class", "20", "--generator-size", "100", "--run", run,
        "--publish", daemon.endpoint, "--publish-every", "19", "--out", out.appendingPathComponent(run).path,
      ] + (shuffled ? ["--shuffle-labels"] : []))
    #expect(trained.status == 0, "\(trained.output)")
  }

  static func json(_ arguments: [String]) throws -> [String: Any] {
    let result = try runProduct("i2x", arguments)
    #expect(result.status == 0, "\(arguments): \(result.output)")
    return (try? JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]) ?? [:]
  }

  /// Waits until the daemon is idle three polls in a row: analyses, refreshes and
  /// interventions done.
  static func waitUntilIdle(_ daemon: DaemonUnderTest) throws {
    var quiet = 0
    let deadline = Date().addingTimeInterval(300)
    while Date() < deadline && quiet < 3 {
      let status = try daemon.query("status")
      let idle = status["queue_depth"] as? Int == 0 && status["refreshes_pending"] as? Int == 0
      quiet = idle ? quiet + 1 : 0
      Thread.sleep(forTimeInterval: 0.3)
    }
  }

  @Test func plantedCueIsNamedAndTwinsStayQuiet() throws {
    let daemon = try DaemonUnderTest(extraArguments: ["--faithfulness-sample", "2"])
    try daemon.start()
    defer { daemon.kill(SIGTERM) }
    let out = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: out) }
    let marked = out.appendingPathComponent("marked")
    let clean = out.appendingPathComponent("clean")
    try Self.writeDataset(marked, cue: .mark)
    try Self.writeDataset(clean, cue: nil)
    try Self.train("cue", data: marked, shuffled: false, daemon: daemon, out: out)
    try Self.train("clean", data: clean, shuffled: false, daemon: daemon, out: out)
    try Self.train("shuffled", data: marked, shuffled: true, daemon: daemon, out: out)
    try Self.waitUntilIdle(daemon)
    let endpoint = ["--endpoint", daemon.endpoint, "--json"]

    let findings = try Self.json(["findings", "cue"] + endpoint)
    #expect(findings["class_names"] as? [String] == Self.names, "classes.txt travels with the run")
    let all = findings["findings"] as? [[String: Any]] ?? []
    let cue = try #require(
      all.first { $0["kind"] as? String == "fixed-position-cue" }, "findings: \(all.map { $0["statement"] ?? "" })")
    #expect(cue["classes"] as? [Int] == [3] && cue["class_names"] as? [String] == ["marked"])
    let numbers = cue["numbers"] as? [String: Double] ?? [:]
    // Masking the mark lowers class-3 accuracy below the control; pasting it flips others.
    #expect(
      (numbers["mask_accuracy_masked_upper"] ?? 1) < (numbers["mask_accuracy_control_lower"] ?? 0)
        || (numbers["paste_flip_rate_lower"] ?? 0) > (numbers["paste_control_flip_rate_upper"] ?? 1),
      "\(numbers)")
    #expect((numbers["mask_accuracy_masked"] ?? 1) < (numbers["mask_accuracy_before"] ?? 0), "\(numbers)")
    #expect((numbers["paste_flip_rate"] ?? 0) > (numbers["paste_control_flip_rate"] ?? 1), "\(numbers)")
    // Where: the prototype's pixel box holds the mark (rows 1–4, columns 23–26).
    let id = try #require(cue["prototype"] as? Int)
    let prototypes = try Self.json(["prototypes", "cue", "--id", "\(id)"] + endpoint)
    let traits = ((prototypes["prototypes"] as? [[String: Any]])?.first?["traits"] as? [String: Any]) ?? [:]
    let box = try #require(traits["pixel_box"] as? [Int])
    #expect(box[0] <= 4 && box[2] >= 1 && box[1] <= 26 && box[3] >= 23, "pixel box \(box) misses the mark")
    #expect(box[2] - box[0] <= 12 && box[3] - box[1] <= 12, "pixel box \(box) is not small")
    // Lineage: the ids the prototype had back to where it first appeared, at analysed steps.
    let history = try Self.json(["prototypes", "cue", "--id", "\(id)", "--history"] + endpoint)["history"]
    let rows = try #require(history as? [[String: Any]])
    let steps = (try Self.json(["progress", "cue"] + endpoint)["steps"] as? [Int]) ?? []
    #expect(!rows.isEmpty && rows.allSatisfy { steps.contains($0["step"] as? Int ?? -1) }, "\(rows)")
    #expect(rows.first?["id"] as? Int == id)

    for twin in ["clean", "shuffled"] {
      let quietFindings = try Self.json(["findings", twin] + endpoint)["findings"] as? [[String: Any]] ?? []
      #expect(
        !quietFindings.contains { $0["kind"] as? String == "fixed-position-cue" },
        "\(twin): \(quietFindings.map { $0["statement"] ?? "" })")
    }
    // The human table and the on-demand intervention.
    let table = try runProduct("i2x", ["findings", "cue", "--endpoint", daemon.endpoint])
    #expect(table.status == 0 && table.output.contains("fixed-position-cue"))
    let intervene = try runProduct(
      "i2x", ["intervene", "cue", "--prototype", "\(id)", "--class", "marked", "--endpoint", daemon.endpoint])
    #expect(intervene.status == 0 && intervene.output.contains("mask"), "\(intervene.output)")
  }
}

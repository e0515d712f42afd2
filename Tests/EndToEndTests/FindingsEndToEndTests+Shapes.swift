import Foundation
import Glibc
import Testing

/// The border and background cues through the real binaries, on the same constructed data as
/// the mark: class 3 told apart from class 4 only by a 1-pixel white frame (`border`) or a
/// checkerboard on its background (`texture`), and the clean twin.
extension FindingsEndToEndTests {
  @Test func borderAndTextureCuesAreNamedWithTheirPlace() throws {
    let daemon = try DaemonUnderTest(extraArguments: ["--faithfulness-sample", "2"])
    try daemon.start()
    defer { daemon.kill(SIGTERM) }
    let out = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: out) }
    for (run, cue) in [("border", Cue.border), ("texture", Cue.texture), ("clean", nil)] {
      let data = out.appendingPathComponent("data-\(run)")
      try Self.writeDataset(data, cue: cue)
      try Self.train(run, data: data, shuffled: false, daemon: daemon, out: out)
    }
    try Self.waitUntilIdle(daemon)
    let endpoint = ["--endpoint", daemon.endpoint, "--json"]

    for (run, kind, place) in [
      ("border", "border-cue", "on the image border"), ("texture", "background-cue", "on the background around"),
    ] {
      let all = try Self.json(["findings", run] + endpoint)["findings"] as? [[String: Any]] ?? []
      let cue = try #require(
        all.first { $0["kind"] as? String == kind }, "\(run): \(all.map { $0["statement"] ?? "" })")
      #expect(cue["classes"] as? [Int] == [3] && cue["class_names"] as? [String] == ["marked"], "\(run)")
      #expect((cue["statement"] as? String ?? "").contains(place), "\(run): \(cue["statement"] ?? "")")
      let numbers = cue["numbers"] as? [String: Double] ?? [:]
      // Pasting the region flips other classes' probes to class 3 beyond its control's interval.
      #expect(
        (numbers["paste_flip_rate_lower"] ?? 0) > (numbers["paste_control_flip_rate_upper"] ?? 1), "\(run): \(numbers)")
      let id = try #require(cue["prototype"] as? Int)
      let prototypes = try Self.json(["prototypes", run, "--id", "\(id)"] + endpoint)
      let traits = ((prototypes["prototypes"] as? [[String: Any]])?.first?["traits"] as? [String: Any]) ?? [:]
      let box = try #require(traits["pixel_box"] as? [Int], "\(run): \(traits)")
      if run == "border" {
        // Where: the frame's hot cells reach the image's edge.
        #expect(box[0] <= 1 || box[1] <= 1 || box[2] >= 26 || box[3] >= 26, "border pixel box \(box)")
        #expect((traits["edge_share"] as? Double ?? 0) >= 0.5, "\(traits)")
      } else {
        // Where: mostly on dark pixels, brighter than the other probes' background.
        #expect((traits["dark_share"] as? Double ?? 0) >= 0.5 && (traits["dark_lift"] as? Double ?? 0) > 0, "\(traits)")
      }
    }
    let quiet = try Self.json(["findings", "clean"] + endpoint)["findings"] as? [[String: Any]] ?? []
    #expect(
      !quiet.contains { ["fixed-position-cue", "border-cue", "background-cue"].contains($0["kind"] as? String ?? "") },
      "clean: \(quiet.map { $0["statement"] ?? "" })")
  }
}

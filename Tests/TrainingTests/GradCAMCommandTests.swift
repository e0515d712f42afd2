import Checkpoints
import Foundation
import Testing

/// `i2x-train gradcam` on the PyTorch fixture (no i2x metadata → `--arch`): the file
/// written by the command holds PyTorch's maps.
@Suite struct GradCAMCommandTests {
  let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/fixtures/smallcnn-fmnist")

  @Test func writesRawUpsampledMapsAndLogitsMatchingPyTorch() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let output = directory.appendingPathComponent("cam.safetensors")
    let result = try ToolProcess.run([
      "gradcam", "--checkpoint", fixtures.appendingPathComponent("model.safetensors").path, "--arch", "smallcnn",
      "--images", fixtures.appendingPathComponent("reference.safetensors").path, "--target", "predicted",
      "--out", output.path,
    ])
    #expect(result.status == 0, "\(result.stderr)")
    let file = try SafetensorsFile(contentsOf: output)
    let reference = try SafetensorsFile(contentsOf: fixtures.appendingPathComponent("reference.safetensors"))
    #expect(try file.tensor("cam").shape == [32, 7, 7])
    #expect(try file.tensor("cam_upsampled").shape == [32, 28, 28])
    #expect(try file.tensor("logits").shape == [32, 10])
    for (mine, theirs) in [
      ("cam", "cam_predicted"), ("cam_upsampled", "cam_predicted_upsampled"), ("logits", "logits"),
    ] {
      let a = try file.tensor(mine).floats()
      let b = try reference.tensor(theirs).floats()
      let scale = b.map(abs).max() ?? 1
      let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
      #expect(worst / scale < 1e-5, "\(mine)")
    }
    #expect(try file.tensor("classes").int64s() == reference.tensor("predicted").int64s())
  }

  @Test func labelTargetAndBadInputs() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let model = fixtures.appendingPathComponent("model.safetensors").path
    let output = directory.appendingPathComponent("cam.safetensors").path
    let images = directory.appendingPathComponent("images.safetensors")
    try SafetensorsFile(tensors: [
      "images": TensorRecord(floats: [Float](repeating: 0.5, count: 784), shape: [1, 1, 28, 28])
    ])
    .write(to: images)
    // --target label needs labels.
    let noLabels = try ToolProcess.run([
      "gradcam", "--checkpoint", model, "--arch", "smallcnn", "--images", images.path, "--target", "label", "--out",
      output,
    ])
    #expect(noLabels.status == 65)
    #expect(noLabels.stderr.contains("labels"))
    // A fixed class works.
    #expect(
      try ToolProcess.run([
        "gradcam", "--checkpoint", model, "--arch", "smallcnn", "--images", images.path, "--target", "3", "--out",
        output,
      ]).status == 0)
    // Wrong image shape.
    try SafetensorsFile(tensors: [
      "images": TensorRecord(floats: [Float](repeating: 0, count: 64), shape: [1, 1, 8, 8])
    ]).write(to: images)
    let shape = try ToolProcess.run([
      "gradcam", "--checkpoint", model, "--arch", "smallcnn", "--images", images.path, "--out", output,
    ])
    #expect(shape.status == 65)
    #expect(shape.stderr.contains("[1, 1, 8, 8]"))
    // A malformed file.
    try Data([1, 2, 3]).write(to: images)
    #expect(
      try ToolProcess.run([
        "gradcam", "--checkpoint", model, "--arch", "smallcnn", "--images", images.path, "--out", output,
      ]).status == 65)
    // No metadata and no --arch.
    let noArch = try ToolProcess.run(["gradcam", "--checkpoint", model, "--images", images.path, "--out", output])
    #expect(noArch.status == 64)
    #expect(noArch.stderr.contains("--arch"))
  }
}

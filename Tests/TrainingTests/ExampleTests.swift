import Checkpoints
import Foundation
import Testing

/// The examples stay runnable: `examples/quickstart.sh` against the built binaries.
@Test func quickstartExampleRuns() throws {
  let directory = try makeTemporaryDirectory()
  defer { try? FileManager.default.removeItem(at: directory) }
  let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("examples/quickstart.sh")
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/bin/bash")
  process.arguments = [script.path, ToolProcess.productsDirectory.path, directory.path]
  process.standardError = FileHandle.nullDevice
  process.standardOutput = FileHandle.nullDevice
  try process.run()
  process.waitUntilExit()
  #expect(process.terminationStatus == 0)
  let cam = try SafetensorsFile(contentsOf: directory.appendingPathComponent("cam.safetensors"))
  #expect(try cam.tensor("cam_upsampled").shape == [4, 28, 28])
  let eval = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("eval.json")))
  #expect((eval as? [String: Any])?["accuracy"] is Double)
}

import Checkpoints
import Engine
import Foundation
import Models

/// A PyTorch reference fixture: `model.safetensors` (a state dict without i2x metadata) and
/// `reference.safetensors` (inputs and PyTorch's outputs; see ../shared/fixtures/*/README.md).
struct Fixture {
  /// The shared fixture `../shared/fixtures/smallcnn-fmnist`.
  static let shared = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("shared/fixtures/smallcnn-fmnist")
  /// Our own fixtures, made by scripts/make-fixtures.py: `Fixtures/<architecture>`.
  static func local(_ architecture: String) -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(architecture)")
  }

  let model: SafetensorsFile
  let reference: SafetensorsFile
  let architecture: String

  init(directory: URL = Fixture.shared, architecture: String = "smallcnn") throws {
    model = try SafetensorsFile(contentsOf: directory.appendingPathComponent("model.safetensors"))
    reference = try SafetensorsFile(contentsOf: directory.appendingPathComponent("reference.safetensors"))
    self.architecture = architecture
  }

  /// The fixture model, loaded as a built-in architecture (the file has no i2x metadata).
  func network() throws -> Network {
    try ModelCheckpoint(file: model, architectureName: architecture).network
  }

  func tensor(_ name: String) throws -> Tensor {
    let record = try reference.tensor(name)
    return Tensor(shape: record.shape, scalars: try record.floats())
  }

  func labels(_ name: String = "labels") throws -> [Int] {
    try reference.tensor(name).int64s().map { Int($0) }
  }
}

/// Largest |a − b| relative to the largest |b| (so near-zero entries do not dominate).
func relativeError(_ a: Tensor, _ b: Tensor) -> Double {
  precondition(a.shape == b.shape, "compare \(a.shape) with \(b.shape)")
  var worst = 0.0
  var scale = 1e-12
  for i in 0..<a.count {
    worst = max(worst, Double(abs(a.scalars[i] - b.scalars[i])))
    scale = max(scale, Double(abs(b.scalars[i])))
  }
  return worst / scale
}

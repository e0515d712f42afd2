import Checkpoints
import Engine
import Foundation
import Models

/// The PyTorch reference fixture in `../shared/fixtures/smallcnn-fmnist` (see its README).
struct Fixture {
  static let directory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("shared/fixtures/smallcnn-fmnist")

  let model: SafetensorsFile
  let reference: SafetensorsFile

  init() throws {
    model = try SafetensorsFile(contentsOf: Self.directory.appendingPathComponent("model.safetensors"))
    reference = try SafetensorsFile(contentsOf: Self.directory.appendingPathComponent("reference.safetensors"))
  }

  /// The fixture model, loaded as the built-in `smallcnn` (the file has no i2x metadata).
  func network() throws -> Network {
    try ModelCheckpoint(file: model, architectureName: "smallcnn").network
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

import Checkpoints
import Engine
import Foundation
import Models
import Prototypes

/// `i2x-train gradcam`: GradCAM maps for the images of a safetensors file.
///
/// Input: `images` F32 (N,C,H,W) (and `labels` I64 (N) when the target is `label`).
/// Output: `cam` (N,h,w) raw, `cam_upsampled` (N,H,W) min-max normalised, `logits` (N,K),
/// `classes` I64 (N) — the class each map explains.
public struct GradCAMJob {
  /// How the explained class is chosen: `label`, `predicted` or a class index.
  public var target: String
  /// Images per forward/backward pass.
  public var batchSize = 256

  /// Creates a job.
  public init(target: String) { self.target = target }

  /// Computes the output file for `images` with the network of `checkpoint`.
  /// - Throws: `TrainingError` (exit 65) for missing or ill-shaped tensors, bad targets.
  public func run(checkpoint: ModelCheckpoint, images file: SafetensorsFile) throws -> SafetensorsFile {
    let network = checkpoint.network
    let record = try file.tensor("images")
    guard record.shape.count == 4, Array(record.shape.dropFirst()) == network.inputShape, record.shape[0] > 0 else {
      throw TrainingError(
        "'images' has shape \(record.shape); this model needs [N,\(network.inputShape.map(String.init).joined(separator: ","))] with N ≥ 1"
      )
    }
    let pixels = try record.floats()
    if let bad = pixels.firstIndex(where: { !$0.isFinite }) {
      throw TrainingError("'images' holds a non-finite value at element \(bad)")
    }
    let n = record.shape[0]
    let classes = checkpoint.architecture.classes
    let targets = try resolveTargets(file: file, count: n, classes: classes)
    let pipeline = CAMPipeline(network: network)
    let (height, width) = (network.inputShape[1], network.inputShape[2])
    let imageSize = record.shape.dropFirst().reduce(1, *)
    var raw: [Float] = []
    var upsampled: [Float] = []
    var logits: [Float] = []
    var explained: [Int64] = []
    var mapShape: [Int] = []
    var start = 0
    while start < n {
      let end = min(n, start + batchSize)
      let batch = Tensor(
        shape: [end - start] + network.inputShape, scalars: Array(pixels[start * imageSize..<end * imageSize]))
      let batchTarget: CAMTarget = targets.map { .classes(Array($0[start..<end])) } ?? .predicted
      let result = pipeline.run(batch, target: batchTarget)
      raw += result.raw.scalars
      mapShape = Array(result.raw.shape.dropFirst())
      upsampled += result.upsampled(height: height, width: width).scalars
      logits += result.logits.scalars
      explained += result.classes.map { Int64($0) }
      start = end
    }
    return SafetensorsFile(
      tensors: [
        "cam": TensorRecord(floats: raw, shape: [n] + mapShape),
        "cam_upsampled": TensorRecord(floats: upsampled, shape: [n, height, width]),
        "logits": TensorRecord(floats: logits, shape: [n, classes]),
        "classes": TensorRecord(int64s: explained, shape: [n]),
      ],
      metadata: ["i2x.cam.target": target, "i2x.cam.method": "gradcam"])
  }

  private func resolveTargets(file: SafetensorsFile, count: Int, classes: Int) throws -> [Int]? {
    switch target {
    case "predicted":
      return nil
    case "label":
      guard let record = file.tensors["labels"] else {
        throw TrainingError("--target label needs an I64 'labels' tensor [N] in the images file")
      }
      let labels = try record.int64s().map { Int($0) }
      guard labels.count == count, labels.allSatisfy({ (0..<classes).contains($0) }) else {
        throw TrainingError("'labels' must hold \(count) values in 0..<\(classes)")
      }
      return labels
    default:
      guard let c = Int(target), (0..<classes).contains(c) else {
        throw TrainingError(
          "--target must be label, predicted or a class index in 0..<\(classes), got '\(target)'", exitCode: .usage)
      }
      return [Int](repeating: c, count: count)
    }
  }
}

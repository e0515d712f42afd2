import Checkpoints
import Engine
import Foundation
import Models
import Wire

extension RequestHandler {
  /// Name of the images tensor in a `verify` payload.
  public static let verifyImagesTensor = "i2x.verify.images"
  /// Most images one `verify` query may run.
  public static let maximumVerifyImages = 64

  /// The `verify` query: runs the run's registered architecture, in evaluation mode, on the
  /// weights and images of the payload and answers the logits, so a trainer outside Swift (the
  /// Python package's architecture exporter) can check that i2x computes what its framework
  /// computes before it trains.
  ///
  /// Payload: one safetensors file holding the checkpoint's tensors (`state_dict` names, as a
  /// `checkpoint` message would send them) plus `i2x.verify.images`, F32 `[N,C,H,W]` with
  /// 1 ≤ N ≤ 64 and (C,H,W) the architecture's input. Answer: `run`, `count` (N), `classes`
  /// (K) and `logits`, N rows of K numbers. Nothing is stored.
  /// - Throws: `DaemonError` `unknown-run` for an unregistered run, `bad-data` naming the
  ///   missing payload, the images tensor's dtype or shape, or the weights that do not fit.
  func verify(_ header: QueryHeader, payload: [UInt8]?) throws -> [String: Any] {
    guard let run = header.run else { throw DaemonError(.badData, "the verify query needs a run") }
    guard let json = try store.architecture(run: run) else {
      throw DaemonError(.unknownRun, "no run named '\(run)'; register it before verifying its architecture")
    }
    guard let payload else {
      throw DaemonError(
        .badData, "the verify query needs a safetensors payload: the weights plus '\(Self.verifyImagesTensor)'")
    }
    var file: SafetensorsFile
    do { file = try SafetensorsFile(bytes: payload, limits: limits.safetensors) } catch {
      throw DaemonError(.badData, "verify payload: \(error)")
    }
    guard let images = file.tensors.removeValue(forKey: Self.verifyImagesTensor) else {
      throw DaemonError(.badData, "verify payload has no '\(Self.verifyImagesTensor)' tensor (F32 [N,C,H,W])")
    }
    let architecture: Architecture
    let model: ModelCheckpoint
    do {
      architecture = try Architecture(json: json, limits: limits.architecture)
      model = try ModelCheckpoint(file: file, architecture: architecture, limits: limits.architecture)
    } catch {
      throw DaemonError(.badData, "run '\(run)': the verify weights do not fit the run's architecture: \(error)")
    }
    let count = images.shape.first ?? 0
    guard images.dtype == .f32, images.shape.count == 4, Array(images.shape.dropFirst()) == architecture.input,
      (1...Self.maximumVerifyImages).contains(count)
    else {
      throw DaemonError(
        .badData,
        "'\(Self.verifyImagesTensor)' must be F32 [N,\(architecture.input.map(String.init).joined(separator: ","))] "
          + "with 1 ≤ N ≤ \(Self.maximumVerifyImages), got \(images.dtype.rawValue) \(images.shape)")
    }
    let scalars: [Float]
    do { scalars = try images.floats() } catch { throw DaemonError(.badData, "'\(Self.verifyImagesTensor)': \(error)") }
    guard scalars.allSatisfy(\.isFinite) else {
      throw DaemonError(.badData, "'\(Self.verifyImagesTensor)' holds non-finite values")
    }
    // inp (N,C,H,W) -> logits (N,K)
    let logits = model.network.forward(Tensor(shape: images.shape, scalars: scalars), training: false).logits
    let classes = architecture.classes
    let rows = (0..<count).map { i in (0..<classes).map { Double(logits.scalars[i * classes + $0]) } }
    return ["run": run, "count": count, "classes": classes, "logits": rows]
  }
}

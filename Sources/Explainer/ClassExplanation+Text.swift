import Foundation

extension ClassExplanation {
  /// The data-free claim, stated with every explanation (DESIGN §8).
  public static let dataFreeStatement =
    "Data-free: made from the classifier's weights and a generative prior trained on a disjoint split only; no training, validation or probe image was read."

  /// A short human rendering: scores with intervals, the sanity check and the verdicts.
  public var text: String {
    func percent(_ p: Proportion) -> String {
      String(format: "%5.1f%% [%4.1f, %5.1f] (%d/%d)", p.rate * 100, p.low * 100, p.high * 100, p.hits, p.trials)
    }
    let name = className.map { "\(classIndex) (\($0))" } ?? "\(classIndex)"
    var lines = [
      "class \(name): \(settings.count) samples, guidance scale \(settings.scale), guided for t ≤ \(settings.guidedFraction)·T (\(settings.guidedSteps) of \(settings.ddimSteps) DDIM steps), seed \(settings.seed)",
      "  activation (classifier, guided)   \(percent(activation))",
      "  prior (classifier, unguided)      \(percent(priorActivation))",
    ]
    if let oracle { lines.append("  oracle (guided)                   \(percent(oracle))") }
    if let oraclePrior { lines.append("  oracle (unguided)                 \(percent(oraclePrior))") }
    lines.append(
      String(
        format: "  sanity (%@ Fréchet distance): seeds %.3f", sanity.space as NSString, sanity.distanceSeeds))
    for stage in sanity.stages {
      lines.append(
        String(
          format: "    randomised %@: %.3f (%.1f×), activation %.0f%%", stage.layers.joined(separator: "+") as NSString,
          stage.distance, stage.distance / max(sanity.distanceSeeds, 1e-12), stage.activation.rate * 100))
    }
    lines.append("  " + (sanity.passed ? "sanity check passed" : "sanity check FAILED (insensitive to the model)"))
    lines += verdicts.map { "  - " + $0 }
    lines.append(String(format: "  %.1f s. ", seconds) + Self.dataFreeStatement)
    return lines.joined(separator: "\n")
  }

  /// Sorted-key JSON.
  public func json() throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(self), as: UTF8.self)
  }
}

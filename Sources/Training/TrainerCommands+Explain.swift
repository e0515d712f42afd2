import CLI
import Engine
import Explainer
import Foundation
import Imaging
import Models

extension TrainerCommands {
  static let explainSpec = CommandSpec(
    name: "i2x-train explain", abstract: "Explain a class of a checkpoint with a generator (data-free).",
    options: [
      .value("generator", "FILE", "Generator file (i2x-train generator).", required: true),
      .value("checkpoint", "FILE", "The classifier to explain (.safetensors with i2x metadata).", required: true),
      .value(
        "oracle", "FILE",
        "An independent classifier trained on the generator split (i2x-train train --split generator)."),
      .value("class", "C", "Class index to explain.", required: true),
      .value("count", "N", "Samples per set.", default: "100"),
      .value("scale", "S", "Guidance scale.", default: "10"),
      .value("guided-fraction", "F", "Guidance on for t ≤ F·T.", default: "0.6"),
      .value("seed", "S", "Seed of the starting noise.", default: "1"),
      .value("png", "DIR", "Write guided.png, prior.png and randomized.png grids to DIR."),
      .flag("json", "Print the explanation as JSON (schema i2x.explanation/1)."),
    ],
    discussion: """
      Reads only the generator, the checkpoint's weights and the oracle: no dataset file is opened.
      Prints the activation score (the classifier's share of guided samples in the class) next to the
      unguided prior's and the oracle's, and the model-randomisation sanity check.
      """)

  static func explain(_ arguments: [String], out: @Sendable (String) -> Void, log: @Sendable (String) -> Void) throws
    -> ExitCode
  {
    let options = try ParsedOptions(arguments, spec: explainSpec)
    let prior = try loadGenerator(options)
    let checkpoint = try loadCheckpoint(options, name: "checkpoint")
    let oracle = options.string("oracle") != nil ? try loadCheckpoint(options, name: "oracle").network : nil
    var settings = ClassExplainer.Settings()
    settings.count = try options.int("count", minimum: 2) ?? settings.count
    settings.scale = try options.double("scale", minimum: 0) ?? settings.scale
    settings.guidedFraction = try options.double("guided-fraction", minimum: 0) ?? settings.guidedFraction
    settings.seed = UInt64(try options.int("seed", minimum: 0) ?? 1)
    let target = try options.int("class", minimum: 0) ?? 0
    let explainer: ClassExplainer
    do {
      explainer = try ClassExplainer(
        prior: prior, architecture: checkpoint.architecture, classifier: checkpoint.network, oracle: oracle,
        settings: settings)
    } catch {
      throw TrainingError("\(error)", exitCode: .dataError)
    }
    log("explaining class \(target): \(settings.count) guided samples, then the controls")
    let (explanation, samples) = try explainer.explain(target, className: checkpoint.metadata.classes?[safe: target])
    if let directory = options.string("png") {
      let url = URL(fileURLWithPath: directory)
      try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
      for (name, images) in [("guided", samples.guided), ("prior", samples.prior), ("randomized", samples.randomized)] {
        try ExplanationImages.grid(images).write(to: url.appendingPathComponent("\(name).png"))
      }
      log("wrote guided.png, prior.png and randomized.png to \(url.path)")
    }
    out(options.flag("json") ? try explanation.json() : explanation.text)
    return .success
  }
}

extension Array {
  subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}

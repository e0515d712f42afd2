import CLI
import Datasets
import Engine
import Explainer
import Foundation
import Imaging
import Models

extension TrainerCommands {
  static let conceptsSpec = CommandSpec(
    name: "i2x-train concepts", abstract: "Which discrete concepts of the prior drive a class (data-free).",
    options: [
      .value("generator", "FILE", "Generator file with a concept codebook (i2x-train generator).", required: true),
      .value("checkpoint", "FILE", "The classifier to explain.", required: true),
      .value("oracle", "FILE", "An independent classifier trained on the generator split."),
      .value("class", "C", "Class index.", required: true),
      .value("steps", "N", "Adam steps per run.", default: "150"),
      .value("runs", "N", "Top-k runs, each excluding the concepts chosen before.", default: "3"),
      .value("seed", "S", "Seed of the Gumbel noise.", default: "1"),
      .value("png", "DIR", "Write each run's concept images and sample grid to DIR."),
      .flag("json", "Print JSON (schema i2x.concepts/1)."),
    ],
    discussion: """
      Runs the search twice: with DEXTER's pseudo-label loss and without it (the ablation), and
      reports both with the activation score (the classifier's share of 100 images decoded from
      fresh slot draws in the class) and the oracle's.
      """)

  static func concepts(_ arguments: [String], out: @Sendable (String) -> Void, log: @Sendable (String) -> Void) throws
    -> ExitCode
  {
    let options = try ParsedOptions(arguments, spec: conceptsSpec)
    let prior = try loadGenerator(options)
    let checkpoint = try loadCheckpoint(options, name: "checkpoint")
    let oracle = options.string("oracle") != nil ? try loadCheckpoint(options, name: "oracle").network : nil
    let target = try options.int("class", minimum: 0) ?? 0
    guard target < checkpoint.architecture.classes else {
      throw TrainingError("--class \(target) is outside 0..<\(checkpoint.architecture.classes)", exitCode: .usage)
    }
    var settings = ConceptDiscovery.Settings()
    settings.steps = try options.int("steps", minimum: 1) ?? settings.steps
    settings.runs = try options.int("runs", minimum: 1) ?? settings.runs
    settings.seed = UInt64(try options.int("seed", minimum: 0) ?? 1)
    var report: [String: Any] = ["schema_version": schemaVersion, "schema": "i2x.concepts/1", "class_index": target]
    if let name = checkpoint.metadata.classes?[safe: target] { report["class_name"] = name }
    let started = Date()
    for (key, weight) in [("with_pseudo_labels", Float(1)), ("without_pseudo_labels", Float(0))] {
      settings.pseudoLabelWeight = weight
      let discovery: ConceptDiscovery
      do {
        discovery = try ConceptDiscovery(
          prior: prior, classifier: checkpoint.network, oracle: oracle, settings: settings)
      } catch {
        throw TrainingError("\(error)", exitCode: .dataError)
      }
      log("concept search for class \(target) (\(key.replacingOccurrences(of: "_", with: " ")))")
      let runs = discovery.discover(target)
      let encoded = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(runs))
      report[key] = encoded
      if let directory = options.string("png") {
        let url = URL(fileURLWithPath: directory)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for (index, run) in runs.enumerated() {
          try ExplanationImages.grid(discovery.conceptImages(run.concepts)).write(
            to: url.appendingPathComponent("\(key)-run\(index + 1)-concepts.png"))
        }
      }
    }
    report["seconds"] = Date().timeIntervalSince(started)
    report["data_free"] = ClassExplanation.dataFreeStatement
    if options.flag("json") {
      out(String(decoding: try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys]), as: UTF8.self))
    } else {
      out(conceptText(report))
    }
    return .success
  }

  static func conceptText(_ report: [String: Any]) -> String {
    var lines = ["class \(report["class_index"] ?? "?") \(report["class_name"].map { "(\($0))" } ?? ""):"]
    for key in ["with_pseudo_labels", "without_pseudo_labels"] {
      lines.append("  \(key.replacingOccurrences(of: "_", with: " ")):")
      for (index, run) in ((report[key] as? [[String: Any]]) ?? []).enumerated() {
        let activation = (run["activation"] as? [String: Any])?["rate"] as? Double ?? 0
        let oracle =
          ((run["oracle"] as? [String: Any])?["rate"] as? Double).map { String(format: ", oracle %.0f%%", $0 * 100) }
          ?? ""
        lines.append(
          String(
            format: "    run %d: concepts %@, activation %.0f%%%@", index + 1,
            ((run["concepts"] as? [Int]) ?? []).map(String.init).joined(separator: " ") as NSString, activation * 100,
            oracle as NSString))
      }
    }
    lines.append(String(format: "  %.1f s", report["seconds"] as? Double ?? 0))
    return lines.joined(separator: "\n")
  }

  static let counterfactualSpec = CommandSpec(
    name: "i2x-train counterfactual",
    abstract: "Generative counterfactuals of probe images of one class towards another, against PGD.",
    options: datasetOptions + [
      .value("generator", "FILE", "Generator file (i2x-train generator).", required: true),
      .value("checkpoint", "FILE", "The classifier.", required: true),
      .value("oracle", "FILE", "An independent classifier trained on the generator split."),
      .value("from", "A", "Class of the probe images.", required: true),
      .value("to", "B", "Target class.", required: true),
      .value("count", "N", "Probe images of class A to use (that the classifier gets right).", default: "20"),
      .value("seed", "S", "Seed of the dataset split (the run's --seed).", default: "1"),
      .value("png", "DIR", "Write originals, counterfactuals and PGD examples as grids to DIR."),
      .flag("json", "Print JSON (schema i2x.counterfactuals/1)."),
    ],
    discussion: """
      Probe images come from the run's held-out probe split (default split sizes and --seed), so
      counterfactuals start from data by definition (they are exempt from the data-free check).
      """)

  static func counterfactual(_ arguments: [String], out: @Sendable (String) -> Void, log: @Sendable (String) -> Void)
    throws -> ExitCode
  {
    let options = try ParsedOptions(arguments, spec: counterfactualSpec)
    let prior = try loadGenerator(options)
    let checkpoint = try loadCheckpoint(options, name: "checkpoint")
    let oracle = options.string("oracle") != nil ? try loadCheckpoint(options, name: "oracle").network : nil
    let from = try options.int("from", minimum: 0) ?? 0
    let to = try options.int("to", minimum: 0) ?? 1
    let classes = checkpoint.architecture.classes
    guard from < classes, to < classes, from != to else {
      throw TrainingError("--from and --to must be two different classes in 0..<\(classes)", exitCode: .usage)
    }
    let seed = UInt64(try options.int("seed", minimum: 0) ?? 1)
    let data = try DatasetCatalog.load(
      name: try options.requiredString("dataset"),
      dataDirectory: options.string("data-dir").map { URL(fileURLWithPath: $0) }, seed: seed)
    let train = data.train
    guard [train.channels, train.height, train.width] == prior.image else {
      throw TrainingError("the dataset's images do not match the generator's \(prior.image)", exitCode: .usage)
    }
    let splits = DatasetSplits.make(
      labels: train.labels, classes: train.classNames.count, validation: 5000, probePerClass: 100, generator: 5000,
      seed: seed)
    let candidates = splits.probe.filter { train.labels[$0] == from }
    let all = Tensor(shape: [candidates.count] + prior.image, scalars: train.batchFloats(candidates))
    let correct = zip(candidates, ClassExplainer.predictions(checkpoint.network, all)).filter { $0.1 == from }.map(\.0)
    let chosen = Array(correct.prefix(try options.int("count", minimum: 1) ?? 20))
    guard !chosen.isEmpty else {
      throw TrainingError("no probe image of class \(from) is classified correctly", exitCode: .dataError)
    }
    let images = Tensor(shape: [chosen.count] + prior.image, scalars: train.batchFloats(chosen))
    log("counterfactuals of \(chosen.count) probe images of class \(from) towards \(to), and their PGD baselines")
    let started = Date()
    let maker = Counterfactual(prior: prior, classifier: checkpoint.network, oracle: oracle)
    let (outcomes, edited, adversarial) = maker.run(images, targets: Array(repeating: to, count: chosen.count))
    let seconds = Date().timeIntervalSince(started)
    if let directory = options.string("png") {
      let url = URL(fileURLWithPath: directory)
      try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
      for (name, tensor) in [("originals", images), ("counterfactuals", edited), ("pgd", adversarial)] {
        try ExplanationImages.grid(tensor).write(to: url.appendingPathComponent("\(name).png"))
      }
    }
    let summary = CounterfactualSummary(outcomes)
    var report: [String: Any] = [
      "schema_version": schemaVersion, "schema": "i2x.counterfactuals/1", "from": from, "to": to, "probes": chosen,
      "seconds": seconds,
      "seconds_per_counterfactual": seconds / Double(chosen.count),
      "summary": try JSONSerialization.jsonObject(with: try JSONEncoder().encode(summary)),
    ]
    report["outcomes"] = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(outcomes))
    if options.flag("json") {
      out(String(decoding: try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys]), as: UTF8.self))
    } else {
      out(summary.text(from: from, to: to, names: train.classNames) + String(format: "\n  %.1f s", seconds))
    }
    return .success
  }
}

extension TrainerCommands {
  static let prototypesSpec = CommandSpec(
    name: "i2x-train prototypes",
    abstract: "Data-free prototypes (ProDG's question): guided samples' prototypes against the probe images'.",
    options: datasetOptions + [
      .value("generator", "FILE", "Generator file (i2x-train generator).", required: true),
      .value("checkpoint", "FILE", "The classifier.", required: true),
      .value("count", "N", "Guided samples per class.", default: "50"),
      .value("scale", "S", "Guidance scale.", default: "10"),
      .value("seed", "S", "Seed of the dataset split (the run's --seed).", default: "1"),
      .flag("json", "Print JSON (schema i2x.synthetic-prototypes/1)."),
    ],
    discussion: """
      Per class, the cosine between the attention profile of guided samples and of the probe
      images under the data vocabulary (fitted on the probe images, K = 32, as the daemon does);
      then the accuracy of nearest-prototype classification of the probe images with the data
      vocabulary and with a vocabulary fitted on the synthetic cells only (templates from the
      synthetic samples in both cases).
      """)

  static func prototypes(_ arguments: [String], out: @Sendable (String) -> Void, log: @Sendable (String) -> Void)
    throws -> ExitCode
  {
    let options = try ParsedOptions(arguments, spec: prototypesSpec)
    let prior = try loadGenerator(options)
    let checkpoint = try loadCheckpoint(options, name: "checkpoint")
    let seed = UInt64(try options.int("seed", minimum: 0) ?? 1)
    let data = try DatasetCatalog.load(
      name: try options.requiredString("dataset"),
      dataDirectory: options.string("data-dir").map { URL(fileURLWithPath: $0) }, seed: seed)
    let train = data.train
    guard [train.channels, train.height, train.width] == prior.image,
      checkpoint.architecture.input == prior.image
    else {
      throw TrainingError(
        "the dataset, the generator and the classifier must have the same image shape", exitCode: .usage)
    }
    let splits = DatasetSplits.make(
      labels: train.labels, classes: train.classNames.count, validation: 5000, probePerClass: 100, generator: 5000,
      seed: seed)
    let count = try options.int("count", minimum: 2) ?? 50
    let scale = try options.double("scale", minimum: 0) ?? 10
    let started = Date()
    let sampler = DDIMSampler(prior: prior)
    var samples: [Tensor] = []
    for c in 0..<checkpoint.architecture.classes {
      log("guided samples of class \(c)")
      samples.append(
        sampler.sample(
          count: count, seed: 100 + UInt64(c),
          guidance: Guidance(classifier: checkpoint.network, target: c, scale: scale)
        ).images)
    }
    let probes = Tensor(shape: [splits.probe.count] + prior.image, scalars: train.batchFloats(splits.probe))
    let small = prior.image[1] <= 28
    let comparison = SyntheticPrototypes.compare(
      classifier: checkpoint.network, samples: samples, probes: probes, labels: splits.probe.map { train.labels[$0] },
      clusters: small ? 32 : 128, maximumComponents: small ? 32 : 64)
    let seconds = Date().timeIntervalSince(started)
    if options.flag("json") {
      var report = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(comparison)) as? [String: Any] ?? [:]
      report["schema"] = "i2x.synthetic-prototypes/1"
      report["schema_version"] = schemaVersion
      report["seconds"] = seconds
      out(String(decoding: try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys]), as: UTF8.self))
    } else {
      var lines = [
        "synthetic against data-based prototypes (\(comparison.samples) guided samples, \(comparison.probes) probe images):"
      ]
      for (c, cosine) in comparison.profileCosine.enumerated() {
        lines.append(
          "  " + train.classNames[c].padding(toLength: 14, withPad: " ", startingAt: 0)
            + String(
              format: "profile cosine %.3f (other classes' data profiles: %.3f)", cosine,
              comparison.profileCosineOther[c]))
      }
      lines.append(
        String(
          format:
            "  nearest-prototype accuracy on the probe images: data vocabulary %.3f, synthetic vocabulary %.3f (chance %.3f)",
          comparison.accuracyDataVocabulary, comparison.accuracySyntheticVocabulary, comparison.chance))
      lines.append(String(format: "  %.1f s", seconds))
      out(lines.joined(separator: "\n"))
    }
    return .success
  }
}

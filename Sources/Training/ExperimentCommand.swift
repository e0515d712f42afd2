import CLI
import Checkpoints
import Datasets
import Engine
import Foundation
import Models
import Prototypes
import Wire

/// `i2x-train experiment finetune|directive`: the honest evaluation of a fine-tune directive
/// (DESIGN §7) and an offline directive builder.
enum ExperimentCommand {
  /// The nested tool that `i2x-train experiment` dispatches to.
  static func tool(out: @escaping @Sendable (String) -> Void, log: @escaping @Sendable (String) -> Void) -> Tool {
    Tool(
      name: "i2x-train experiment", abstract: "Experiments on fine-tune directives.",
      version: TrainerCommands.version,
      subcommands: [
        .init(name: "finetune", abstract: "I2X curated → full against three controls, over seeds.") {
          try finetune($0, out: out, log: log)
        },
        .init(name: "directive", abstract: "Build a directive file from a checkpoint (no daemon needed).") {
          try directive($0, out: out, log: log)
        },
      ])
  }

  static let finetuneSpec = CommandSpec(
    name: "i2x-train experiment finetune", abstract: "I2X curated → full against three controls, over seeds.",
    options: TrainerCommands.datasetOptions + [
      .value("arch", "NAME", "Architecture of the start checkpoint.", required: true),
      .value("start", "FILE", "Start checkpoint: every arm starts from its weights.", required: true),
      .value("directive", "FILE", "Directive payload (i2x.directive/2 JSON, as 'i2x directives RUN --export ID')."),
      .value("from-daemon", "RUN", "Fetch the newest directive of RUN from the daemon instead."),
      .value("pair", "A,B", "With --from-daemon: the newest directive for this pair (class names or indices)."),
      .value("endpoint", "ENDPOINT", "With --from-daemon: daemon endpoint.", default: "tcp://127.0.0.1:7070"),
      .value("timeout", "MS", "With --from-daemon: milliseconds to wait for each of 3 attempts.", default: "5000"),
      .value("seeds", "N", "Paired data-order seeds 1…N (DESIGN §7 asks for ≥ 10).", required: true),
      .value(
        "out", "DIR", "Results: settings.json, results/<arm>-<seed>.json, experiment.json.", default: "experiment"),
      .value("batch", "N", "Images per step.", default: "64"),
      .value("lr", "RATE", "Learning rate.", default: "0.05"),
      .value("momentum", "M", "SGD momentum.", default: "0.9"),
      .value("optimizer", "NAME", "sgd or adam.", default: "sgd"),
      .value("seed", "S", "Split seed when no splits.json lies beside --start (else the recorded one).", default: "1"),
      .flag("json", "Print versioned JSON (also written to OUT/experiment.json)."),
    ],
    discussion: """
      Arms, each from the same start weights with a fresh network and a fresh optimiser, seed s
      giving every arm the same data order: i2x (R from the directive, one epoch on D \\ R then
      one on D), c1_equal_compute (D for exactly as many steps), c2_random_removal (|R| random
      images of the pair removed), c3_highest_loss (the |R| highest-loss images of the pair
      removed). D is the training split of splits.json beside --start (or recomputed from
      --seed); outcomes on the test split: accuracy, the pair's confusions and the pair's NLL,
      mean ± std over seeds and the paired difference to c1 with a 95% percentile bootstrap CI
      (10,000 resamples). Each finished (arm, seed) is saved at once; a rerun with the same --out
      and settings resumes. Exit codes: 64 usage, 65 bad data, 66 missing file, 69 no daemon.
      """)

  static func finetune(
    _ arguments: [String], out: @Sendable (String) -> Void, log: @escaping @Sendable (String) -> Void
  )
    throws -> ExitCode
  {
    let options = try ParsedOptions(arguments, spec: finetuneSpec)
    let hint = finetuneSpec.hint
    let file = options.string("directive")
    let run = options.string("from-daemon")
    guard (file == nil) != (run == nil) else {
      throw UsageError("give exactly one of --directive FILE and --from-daemon RUN", hint: hint)
    }
    if run == nil && options.values["pair"] != nil {
      throw UsageError("--pair selects a daemon directive; it needs --from-daemon RUN", hint: hint)
    }
    var configuration = TrainingConfiguration()
    configuration.batchSize = try options.int("batch", minimum: 1) ?? 64
    let learningRate = try options.double("lr", minimum: 1e-12) ?? 0.05
    let momentum = try options.double("momentum", minimum: 0) ?? 0.9
    configuration.learningRate = Float(learningRate)
    configuration.momentum = Float(momentum)
    configuration.optimizer = try options.choice("optimizer", in: ["sgd", "adam"]) ?? "sgd"
    let seeds = try options.requiredInt("seeds", minimum: 1)
    // Connection options are checked before any work, so a typo exits 64 at once.
    let client = try run.map { _ in
      RequestClient(
        endpoint: try options.connectEndpoint("endpoint"),
        timeoutMilliseconds: try options.int("timeout", minimum: 1) ?? 5000, attempts: 3,
        options: try options.clientSocketOptions())
    }
    defer { client?.close() }

    let start = try ExperimentInputs.load(options)
    let directive: FineTuneDirective
    if let file {
      directive = try ExperimentDirectiveSource.file(file)
    } else if let client, let run {
      let pair = options.string("pair").map {
        $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
      }
      directive = try ExperimentDirectiveSource.daemon(
        client: client, run: run, pair: pair, classNames: start.train.classNames)
    } else {
      preconditionFailure("one directive source is set")
    }
    try start.check(directive)
    if !start.ignoredTensors.isEmpty {
      log("ignoring \(start.ignoredTensors.count) non-weight tensors in the start checkpoint (fresh optimiser per arm)")
    }

    let settings = ExperimentSettings(
      dataset: start.dataset, architecture: start.architecture.name, startCheckpointSHA256: start.sha256,
      directiveSHA256: SHA256.hex(Array(directive.json().utf8)), splits: start.splitSource,
      trainingImages: start.training.count, batchSize: configuration.batchSize,
      learningRate: learningRate, momentum: momentum, optimizer: configuration.optimizer)
    let outURL = URL(fileURLWithPath: try options.requiredString("out"))
    let directory = try ExperimentDirectory(url: outURL, settings: settings)
    let result = try ExperimentRunner(
      architecture: start.architecture, weights: start.weights, train: start.train, test: start.test,
      training: start.training, directive: directive, configuration: configuration, seeds: seeds,
      directory: directory, log: log
    ).run()

    let report = ExperimentReport(
      dataset: start.dataset, architecture: start.architecture.name, startCheckpoint: start.url.path,
      startStep: start.step,
      directive: .init(
        id: directive.id, run: directive.run, source: directive.source, pair: directive.pair,
        classNames: directive.classNames, prototypes: directive.prototypes, step: directive.step),
      splits: start.splitSource, trainingImages: start.training.count, pairTrainingImages: result.pairImages,
      testImages: start.test.count, removed: result.removed, steps: result.steps,
      batchSize: configuration.batchSize, learningRate: learningRate, momentum: momentum,
      optimizer: configuration.optimizer, seeds: seeds,
      arms: ExperimentReport.arms(result.outcomes), results: result.outcomes)
    let json = try report.json()
    try AtomicFile.write(Array((json + "\n").utf8), to: outURL.appendingPathComponent("experiment.json"))
    log("wrote \(outURL.appendingPathComponent("experiment.json").path) (\(result.reused) results reused)")
    out(options.flag("json") ? json : report.table())
    return .success
  }

  static let directiveSpec = CommandSpec(
    name: "i2x-train experiment directive", abstract: "Build a directive file from a checkpoint (no daemon needed).",
    options: TrainerCommands.datasetOptions + [
      .value("arch", "NAME", "Architecture of the checkpoint.", required: true),
      .value("start", "FILE", "Checkpoint whose target-layer features define the vocabulary.", required: true),
      .value("pair", "A,B", "The confused pair (class names or indices).", required: true),
      .value("prototypes", "K,…", "Prototype ids to flag (default: the --top most co-occurring)."),
      .value("top", "N", "How many co-occurring prototypes to flag.", default: "2"),
      .value("seed", "S", "Split seed when no splits.json lies beside --start.", default: "1"),
      .value("out", "FILE", "Where to write the directive (i2x.directive/2 JSON).", required: true),
    ],
    discussion: """
      Fits the vocabulary as the daemon does (Vocabulary.fit on the probe images' target-layer
      cells; K = 32, ≤ 32 PCA components for 28×28) and flags the prototypes present (≥ 10% of the
      cells) in the most images of both classes: the top N by min(ρ_a, ρ_b).
      """)

  static func directive(_ arguments: [String], out: @Sendable (String) -> Void, log: @Sendable (String) -> Void)
    throws -> ExitCode
  {
    let options = try ParsedOptions(arguments, spec: directiveSpec)
    let start = try ExperimentInputs.load(options)
    let pair = try ExperimentDirectiveSource.resolve(
      try options.requiredString("pair").split(separator: ",", omittingEmptySubsequences: false).map(String.init),
      classNames: start.train.classNames)
    let chosen = try options.string("prototypes").map { text in
      try text.split(separator: ",").map { part -> Int in
        guard let id = Int(part.trimmingCharacters(in: .whitespaces)) else {
          throw UsageError("--prototypes expects comma-separated ids, got '\(text)'", hint: directiveSpec.hint)
        }
        return id
      }
    }
    let network = try start.network()
    log("fitting the vocabulary on \(start.probe.count) probe images (\(start.splitSource))")
    let (directive, presence) = ExperimentDirectiveFit.make(
      network: network, data: start.train, probe: start.probe, pair: pair, prototypes: chosen ?? [],
      top: try options.int("top", minimum: 1) ?? 2, step: start.step ?? 0,
      run: start.runName ?? start.url.deletingLastPathComponent().lastPathComponent)
    let path = try options.requiredString("out")
    try AtomicFile.write(Array((directive.json() + "\n").utf8), to: URL(fileURLWithPath: path))
    out("prototype  presence in \(directive.classNames[0]) / \(directive.classNames[1])")
    for row in presence.prefix(8) {
      out(
        String(
          format: "%9d  %.3f / %.3f%@", row.prototype, row.presence[0], row.presence[1],
          directive.prototypes.contains(row.prototype) ? "  flagged" : ""))
    }
    out("wrote \(path): pair \(pair), prototypes \(directive.prototypes)")
    return .success
  }
}

import CLI
import Checkpoints
import Datasets
import Foundation
import Models

/// The `i2x-train` tool: its subcommands and their option specs.
public enum TrainerCommands {
  /// Version printed by `--version`.
  public static let version = "i2x-train 0.1.0"
  /// `schema_version` of the JSON the subcommands print (README "JSON interface"); documents
  /// with their own tag (`i2x.concepts/1`, …) carry both.
  static let schemaVersion = 2

  /// The tool, with output sinks for stdout (results) and stderr (logs, progress).
  public static func tool(
    out: @escaping @Sendable (String) -> Void = { print($0) },
    log: @escaping @Sendable (String) -> Void = { Log.write($0) }
  ) -> Tool {
    Tool(
      name: "i2x-train", abstract: "Train, evaluate and explain image classifiers for i2x.", version: version,
      subcommands: [
        .init(name: "train", abstract: "Train a reference architecture and write checkpoints.") {
          try train($0, out: out, log: log)
        },
        .init(name: "eval", abstract: "Accuracy, per-class accuracy and confusion matrix of a checkpoint.") {
          try evaluate($0, out: out, log: log)
        },
        .init(name: "gradcam", abstract: "GradCAM maps for the images of a safetensors file.") {
          try gradcam($0, out: out, log: log)
        },
        .init(name: "sample", abstract: "Write dataset images as a safetensors images file.") {
          try sample($0, out: out, log: log)
        },
        .init(name: "generator", abstract: "Train the explainer's generative prior on the generator split.") {
          try generator($0, out: out, log: log)
        },
        .init(name: "explain", abstract: "Explain a class of a checkpoint with a generator (data-free).") {
          try explain($0, out: out, log: log)
        },
        .init(name: "concepts", abstract: "Which concepts of the prior drive a class (data-free).") {
          try concepts($0, out: out, log: log)
        },
        .init(name: "counterfactual", abstract: "Generative counterfactuals of probe images, against PGD.") {
          try counterfactual($0, out: out, log: log)
        },
        .init(name: "prototypes", abstract: "Data-free prototypes against the probe images' (ProDG).") {
          try prototypes($0, out: out, log: log)
        },
        .init(name: "publish", abstract: "Publish an existing checkpoint file to a daemon.") {
          try publish($0, out: out, log: log)
        },
        .init(name: "drain", abstract: "Send what an earlier run left in its outbox.") {
          try drain($0, out: out, log: log)
        },
        .init(name: "experiment", abstract: "Experiments on fine-tune directives (finetune, directive).") {
          ExitCode(rawValue: ExperimentCommand.tool(out: out, log: log).run($0, out: out, err: log)) ?? .failure
        },
      ])
  }

  static let datasetOptions: [OptionSpec] = [
    .value("dataset", "NAME", "fashion-mnist, mnist, cifar10 or synthetic.", default: "fashion-mnist"),
    .value(
      "data-dir", "DIR",
      "Dataset directory (fashion-mnist: /usr/share/datasets/fashion-mnist; required for mnist, cifar10)."),
    .value(
      "class-names", "FILE",
      "Class names, one per line in label order (default: classes.txt in --data-dir if present, else the dataset's)."),
  ]

  static let trainSpec = CommandSpec(
    name: "i2x-train train", abstract: "Train a reference architecture and write checkpoints.",
    options: datasetOptions + [
      .value("arch", "NAME", "smallcnn, smallcnn-bn or cifarcnn.", default: "smallcnn-bn"),
      .value("epochs", "N", "Passes over the training split.", default: "1"),
      .value("batch", "N", "Images per step.", default: "64"),
      .value("lr", "RATE", "Learning rate.", default: "0.05"),
      .value("momentum", "M", "SGD momentum.", default: "0.9"),
      .value("optimizer", "NAME", "sgd or adam.", default: "sgd"),
      .value("weight-decay", "W", "L2 weight decay.", default: "0"),
      .value("seed", "S", "Seed of initialisation, splits and data order.", default: "1"),
      .value("checkpoint-every", "N", "Also write a checkpoint every N steps (0: final only).", default: "0"),
      .value("validation-size", "N", "Images held out for validation.", default: "5000"),
      .value("probe-per-class", "N", "Probe images held out per class.", default: "100"),
      .value("generator-size", "N", "Images held out for the generative prior.", default: "5000"),
      .value("run", "NAME", "Run name recorded in checkpoints and used by the daemon.", default: "run"),
      .value(
        "split", "NAME",
        "Train on 'train' (the classifier) or on 'generator' (an oracle for the explainer: disjoint from the classifier's data).",
        default: "train"),
      .flag("shuffle-labels", "Control run: train on randomly permuted labels (probe/validation keep true ones)."),
      .value(
        "publish", "ENDPOINT",
        "Publish every checkpoint to an i2x daemon (e.g. tcp://127.0.0.1:7070), the initial weights as step 0; a comma-separated list fails over between daemons sharing a store."
      ),
      .value("publish-every", "N", "With --publish: write and publish a checkpoint every N steps."),
      .value(
        "drain-timeout", "SECONDS", "With --publish: how long to wait at the end for acknowledgements.", default: "30"),
      .value(
        "finetune", "POLICY", "With --publish: fine-tune policy registered with the daemon (auto, manual or off).",
        default: "manual"),
      .value(
        "explain", "POLICY",
        "With --publish: explainer policy registered with the daemon (auto, manual or off; default: the daemon's)."),
      .value(
        "await-directives", "SECONDS",
        "With --publish: after the last epoch, wait up to this long for fine-tune directives (less once --max-finetunes is reached).",
        default: "0"),
      .value(
        "finetune-variant", "NAME", "Curated epoch: remove, downweight, region-blur or region-noise.", default: "remove"
      ),
      .value("max-finetunes", "N", "With --publish: execute at most N fine-tune directives (default: no limit)."),
      .value("out", "DIR", "Output directory for step-<n>.safetensors files.", required: true),
    ],
    discussion: """
      Deterministic for a seed. Progress (epoch, step, images/s, loss, ETA) goes to stderr; the
      final checkpoint is also linked as DIR/final.safetensors, the splits are in DIR/splits.json.
      With --publish the trainer acts on the daemon's fine-tune directives between steps
      (journaled in DIR/directives/, each executed at most once).
      """)

  static func train(_ arguments: [String], out: @Sendable (String) -> Void, log: @escaping @Sendable (String) -> Void)
    throws -> ExitCode
  {
    let options = try ParsedOptions(arguments, spec: trainSpec)
    var c = TrainingConfiguration()
    c.dataset = try options.requiredString("dataset")
    c.dataDirectory = options.string("data-dir").map { URL(fileURLWithPath: $0) }
    c.classNamesFile = options.string("class-names").map { URL(fileURLWithPath: $0) }
    c.architecture = try options.choice("arch", in: Architecture.referenceNames) ?? c.architecture
    c.epochs = try options.int("epochs", minimum: 1) ?? c.epochs
    c.batchSize = try options.int("batch", minimum: 1) ?? c.batchSize
    c.learningRate = Float(try options.double("lr", minimum: 1e-12) ?? Double(c.learningRate))
    c.momentum = Float(try options.double("momentum", minimum: 0) ?? Double(c.momentum))
    c.optimizer = try options.choice("optimizer", in: ["sgd", "adam"]) ?? c.optimizer
    c.weightDecay = Float(try options.double("weight-decay", minimum: 0) ?? 0)
    c.seed = UInt64(try options.int("seed", minimum: 0) ?? 1)
    c.checkpointEvery = try options.int("checkpoint-every", minimum: 0) ?? 0
    c.validationSize = try options.int("validation-size", minimum: 0) ?? c.validationSize
    c.probePerClass = try options.int("probe-per-class", minimum: 0) ?? c.probePerClass
    c.generatorSize = try options.int("generator-size", minimum: 0) ?? c.generatorSize
    c.runName = try options.requiredString("run")
    if options.string("publish") != nil {
      c.publishEndpoint = try options.connectEndpoint("publish")
      c.publishSocketOptions = try options.clientSocketOptions()
    }
    c.shuffleLabels = options.flag("shuffle-labels")
    c.trainSplit = try options.choice("split", in: ["train", "generator"]) ?? "train"
    if c.trainSplit == "generator" && c.publishEndpoint != nil {
      throw UsageError(
        "--split generator trains an oracle, which is not published; drop --publish", hint: trainSpec.hint)
    }
    if let every = try options.int("publish-every", minimum: 1) {
      guard c.publishEndpoint != nil else {
        throw UsageError("--publish-every needs --publish ENDPOINT", hint: trainSpec.hint)
      }
      c.checkpointEvery = every
    }
    c.drainTimeout = try options.double("drain-timeout", minimum: 0) ?? 30
    c.finetunePolicy = try options.choice("finetune", in: ["auto", "manual", "off"]) ?? c.finetunePolicy
    c.explainPolicy = try options.choice("explain", in: ["auto", "manual", "off"])
    c.finetuneVariant =
      try options.choice("finetune-variant", in: ["remove", "downweight", "region-blur", "region-noise"])
      ?? c.finetuneVariant
    c.awaitDirectives = try options.double("await-directives", minimum: 0) ?? 0
    c.maximumFineTunes = try options.int("max-finetunes", minimum: 0) ?? c.maximumFineTunes
    if c.awaitDirectives > 0 && c.publishEndpoint == nil {
      throw UsageError("--await-directives needs --publish ENDPOINT", hint: trainSpec.hint)
    }
    c.outputDirectory = URL(fileURLWithPath: try options.requiredString("out"))
    let summary = try TrainingJob(configuration: c, log: log).run()
    out(
      String(
        format: "trained %d steps at %.0f images/s; validation accuracy %@; final checkpoint %@",
        summary.steps, summary.imagesPerSecond,
        summary.validationAccuracy.map { String(format: "%.4f", $0) }.joined(separator: " → "),
        summary.checkpoints.last?.path ?? "-"))
    if summary.pendingPublications > 0 {
      out("\(summary.pendingPublications) checkpoints not yet acknowledged by the daemon (kept in the outbox)")
    }
    return .success
  }
}

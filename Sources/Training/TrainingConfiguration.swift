import Foundation
import Wire

/// Everything `i2x-train train` needs; defaults are the README's recipe.
public struct TrainingConfiguration: Sendable, Equatable {
  /// Dataset name (`fashion-mnist`, `mnist`, `cifar10`, `synthetic`).
  public var dataset = "fashion-mnist"
  /// Overrides the dataset's default directory.
  public var dataDirectory: URL?
  /// Class names, one per line (default: `classes.txt` in the data directory, if any).
  public var classNamesFile: URL?
  /// Reference architecture name.
  public var architecture = "smallcnn-bn"
  /// Passes over the training split.
  public var epochs = 1
  /// Images per optimiser step.
  public var batchSize = 64
  /// Learning rate η.
  public var learningRate: Float = 0.05
  /// SGD momentum μ.
  public var momentum: Float = 0.9
  /// `sgd` or `adam`.
  public var optimizer = "sgd"
  /// L2 weight decay λ.
  public var weightDecay: Float = 0
  /// Seed of initialisation, splits and data order.
  public var seed: UInt64 = 1
  /// Write a checkpoint every N steps (0: only the final one).
  public var checkpointEvery = 0
  /// Output directory for checkpoints.
  public var outputDirectory = URL(fileURLWithPath: "out")
  /// Images held out for validation.
  public var validationSize = 5000
  /// Probe images per class, held out (never trained on).
  public var probePerClass = 100
  /// Images held out for the generative prior.
  public var generatorSize = 5000
  /// The split trained on: `train`, or `generator` for an explainer oracle (i2x-train train
  /// --split generator), which must never see the classifier's data.
  public var trainSplit = "train"
  /// Run name written into checkpoint metadata.
  public var runName = "run"
  /// Daemon endpoint to publish checkpoints to (nil: do not publish).
  public var publishEndpoint: String?
  /// Socket options of the publisher, with the CURVE keys from the environment
  /// (`SocketOptions.client()`) when the daemon requires CURVE.
  public var publishSocketOptions = SocketOptions()
  /// Train on randomly permuted labels (a control run: nothing real to learn); validation and
  /// probe images keep their true labels.
  public var shuffleLabels = false
  /// Seconds to wait at the end for the outbox to drain.
  public var drainTimeout: Double = 30
  /// Fine-tune policy registered with the daemon: `auto`, `manual` or `off`.
  public var finetunePolicy = "manual"
  /// Explainer policy registered with the daemon (`auto`, `manual`, `off`); nil: the daemon's.
  public var explainPolicy: String?
  /// Seconds to keep publishing after the last epoch, acting on directives that arrive.
  public var awaitDirectives: Double = 0
  /// How the curated epoch treats the removal set R: `remove` (DESIGN §7), `downweight`
  /// (keep R with loss weight 0.5), `region-blur` or `region-noise` (keep R with the
  /// prototype's cells blurred or replaced by seeded noise).
  public var finetuneVariant = "remove"
  /// Most fine-tunes this trainer executes (`--max-finetunes`); further directives are
  /// answered `failed` with the reason.
  public var maximumFineTunes = Int.max

  /// Creates the default configuration.
  public init() {}
}

/// The settings an analysis job needs, passed from `i2xd`'s flags to the worker and on to
/// each job's child process.
public struct AnalysisSettings: Sendable, Equatable {
  /// Probe images per checkpoint for deletion/insertion AUC (`--faithfulness-sample`).
  public var faithfulnessSample = 50
  /// Faithfulness is measured at every N-th checkpoint of a run (the first included) and at
  /// its latest once the run is quiet (`--faithfulness-every`; 1: every checkpoint).
  public var faithfulnessEvery = 5
  /// Seconds a run must go without a new checkpoint before its incremental report is replaced
  /// by the full retrospective one (`--refresh-after`).
  public var refreshAfter = 10.0
  /// How analysis processes yield to the trainers on the same cores (`--analysis-scheduling`):
  /// `idle` (SCHED_IDLE: they run only on cores nothing else wants) or `nice` (niceness +10,
  /// a small share of busy cores).
  public var analysisScheduling = "idle"
  /// Checkpoints a pair waits after a directive before a flag makes another one
  /// (`--finetune-cooldown`).
  public var finetuneCooldown = FineTuneTrigger.defaultCooldown
  /// Seconds a `received`/`running` directive may go without a status or checkpoint from its
  /// trainer before it is `failed: interrupted` (`--directive-lease`).
  public var directiveLease = 600.0
  /// The explainer's generator, oracle and defaults.
  public var explainer = ExplainerSettings()

  /// The defaults.
  public init() {}

  /// As command-line arguments for the child process.
  var arguments: [String] {
    [
      "--faithfulness-sample", String(faithfulnessSample), "--faithfulness-every", String(faithfulnessEvery),
      "--refresh-after", String(refreshAfter), "--analysis-scheduling", analysisScheduling,
      "--finetune-cooldown", String(finetuneCooldown),
      "--directive-lease", String(directiveLease),
    ] + explainer.arguments
  }

  /// From the child's `--name value` pairs (defaults where absent).
  init(values: [String: String]) {
    faithfulnessSample = values["--faithfulness-sample"].flatMap(Int.init) ?? faithfulnessSample
    faithfulnessEvery = values["--faithfulness-every"].flatMap(Int.init) ?? faithfulnessEvery
    refreshAfter = values["--refresh-after"].flatMap(Double.init) ?? refreshAfter
    analysisScheduling = values["--analysis-scheduling"] ?? analysisScheduling
    finetuneCooldown = values["--finetune-cooldown"].flatMap(Int.init) ?? finetuneCooldown
    directiveLease = values["--directive-lease"].flatMap(Double.init) ?? directiveLease
    explainer = ExplainerSettings(values: values)
  }
}

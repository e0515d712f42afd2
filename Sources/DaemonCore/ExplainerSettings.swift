import Explainer

/// The daemon's explainer settings (`i2xd --generator/--oracle/--explain…`), passed to the
/// worker and on to each `explain` job's child process.
public struct ExplainerSettings: Sendable, Equatable {
  /// Generator file (`--generator`); nil: no explainer.
  public var generatorPath: String?
  /// The generator's description, loaded at start-up (not passed to child processes, which
  /// load the file themselves).
  public var generator: GeneratorDescription?
  /// Oracle checkpoint (`--oracle`).
  public var oraclePath: String?
  /// Policy of runs that did not choose one (`--explain`; default auto with a generator).
  public var defaultPolicy = DaemonStore.ExplainPolicy.off
  /// Samples per set (`--explain-samples`).
  public var samples = 100
  /// Guidance scale (`--explain-scale`).
  public var scale = 10.0
  /// Guided fraction of the schedule (`--explain-guided-fraction`).
  public var guidedFraction = 0.6

  /// The defaults (no generator).
  public init() {}

  /// As command-line arguments for the child process.
  var arguments: [String] {
    var out = [
      "--explain", defaultPolicy.rawValue, "--explain-samples", String(samples), "--explain-scale", String(scale),
      "--explain-guided-fraction", String(guidedFraction),
    ]
    if let generatorPath { out += ["--generator", generatorPath] }
    if let oraclePath { out += ["--oracle", oraclePath] }
    return out
  }

  /// From the child's `--name value` pairs (defaults where absent).
  init(values: [String: String]) {
    generatorPath = values["--generator"]
    oraclePath = values["--oracle"]
    defaultPolicy = values["--explain"].flatMap(DaemonStore.ExplainPolicy.init(rawValue:)) ?? defaultPolicy
    samples = values["--explain-samples"].flatMap(Int.init) ?? samples
    scale = values["--explain-scale"].flatMap(Double.init) ?? scale
    guidedFraction = values["--explain-guided-fraction"].flatMap(Double.init) ?? guidedFraction
  }
}

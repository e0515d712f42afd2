import Foundation

/// The i2x keys of a checkpoint's `__metadata__` (all values are strings in safetensors).
public struct CheckpointMetadata: Equatable, Sendable {
  /// Run name (`i2x.run`).
  public var run: String?
  /// Optimiser step (`i2x.step`).
  public var step: Int?
  /// Epoch (`i2x.epoch`).
  public var epoch: Int?
  /// Class names (`i2x.classes`, a JSON array).
  public var classes: [String]?
  /// Scalar metrics (`i2x.metrics`, a JSON object of numbers).
  public var metrics: [String: Double]

  /// Creates metadata.
  public init(
    run: String? = nil, step: Int? = nil, epoch: Int? = nil, classes: [String]? = nil,
    metrics: [String: Double] = [:]
  ) {
    self.run = run
    self.step = step
    self.epoch = epoch
    self.classes = classes
    self.metrics = metrics
  }

  /// Reads the i2x keys from a `__metadata__` map; malformed values are dropped, not fatal.
  public init(_ map: [String: String]) {
    run = map["i2x.run"]
    step = map["i2x.step"].flatMap { Int($0) }
    epoch = map["i2x.epoch"].flatMap { Int($0) }
    classes = map["i2x.classes"].flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) }
    metrics =
      map["i2x.metrics"].flatMap { try? JSONDecoder().decode([String: Double].self, from: Data($0.utf8)) } ?? [:]
  }

  /// The `__metadata__` entries (without the architecture).
  public var entries: [String: String] {
    var map: [String: String] = [:]
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    map["i2x.run"] = run
    map["i2x.step"] = step.map(String.init)
    map["i2x.epoch"] = epoch.map(String.init)
    if let classes, let data = try? encoder.encode(classes) {
      map["i2x.classes"] = String(decoding: data, as: UTF8.self)
    }
    if !metrics.isEmpty, let data = try? encoder.encode(metrics.filter { $0.value.isFinite }) {
      map["i2x.metrics"] = String(decoding: data, as: UTF8.self)
    }
    return map
  }
}

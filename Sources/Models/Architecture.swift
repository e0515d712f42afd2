import Engine
import Foundation

/// A network architecture: input shape, classes, ordered layers and the GradCAM target layer.
///
/// Stored as JSON in a checkpoint's `__metadata__["i2x.architecture"]`, so any checkpoint
/// using the supported layers loads without code.
public struct Architecture: Codable, Equatable, Sendable {
  /// Format tag written into the JSON.
  public static let format = "i2x.architecture/1"

  /// Format tag (`i2x.architecture/1`).
  public var format: String
  /// Architecture name (e.g. `smallcnn`).
  public var name: String
  /// Input shape of one image (C,H,W).
  public var input: [Int]
  /// Number of classes K.
  public var classes: Int
  /// Name of the layer whose output GradCAM explains.
  public var target: String
  /// Layers in order.
  public var layers: [LayerSpec]

  /// Creates an architecture (validate before building).
  public init(name: String, input: [Int], classes: Int, target: String, layers: [LayerSpec]) {
    self.format = Architecture.format
    self.name = name
    self.input = input
    self.classes = classes
    self.target = target
    self.layers = layers
  }

  /// Parses and validates the JSON form.
  /// - Throws: `ArchitectureError` naming what is malformed.
  public init(json: String) throws(ArchitectureError) {
    let decoded: Architecture
    do {
      decoded = try JSONDecoder().decode(Architecture.self, from: Data(json.utf8))
    } catch {
      throw ArchitectureError("architecture JSON is malformed: \(error)")
    }
    guard decoded.format == Architecture.format else {
      throw ArchitectureError(
        "architecture format '\(decoded.format)' is not supported (expected '\(Architecture.format)')")
    }
    try decoded.validate()
    self = decoded
  }

  /// Compact, key-sorted JSON (stable bytes for the same architecture).
  public func json() -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    guard let data = try? encoder.encode(self), let text = String(data: data, encoding: .utf8) else {
      preconditionFailure("an Architecture always encodes")
    }
    return text
  }

  /// Checks kinds, required fields, shape chaining, the target and the class count.
  public func validate() throws(ArchitectureError) {
    guard input.count == 3, input.allSatisfy({ $0 > 0 }) else {
      throw ArchitectureError("architecture '\(name)': input must be [C,H,W] with positive sizes, got \(input)")
    }
    guard classes > 0 else { throw ArchitectureError("architecture '\(name)': classes must be positive") }
    var generator = SplitMix64(seed: 0)
    let network = try build(generator: &generator)
    guard let out = Network.outputShape(of: network.layers, for: [1] + input), out == [1, classes] else {
      throw ArchitectureError("architecture '\(name)': output must be [N,\(classes)] logits")
    }
  }

  /// Builds the network with freshly initialised parameters (PyTorch's default init).
  public func build(seed: UInt64) throws(ArchitectureError) -> Network {
    var generator = SplitMix64(seed: seed)
    return try build(generator: &generator)
  }

  func build(generator: inout SplitMix64) throws(ArchitectureError) -> Network {
    var shape = [1] + input
    var built: [any Layer] = []
    var seen = Set<String>()
    for spec in layers {
      let layer = try LayerFactory.make(spec, generator: &generator, names: &seen)
      guard let next = layer.outputShape(for: shape) else {
        throw ArchitectureError(
          "layer '\(spec.name)' (\(spec.kind)) cannot take input of shape \(Array(shape.dropFirst()))")
      }
      shape = next
      built.append(layer)
    }
    guard let targetIndex = layers.firstIndex(where: { $0.name == target }) else {
      throw ArchitectureError(
        "target layer '\(target)' is not a layer of '\(name)' (layers: \(layers.map(\.name).joined(separator: ", ")))")
    }
    guard Network.outputShape(of: Array(built[...targetIndex]), for: [1] + input)?.count == 4 else {
      throw ArchitectureError("target layer '\(target)' must output a (N,C,h,w) feature map")
    }
    return Network(layers: built, inputShape: input, targetLayerIndex: targetIndex)
  }
}

/// A malformed or unsupported architecture description.
public struct ArchitectureError: Error, CustomStringConvertible, Equatable {
  /// What is wrong and where.
  public var description: String
  init(_ description: String) { self.description = description }
}

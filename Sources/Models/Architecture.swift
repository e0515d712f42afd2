import Checkpoints
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

  /// Parses the JSON form and validates it under `limits` (see `validate(limits:)`).
  /// - Parameters:
  ///   - json: The architecture JSON (`i2x.architecture/1`).
  ///   - limits: The caps to enforce; the defaults suit the i2x image classifiers.
  /// - Throws: `ArchitectureError` naming what is malformed or which cap is exceeded.
  public init(json: String, limits: Limits = .default) throws(ArchitectureError) {
    let depth = Self.nestingDepth(json)
    guard depth <= Self.maximumNesting else {
      throw ArchitectureError(
        "architecture JSON nests \(depth) levels deep (residual blocks inside residual blocks); at most "
          + "\(Self.maximumNesting) levels are accepted")
    }
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
    try decoded.validate(limits: limits)
    self = decoded
  }

  /// Deepest nesting of JSON objects and arrays accepted (about 60 residual levels).
  public static let maximumNesting = 128

  /// The deepest nesting of `{`/`[` outside strings (`JSONShape`), checked before the
  /// decoder, whose own limit reports only "not valid JSON".
  public static func nestingDepth(_ json: String) -> Int {
    JSONShape.measure(json.utf8).deepest
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

  /// Checks kinds, required fields, shape chaining, the target and the class count, and
  /// enforces `limits`, without building the network.
  ///
  /// A dry run over the `LayerSpec`s computes every layer's output shape and parameter count
  /// with overflow-checked arithmetic, so hostile sizes (a padding of 2⁶², a 100000×100000
  /// linear layer) are refused here instead of trapping or allocating in `build`.
  /// - Parameter limits: The caps to enforce.
  /// - Returns: The parameter count, largest activation and layer count found on the way.
  /// - Throws: `ArchitectureError` naming the layer, the offending number and the cap.
  @discardableResult
  public func validate(limits: Limits = .default) throws(ArchitectureError) -> Footprint {
    guard input.count == 3, input.allSatisfy({ $0 > 0 }) else {
      throw ArchitectureError("architecture '\(name)': input must be [C,H,W] with positive sizes, got \(input)")
    }
    if let size = input.first(where: { $0 > limits.maximumDimension }) {
      throw ArchitectureError(
        "architecture '\(name)': input \(input) has size \(size), over the \(limits.maximumDimension) cap on "
          + "any single size; resize the images")
    }
    guard classes > 0 else { throw ArchitectureError("architecture '\(name)': classes must be positive") }
    guard classes <= limits.maximumClasses else {
      throw ArchitectureError(
        "architecture '\(name)': \(classes) classes, over the \(limits.maximumClasses)-class cap; "
          + "use fewer classes or raise the cap (i2xd --max-classes)")
    }
    var walk = ShapeWalk(architecture: name, limits: limits)
    try walk.enter(input: input)
    var shapes: [[Int]] = []
    var shape = input
    for spec in layers {
      shape = try walk.walk(spec, from: shape)
      shapes.append(shape)
    }
    guard let targetIndex = layers.firstIndex(where: { $0.name == target }) else {
      throw ArchitectureError(
        "target layer '\(target)' is not a layer of '\(name)' (layers: \(layers.map(\.name).joined(separator: ", ")))")
    }
    guard shapes[targetIndex].count == 3 else {
      throw ArchitectureError("target layer '\(target)' must output a (N,C,h,w) feature map")
    }
    guard shape == [classes] else {
      throw ArchitectureError(
        "architecture '\(name)': output must be [N,\(classes)] logits, got [N,\(shape.map(String.init).joined(separator: ","))]"
      )
    }
    var footprint = walk.footprint
    footprint.targetActivationElements = ShapeWalk.product(shapes[targetIndex]) ?? .max
    return footprint
  }

  /// Builds the network with freshly initialised parameters (PyTorch's default init), after
  /// `validate(limits:)` has accepted the architecture: nothing is allocated before that.
  /// - Parameters:
  ///   - seed: Seed of the initialisation; the same seed gives the same parameters.
  ///   - limits: The caps to enforce.
  /// - Throws: `ArchitectureError` as `validate(limits:)`.
  public func build(seed: UInt64, limits: Limits = .default) throws(ArchitectureError) -> Network {
    try validate(limits: limits)
    var generator = SplitMix64(seed: seed)
    var built: [any Layer] = []
    for spec in layers { built.append(LayerFactory.make(spec, generator: &generator)) }
    guard let targetIndex = layers.firstIndex(where: { $0.name == target }) else {
      preconditionFailure("validate(limits:) accepted '\(name)' without its target layer '\(target)'")
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

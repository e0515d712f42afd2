import Checkpoints
import Engine

/// Moves a network's parameters and buffers to and from PyTorch `state_dict` tensors
/// (`conv1.weight` OIHW, `fc.weight` [out,in], `bn1.running_mean`, …).
public enum StateDict {
  /// Every parameter (F32) and buffer (F32; `num_batches_tracked` as I64, like PyTorch).
  public static func export(_ network: Network) -> [String: TensorRecord] {
    var records: [String: TensorRecord] = [:]
    for (name, parameter) in network.namedParameters {
      records[name] = TensorRecord(floats: parameter.value.scalars, shape: parameter.value.shape)
    }
    for layer in network.leafLayers {
      for (suffix, tensor) in layer.buffers {
        let name = "\(layer.name).\(suffix)"
        records[name] =
          suffix == "num_batches_tracked"
          ? TensorRecord(int64s: tensor.scalars.map { Int64($0) }, shape: tensor.shape)
          : TensorRecord(floats: tensor.scalars, shape: tensor.shape)
      }
    }
    return records
  }

  /// Loads parameters and buffers by name, strictly: every parameter must be present with its
  /// exact shape and finite values; tensors the network does not have are an error (except
  /// `prefix`-less extras listed in `ignoring`). `num_batches_tracked` is optional.
  /// - Throws: `StateDictError` naming the tensor and the rule.
  public static func load(
    _ records: [String: TensorRecord], into network: Network, ignoring: Set<String> = []
  ) throws(StateDictError) {
    try load(records, into: network.layers, ignoring: ignoring)
  }

  /// Loads parameters and buffers into a layer chain that is not a `Network` (e.g. one from
  /// `Architecture.buildChain`), by the same strict rules as `load(_:into:ignoring:)`.
  /// - Throws: `StateDictError` naming the tensor and the rule.
  public static func load(
    _ records: [String: TensorRecord], into layers: [any Layer], ignoring: Set<String> = []
  ) throws(StateDictError) {
    var expected = Set<String>()
    let leaves = Network.leafLayers(of: layers)
    for layer in leaves {
      for parameter in layer.parameters {
        let name = "\(layer.name).\(parameter.name)"
        expected.insert(name)
        parameter.value = try tensor(records, name, shape: parameter.value.shape)
      }
    }
    for layer in leaves {
      var buffers = layer.buffers
      for (suffix, current) in layer.buffers {
        let name = "\(layer.name).\(suffix)"
        expected.insert(name)
        if suffix == "num_batches_tracked" && records[name] == nil { continue }
        buffers[suffix] = try tensor(records, name, shape: current.shape)
      }
      if !buffers.isEmpty { layer.buffers = buffers }
    }
    let unexpected = Set(records.keys).subtracting(expected).subtracting(ignoring)
    if !unexpected.isEmpty {
      throw StateDictError(
        tensor: unexpected.sorted()[0],
        message:
          "checkpoint has tensors the architecture does not: \(unexpected.sorted().prefix(5).joined(separator: ", ")); is --arch right?"
      )
    }
  }

  private static func tensor(
    _ records: [String: TensorRecord], _ name: String, shape: [Int]
  ) throws(StateDictError) -> Tensor {
    guard let record = records[name] else {
      throw StateDictError(
        tensor: name,
        message: "checkpoint has no tensor '\(name)' (expected shape \(shape)); is --arch right?")
    }
    guard record.shape == shape || (shape.isEmpty && record.shape.reduce(1, *) == 1) else {
      throw StateDictError(
        tensor: name, message: "tensor '\(name)' has shape \(record.shape), the architecture needs \(shape)")
    }
    let values: [Float]
    do { values = try record.floats() } catch {
      throw StateDictError(tensor: name, message: "tensor '\(name)': \(error)")
    }
    if let bad = values.firstIndex(where: { !$0.isFinite }) {
      throw StateDictError(
        tensor: name,
        message:
          "tensor '\(name)' holds a non-finite value (\(values[bad]) at element \(bad)); the checkpoint is unusable")
    }
    return Tensor(shape: shape, scalars: values)
  }
}

/// A state dict that does not fit the network.
public struct StateDictError: Error, CustomStringConvertible, Equatable {
  /// The tensor at fault.
  public var tensor: String
  /// What is wrong and what to do.
  public var message: String
  public var description: String { message }
}

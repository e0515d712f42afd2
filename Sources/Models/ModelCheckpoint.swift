import Checkpoints
import Engine
import Foundation

/// A network with its architecture and run metadata, as one safetensors checkpoint file.
public struct ModelCheckpoint {
  /// Metadata key of the architecture JSON.
  public static let architectureKey = "i2x.architecture"

  /// The architecture the network was built from.
  public var architecture: Architecture
  /// The network holding the weights.
  public var network: Network
  /// Run, step, epoch, classes, metrics.
  public var metadata: CheckpointMetadata

  /// Wraps a network.
  public init(architecture: Architecture, network: Network, metadata: CheckpointMetadata) {
    self.architecture = architecture
    self.network = network
    self.metadata = metadata
  }

  /// Parses a checkpoint. The architecture comes from the file's metadata or, for files
  /// without i2x metadata (e.g. a PyTorch `save_file` export), from `architectureName`.
  /// - Parameter limits: Caps on the architecture, checked before the network is built.
  /// - Throws: `ModelCheckpointError`, `SafetensorsError`, `ArchitectureError` or `StateDictError`.
  public init(
    file: SafetensorsFile, architectureName: String? = nil, limits: Architecture.Limits = .default
  ) throws {
    let architecture: Architecture
    if let name = architectureName {
      guard let reference = Architecture.reference(name) else {
        throw ModelCheckpointError.unknownArchitecture(name)
      }
      architecture = reference
    } else if let json = file.metadata[Self.architectureKey] {
      architecture = try Architecture(json: json, limits: limits)
    } else {
      throw ModelCheckpointError.missingArchitecture
    }
    let network = try architecture.build(seed: 0, limits: limits)
    try StateDict.load(file.tensors, into: network)
    self.init(architecture: architecture, network: network, metadata: CheckpointMetadata(file.metadata))
  }

  /// Parses a checkpoint with a known architecture (e.g. the one its run registered).
  /// - Parameter limits: Caps on the architecture, checked before the network is built.
  /// - Throws: `ArchitectureError` or `StateDictError`.
  public init(file: SafetensorsFile, architecture: Architecture, limits: Architecture.Limits = .default) throws {
    let network = try architecture.build(seed: 0, limits: limits)
    try StateDict.load(file.tensors, into: network)
    self.init(architecture: architecture, network: network, metadata: CheckpointMetadata(file.metadata))
  }

  /// Reads and parses a checkpoint file (see `init(file:architectureName:limits:)`).
  public init(
    contentsOf url: URL, architectureName: String? = nil, limits: Architecture.Limits = .default
  ) throws {
    try self.init(
      file: try SafetensorsFile(contentsOf: url), architectureName: architectureName, limits: limits)
  }

  /// The safetensors form: state dict plus architecture and metadata.
  public var file: SafetensorsFile {
    var map = metadata.entries
    map[Self.architectureKey] = architecture.json()
    return SafetensorsFile(tensors: StateDict.export(network), metadata: map)
  }

  /// Writes the checkpoint atomically.
  public func write(to url: URL) throws { try file.write(to: url) }
}

/// A checkpoint whose architecture cannot be determined.
public enum ModelCheckpointError: Error, CustomStringConvertible, Equatable {
  /// No `i2x.architecture` metadata and no `--arch`.
  case missingArchitecture
  /// `--arch` names no built-in architecture.
  case unknownArchitecture(String)

  public var description: String {
    switch self {
    case .missingArchitecture:
      return
        "checkpoint has no i2x.architecture metadata; pass --arch with one of: \(Architecture.referenceNames.joined(separator: ", "))"
    case .unknownArchitecture(let name):
      return "unknown architecture '\(name)'; built-in: \(Architecture.referenceNames.joined(separator: ", "))"
    }
  }
}

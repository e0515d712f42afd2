import Checkpoints
import Engine
import Foundation
import Models

extension GenerativePrior {
  /// The networks' parameters by file name (`encoder.conv1.weight`, …).
  var namedParameters: [(name: String, parameter: Parameter)] {
    [("encoder", encoder), ("decoder", decoder), ("denoiser", denoiser)].flatMap { prefix, chain in
      chain.namedParameters.map { ("\(prefix).\($0.name)", $0.parameter) }
    }
  }

  /// The prior as a safetensors file.
  public var file: SafetensorsFile {
    var tensors: [String: TensorRecord] = [:]
    for (name, parameter) in namedParameters {
      tensors[name] = TensorRecord(floats: parameter.value.scalars, shape: parameter.value.shape)
    }
    tensors["latent.mean"] = TensorRecord(floats: latentMean, shape: [latent])
    tensors["latent.std"] = TensorRecord(floats: latentStd, shape: [latent])
    tensors["split.indices"] = TensorRecord(int64s: splitIndices.map(Int64.init), shape: [splitIndices.count])
    if !concepts.isEmpty {
      tensors["concepts.centres"] = TensorRecord(floats: concepts, shape: [conceptCount, latent])
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let json = (try? encoder.encode(description)).flatMap { String(data: $0, encoding: .utf8) } ?? "{}"
    return SafetensorsFile(tensors: tensors, metadata: [Self.metadataKey: json])
  }

  /// Writes the prior atomically.
  public func write(to url: URL) throws { try file.write(to: url) }

  /// Loads a prior written by `write(to:)`, strictly: the description must validate, every
  /// parameter must be present with its shape and finite values, the split hash must match
  /// the stored indices, and nothing else may be in the file.
  /// - Throws: `GeneratorError` saying what is wrong with the file.
  public convenience init(contentsOf url: URL) throws {
    let file: SafetensorsFile
    do {
      file = try SafetensorsFile(contentsOf: url)
    } catch {
      throw GeneratorError("cannot read generator \(url.path): \(error)")
    }
    try self.init(file: file, source: url.path)
  }

  /// Loads a prior from a parsed file (see `init(contentsOf:)`); `source` names it in errors.
  public convenience init(file: SafetensorsFile, source: String) throws {
    guard let json = file.metadata[Self.metadataKey], let data = json.data(using: .utf8) else {
      throw GeneratorError(
        "\(source) is not a generator file (no '\(Self.metadataKey)' metadata); make one with i2x-train generator")
    }
    let description: GeneratorDescription
    do {
      description = try JSONDecoder().decode(GeneratorDescription.self, from: data)
    } catch {
      throw GeneratorError("\(source): unreadable generator description: \(error)")
    }
    func floats(_ name: String, count: Int) throws -> [Float] {
      guard let record = file.tensors[name] else { throw GeneratorError("\(source): tensor '\(name)' is missing") }
      let values = try record.floats()
      guard values.count == count, record.shape.reduce(1, *) == count, values.allSatisfy(\.isFinite) else {
        throw GeneratorError("\(source): tensor '\(name)' must hold \(count) finite values, shape \(record.shape)")
      }
      return values
    }
    guard let indexRecord = file.tensors["split.indices"] else {
      throw GeneratorError("\(source): tensor 'split.indices' is missing")
    }
    let indices = try indexRecord.int64s().map(Int.init)
    guard indices.count == description.split.count, Self.splitHash(indices) == description.split.sha256 else {
      throw GeneratorError("\(source): the split indices do not match the recorded split hash; the file is damaged")
    }
    try self.init(description: description, splitIndices: indices)
    var expected: Set<String> = ["latent.mean", "latent.std", "split.indices"]
    for (name, parameter) in namedParameters {
      expected.insert(name)
      let values = try floats(name, count: parameter.value.count)
      parameter.value = Tensor(shape: parameter.value.shape, scalars: values)
    }
    latentMean = try floats("latent.mean", count: latent)
    latentStd = try floats("latent.std", count: latent)
    guard latentStd.allSatisfy({ $0 > 0 }) else { throw GeneratorError("\(source): latent.std must be positive") }
    if let record = file.tensors["concepts.centres"] {
      expected.insert("concepts.centres")
      guard record.shape.count == 2, record.shape[1] == latent, record.shape[0] >= 1, record.shape[0] <= 4096 else {
        throw GeneratorError("\(source): concepts.centres must be (K,\(latent)), got \(record.shape)")
      }
      concepts = try floats("concepts.centres", count: record.shape[0] * latent)
    }
    let extra = Set(file.tensors.keys).subtracting(expected)
    guard extra.isEmpty else {
      throw GeneratorError("\(source): unexpected tensors \(extra.sorted().prefix(5).joined(separator: ", "))")
    }
  }
}

import Checkpoints
import Engine
import Foundation
import Imaging
import Models
import Testing

@testable import Explainer

@Suite struct GeneratorFileTests {
  func temporaryURL() -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("i2x-generator-\(UUID().uuidString).safetensors")
  }

  @Test func roundTripsEveryTensorAndTheDescription() throws {
    let prior = try TinyPrior.prior()
    prior.latentMean = (0..<prior.latent).map { Float($0) }
    prior.description.training = ["vae_loss": 12.5]
    let url = temporaryURL()
    defer { try? FileManager.default.removeItem(at: url) }
    try prior.write(to: url)
    let loaded = try GenerativePrior(contentsOf: url)
    #expect(loaded.description == prior.description)
    #expect(loaded.latentMean == prior.latentMean && loaded.splitIndices == prior.splitIndices)
    for ((name, a), (_, b)) in zip(prior.namedParameters, loaded.namedParameters) {
      #expect(a.value == b.value, "\(name)")
    }
    var random = SplitMix64(seed: 1)
    let z = Tensor.normal(shape: [2, prior.latent], using: &random)
    #expect(prior.decode(z) == loaded.decode(z))
  }

  @Test func refusesDamagedOrForeignFiles() throws {
    let prior = try TinyPrior.prior()
    var file = prior.file
    file.tensors["split.indices"] = TensorRecord(int64s: [9, 9], shape: [2])
    #expect(throws: GeneratorError.self) { try GenerativePrior(file: file, source: "damaged") }

    file = prior.file
    file.tensors["extra"] = TensorRecord(floats: [1], shape: [1])
    #expect(throws: GeneratorError.self) { try GenerativePrior(file: file, source: "extra") }

    file = prior.file
    file.tensors["latent.std"] = TensorRecord(
      floats: [Float](repeating: .nan, count: prior.latent), shape: [prior.latent])
    #expect(throws: GeneratorError.self) { try GenerativePrior(file: file, source: "nan") }

    #expect(throws: GeneratorError.self) {
      try GenerativePrior(file: SafetensorsFile(tensors: [:], metadata: [:]), source: "a checkpoint")
    }
    var description = TinyPrior.description()
    description.format = "i2x.generator/0"
    #expect(throws: GeneratorError.self) { try GenerativePrior(description: description, splitIndices: Array(0..<20)) }
  }

  @Test func gridPlacesTilesWithGaps() {
    // Two 1×2 grey images, scale 2, one row: width 2·(4+2)+2 = 14, height 2+2·2 = 6.
    let grid = ImageGrid(values: [0, 1, 1, 0], count: 2, channels: 1, height: 1, width: 2, columns: 2, scale: 2).image()
    #expect(grid.width == 14 && grid.height == 6)
    func pixel(_ x: Int, _ y: Int) -> UInt8 { grid.pixels[(y * grid.width + x) * 3] }
    #expect(pixel(0, 0) == 255)  // border
    #expect(pixel(2, 2) == 0 && pixel(3, 3) == 0 && pixel(4, 2) == 255)  // first image: black then white
    #expect(pixel(8, 2) == 255 && pixel(10, 2) == 0)  // second image: white then black
  }
}

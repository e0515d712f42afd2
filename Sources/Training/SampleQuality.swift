import Datasets
import Engine
import Explainer
import Foundation

/// Sample quality of a generative prior as one number (issue 8): the Fréchet distance, in an
/// oracle's penultimate features, between 1,000 unguided samples and 1,000 real images of
/// the generator split, next to the same distance between two disjoint sets of 1,000 real
/// generator-split images (what "as good as real data" looks like at this sample size).
struct SampleQuality: Codable {
  var schemaVersion = 2
  var samples: Int
  var distanceSamplesReal: Double
  var distanceRealReal: Double
  var featureWidth: Int
  var seconds: Double

  enum CodingKeys: String, CodingKey {
    case samples, seconds
    case schemaVersion = "schema_version"
    case distanceSamplesReal = "frechet_samples_vs_real"
    case distanceRealReal = "frechet_real_vs_real"
    case featureWidth = "feature_width"
  }

  static func measure(prior: GenerativePrior, oracle: Network, real: LabeledImages, log: (String) -> Void) throws
    -> SampleQuality
  {
    let clock = ContinuousClock()
    let start = clock.now
    let indices = prior.splitIndices
    let per = min(1000, indices.count / 2)
    guard per >= 100 else { throw TrainingError("the generator split is too small for a Fréchet distance") }
    guard indices.allSatisfy({ $0 < real.count }) else {
      throw TrainingError("the generator's split indices do not fit dataset '\(prior.description.dataset)'")
    }
    func tensor(_ chosen: [Int]) -> Tensor {
      Tensor(shape: [chosen.count] + prior.image, scalars: real.batchFloats(chosen))
    }
    log("sampling \(per) unguided images for the Fréchet distance")
    let samples = DDIMSampler(prior: prior).sample(count: per, seed: 7).images
    let a = ClassExplainer.penultimateFeatures(oracle, samples)
    let b = ClassExplainer.penultimateFeatures(oracle, tensor(Array(indices[0..<per])))
    let c = ClassExplainer.penultimateFeatures(oracle, tensor(Array(indices[per..<(2 * per)])))
    let elapsed = clock.now - start
    return SampleQuality(
      samples: per, distanceSamplesReal: FrechetDistance.distance(a.values, b.values, dimension: a.width),
      distanceRealReal: FrechetDistance.distance(b.values, c.values, dimension: b.width), featureWidth: a.width,
      seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
  }

  static func json(_ quality: SampleQuality) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(quality), as: UTF8.self)
  }
}

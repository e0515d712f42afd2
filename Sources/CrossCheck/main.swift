// i2x-crosscheck: runs one of our statistical algorithms on data given as JSON on stdin and
// prints the result as JSON, so scripts/crosscheck-sklearn.py can compare it with
// scikit-learn. Not a user tool; thin wiring over the Prototypes library.
import CLI
import Explainer
import Foundation
import Prototypes

struct Request: Decodable {
  var algorithm: String
  var x: [Double]
  var y: [Double]?
  var rows: Int
  var columns: Int
  var targets: Int?
  var lambdas: [Double]?
  var foldSeed: UInt64?
  var clusters: Int?
  var seed: UInt64?
  var minimumClusterSize: Int?
  var minimumSamples: Int?
  var rowsY: Int?
  var steps: Int?
}

func run() throws -> [String: Any] {
  let request = try JSONDecoder().decode(Request.self, from: FileHandle.standardInput.readDataToEndOfFile())
  switch request.algorithm {
  case "ridge":
    let q = request.targets ?? 1
    let lambdas = request.lambdas ?? RidgeCoupling.lambdas
    let seed = request.foldSeed ?? 1
    let scores = RidgeCoupling.crossValidatedR2(
      x: request.x, y: request.y ?? [], rows: request.rows, predictors: request.columns, targets: q, lambdas: lambdas,
      foldSeed: seed)
    return ["r2": scores, "lambdas": lambdas, "fold_order": RidgeCoupling.foldOrder(request.rows, seed: seed)]
  case "kmeans":
    let fit = KMeans(
      fitting: request.x, rows: request.rows, columns: request.columns, clusters: request.clusters ?? 2, restarts: 3,
      seed: request.seed ?? 1)
    return ["inertia": fit.inertia, "labels": fit.assignments]
  case "hdbscan":
    let fit = HDBSCAN(
      points: request.x, rows: request.rows, columns: request.columns,
      minimumClusterSize: request.minimumClusterSize ?? 15, minimumSamples: request.minimumSamples ?? 5)
    return ["labels": fit.labels, "clusters": fit.clusterCount]
  case "frechet":
    // x: rows × columns, y: rowsY × columns.
    return ["distance": FrechetDistance.distance(request.x, request.y ?? [], dimension: request.columns)]
  case "schedule":
    let schedule = NoiseSchedule(cosineSteps: request.steps ?? 1000)
    return ["alpha_bar": schedule.alphaBar, "ddim_steps": schedule.samplingSteps(50)]
  default:
    throw UsageError(
      "unknown algorithm '\(request.algorithm)'; use ridge, kmeans, hdbscan, frechet or schedule", hint: "")
  }
}

do {
  let data = try JSONSerialization.data(withJSONObject: try run(), options: [.sortedKeys])
  FileDescriptorOutput.writeStandardOutput(String(decoding: data, as: UTF8.self) + "\n")
} catch {
  FileDescriptorOutput.writeStandardError("i2x-crosscheck: \(error)\n")
  exit(ExitCode.usage.rawValue)
}

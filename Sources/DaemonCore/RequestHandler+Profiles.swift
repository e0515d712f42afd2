import Checkpoints
import Foundation
import Prototypes
import Wire

/// The `profiles` query (the report's attention heat maps): every class's attention profile
/// π̄_c[k] = mean over the class's probes of P_ik at sampled checkpoints, all under ONE
/// vocabulary — the one fitted at the asked step (default: the latest) — recomputed from the
/// cached GradCAM maps, as I2X's retrospective view defines it. So a prototype keeps its row
/// across checkpoints, which the per-checkpoint reports (each under its own refit) cannot give.
extension RequestHandler {
  /// The fields of a `profiles` query beyond `QueryHeader`'s.
  struct ProfilesQuery: Decodable {
    /// At most this many checkpoints, evenly spaced, first and last included (default 40, cap 400).
    var limit: Int?
  }

  /// `run`, `step` (of the vocabulary), `prototype_ids`, `steps` and `profiles`
  /// (checkpoint × class × prototype, in `prototype_ids` order).
  func profilesQuery(_ message: WireMessage) throws -> [String: Any] {
    let header = try message.decode(QueryHeader.self)
    let limit = min(max(try message.decode(ProfilesQuery.self).limit ?? 40, 2), 400)
    guard let run = header.run, try store.runExists(run) else {
      throw DaemonError(.unknownRun, "no run named '\(header.run ?? "")'; 'i2x runs' lists the runs")
    }
    let rows =
      if let step = header.step {
        try store.database.query(
          "SELECT document, step FROM vocabularies WHERE run = ? AND step <= ? ORDER BY step DESC, id DESC LIMIT 1",
          [.text(run), .integer(Int64(step))])
      } else {
        try store.database.query(
          "SELECT document, step FROM vocabularies WHERE run = ? ORDER BY id DESC LIMIT 1", [.text(run)])
      }
    guard let text = rows.first?[0].string, let probe = try store.probe(run: run) else {
      throw DaemonError(.notReady, "run '\(run)' has no vocabulary yet; profiles follow the analysis")
    }
    let vocabulary = try JSONDecoder().decode(Vocabulary.self, from: Data(text.utf8))
    let upTo = header.step ?? Int.max
    let observed = try store.database.query(
      "SELECT step, sha256 FROM observations WHERE run = ? AND step <= ? ORDER BY step",
      [.text(run), .integer(Int64(min(upTo, Int(Int64.max))))])
    let picked = Self.evenlySpaced(count: observed.count, most: limit).map { observed[$0] }
    let classes = probe.classes.count
    let members = (0..<classes).map { c in probe.labels.indices.filter { probe.labels[$0] == c } }
    var steps: [Int] = []
    var profiles: [[[Double]]] = []
    for row in picked {
      guard let sha = row[1].string, let step = row[0].int else { continue }
      let observation = try CheckpointObservation(file: try SafetensorsFile(bytes: try store.blobs.get(sha)))
      // A vocabulary assigns the cells of every probe; an observation of another probe set cannot use it.
      guard observation.isFinite, observation.count * observation.cells == vocabulary.cellPrototypes.count else {
        continue
      }
      let k = vocabulary.ids.count
      let intensity = vocabulary.intensities(observation).intensity
      profiles.append(
        members.map { rows in
          guard !rows.isEmpty else { return [Double](repeating: 0, count: k) }
          var sums = [Double](repeating: 0, count: k)
          for i in rows { for p in 0..<k { sums[p] += intensity[i * k + p] } }
          return sums.map { $0 / Double(rows.count) }
        })
      steps.append(step)
    }
    return [
      "run": run, "step": rows.first?[1].int ?? 0, "prototype_ids": vocabulary.ids, "steps": steps,
      "profiles": profiles, "class_names": probe.classes,
    ]
  }

  /// At most `most` indices of `0..<count`, evenly spaced, first and last included.
  static func evenlySpaced(count: Int, most: Int) -> [Int] {
    guard count > most else { return Array(0..<count) }
    return Array(Set((0..<most).map { Int((Double($0) * Double(count - 1) / Double(most - 1)).rounded()) })).sorted()
  }
}

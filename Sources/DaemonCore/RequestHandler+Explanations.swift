import Explainer
import Foundation
import Models
import Wire

/// The explainer over the wire (DESIGN §8): the `explain` and `set-explain-policy` commands and
/// the `explanations` and `explanation-image` queries.
extension RequestHandler {
  /// `i2x explain RUN --class C [--checkpoint S]`, `i2x concepts RUN --class C`,
  /// `i2x counterfactual RUN --probe I --to C` and `i2x prototypes RUN --data-free` (every class,
  /// default: the latest analysed checkpoint): queues the work (or returns the request already
  /// queued, running or done for the same class, checkpoint, probe and target).
  func explainCommand(_ header: CommandHeader, kind: String = "explain") throws -> [String: Any] {
    let run = header.run
    guard let policy = try store.explainPolicy(run: run, default: explainer.defaultPolicy) else {
      throw DaemonError(.unknownRun, "no run named '\(run)'; 'i2x runs' lists the runs")
    }
    guard let generator = explainer.generator, explainer.generatorPath != nil else {
      throw DaemonError(
        .notReady, "this daemon has no generator; start i2xd with --generator FILE (made by i2x-train generator)")
    }
    guard policy != .off else {
      throw DaemonError(
        .conflict, "run '\(run)' has explain policy 'off'; 'i2x policy \(run) --explain manual' allows explanations")
    }
    let names = try store.classNames(run: run)
    func resolve(_ text: String) throws -> Int {
      guard let index = names.firstIndex(of: text) ?? Int(text).flatMap({ names.indices.contains($0) ? $0 : nil })
      else {
        throw DaemonError(
          .badData,
          "'\(text)' is not a class of run '\(run)'; classes: \(names.joined(separator: ", ")) (or 0–\(names.count - 1))"
        )
      }
      return index
    }
    var classIndex = 0
    var target: Int?
    var probe: Int?
    if kind == "prototypes" {
      classIndex = DaemonStore.everyClass
    } else if kind == "counterfactual" {
      guard let index = header.probe, let to = header.target else {
        throw DaemonError(.badData, "counterfactual needs --probe I (an index into the probe set) and --to C")
      }
      guard let labels = try store.probe(run: run)?.labels, labels.indices.contains(index) else {
        throw DaemonError(.badData, "run '\(run)' has no probe image \(index)")
      }
      classIndex = labels[index]
      let resolved = try resolve(to)
      guard resolved != classIndex else {
        throw DaemonError(
          .badData, "probe image \(index) is already of class \(names[classIndex]); choose another --to")
      }
      target = resolved
      probe = index
    } else {
      guard let text = header.className else {
        throw DaemonError(.badData, "\(kind) needs --class C (a name or an index)")
      }
      classIndex = try resolve(text)
    }
    let checkpoints = try store.checkpoints(run: run)
    let step: Int
    if kind == "prototypes" {
      // Data-free prototypes compare with a checkpoint's analysis: default the latest analysed one.
      let observed = try store.observedSteps(run: run)
      guard let chosen = header.step ?? observed.last else {
        throw DaemonError(
          .notReady, "run '\(run)' has no analysed checkpoint yet; data-free prototypes follow the analysis")
      }
      guard observed.contains(chosen) else {
        throw DaemonError(
          .notReady,
          "checkpoint \(chosen) of run '\(run)' is not analysed yet; 'i2x checkpoints \(run)' lists the analysed ones")
      }
      step = chosen
    } else {
      guard let chosen = header.step ?? checkpoints.last?.step else {
        throw DaemonError(.notReady, "run '\(run)' has no checkpoint yet")
      }
      step = chosen
    }
    guard checkpoints.contains(where: { $0.step == step }) else {
      throw DaemonError(.badData, "run '\(run)' has no checkpoint at step \(step); 'i2x checkpoints \(run)' lists them")
    }
    guard
      let architectureJSON = try store.database.query("SELECT architecture FROM runs WHERE name = ?", [.text(run)])
        .first?.first?.string
    else { throw DaemonError(.unknownRun, "no run named '\(run)'") }
    let architecture = try Architecture(json: architectureJSON, limits: CheckpointAnalyzer.permissive)
    let data = try store.runData(run: run)
    _ = try ExplainJob.check(generator, architecture: architecture, dataset: data.dataset, split: data.generatorSplit)
    let request = try store.requestExplanation(
      run: run, classIndex: classIndex, step: step, source: "client", kind: kind, target: target, probe: probe)
    if request.created {
      log("run '\(run)': \(kind) \(request.record.id) of \(request.record.subject) at step \(step) queued (client)")
      onStored()
    }
    return ["explanation": Self.explanationJSON(request.record, names: names), "created": request.created]
  }

  /// `i2x policy RUN --explain POLICY`.
  func setExplainPolicyCommand(_ header: CommandHeader) throws -> [String: Any] {
    guard let previous = try store.explainPolicy(run: header.run, default: explainer.defaultPolicy) else {
      throw DaemonError(.unknownRun, "no run named '\(header.run)'; 'i2x runs' lists the runs")
    }
    guard let text = header.policy, let policy = DaemonStore.ExplainPolicy(rawValue: text) else {
      throw DaemonError(.badData, "set-explain-policy needs a policy: auto, manual or off")
    }
    try store.setExplainPolicy(run: header.run, policy)
    log("run '\(header.run)': explain policy \(previous.rawValue) → \(policy.rawValue)")
    return ["explain_policy": policy.rawValue, "previous_explain_policy": previous.rawValue]
  }

  /// The `explanations` query: the run's explanations (optionally of one class), newest last.
  func explanationsQuery(_ header: QueryHeader) throws -> [String: Any] {
    guard let run = header.run,
      let policy = try store.explainPolicy(run: run, default: explainer.defaultPolicy)
    else {
      throw DaemonError(.unknownRun, "no run named '\(header.run ?? "")'; 'i2x runs' lists the runs")
    }
    let names = try store.classNames(run: run)
    var answer: [String: Any] = [
      "run": run, "explain_policy": policy.rawValue, "data_free": ClassExplanation.dataFreeStatement,
      "explanations": try store.explanations(run: run, classIndex: header.classIndex).map {
        Self.explanationJSON($0, names: names)
      },
    ]
    if let generator = explainer.generator {
      answer["generator"] =
        [
          "dataset": generator.dataset, "image": generator.image, "latent": generator.latent,
          "split_sha256": generator.split.sha256, "split_count": generator.split.count, "seed": generator.seed,
        ] as [String: Any]
    }
    return answer
  }

  /// The `explanation-image` query's reply: one PNG of an explanation as the payload.
  func explanationImage(_ header: QueryHeader) throws -> WireMessage {
    guard let run = header.run, let id = header.explanation, let record = try store.explanation(id: id),
      record.run == run
    else {
      throw DaemonError(.unknownRun, "run '\(header.run ?? "")' has no explanation \(header.explanation ?? -1)")
    }
    let name = header.image ?? "guided"
    guard let sha = record.images[name] else {
      throw DaemonError(
        .notReady,
        "explanation \(id) has no '\(name)' image (state \(record.state); images: \(record.images.keys.sorted().joined(separator: ", ")))"
      )
    }
    let answer: [String: Any] = [
      "schema_version": Self.schemaVersion, "query": "explanation-image", "run": run, "explanation": id, "image": name,
    ]
    let data = try JSONSerialization.data(withJSONObject: answer, options: [.sortedKeys])
    return WireMessage(type: .reply, headerBytes: [UInt8](data), payload: try store.blobs.get(sha))
  }

  /// An explanation row as JSON (snake_case keys).
  static func explanationJSON(_ record: DaemonStore.ExplanationRecord, names: [String]) -> [String: Any] {
    var row: [String: Any] = [
      "id": record.id, "job": record.job, "kind": record.kind, "class": record.classIndex, "step": record.step,
      "source": record.source,
      "state": record.state,
      "warnings": record.warnings, "images": record.images.keys.sorted(), "created_at": record.createdAt,
      "updated_at": record.updatedAt,
    ]
    if names.indices.contains(record.classIndex) { row["class_name"] = names[record.classIndex] }
    if let error = record.error { row["error"] = error }
    if let target = record.target {
      row["target"] = target
      if names.indices.contains(target) { row["target_name"] = names[target] }
    }
    if let probe = record.probe { row["probe"] = probe }
    if let document = record.document, let parsed = try? JSONSerialization.jsonObject(with: Data(document.utf8)) {
      row["explanation"] = parsed
    }
    return row
  }
}

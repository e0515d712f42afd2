import Charts
import Foundation

extension ReportPage {
  /// Deletion and insertion AUC of GradCAM against a random pixel order, per checkpoint.
  func faithfulnessSection() -> String {
    guard case .success(let analysis) = inputs.analysis else { return absent("faithfulness: \(analysisReason())") }
    let rows = analysis.report.faithfulness
    guard !rows.isEmpty else { return absent("faithfulness: no checkpoint has been measured yet") }
    let x = rows.map { Double($0.step) }
    let (deletion, insertion) = (SeriesStyle.colours[3], SeriesStyle.colours[4])
    var chart = LineChart(
      title: "Deletion and insertion AUC: GradCAM vs random order", xLabel: "training step",
      yLabel: "area under the curve",
      series: [
        .init(
          name: "deletion, GradCAM", points: zip(x, rows.map(\.deletion)).map { ($0, $1) }, colour: deletion, dash: ""),
        .init(
          name: "deletion, random", points: zip(x, rows.map(\.randomDeletion)).map { ($0, $1) }, colour: deletion,
          dash: "5 3"),
        .init(
          name: "insertion, GradCAM", points: zip(x, rows.map(\.insertion)).map { ($0, $1) }, colour: insertion,
          dash: ""),
        .init(
          name: "insertion, random", points: zip(x, rows.map(\.randomInsertion)).map { ($0, $1) }, colour: insertion,
          dash: "5 3"),
      ], yRange: (0, 1))
    chart.bands = fineTuneBands()
    let latest = rows[rows.count - 1]
    return figure(
      chart.svg(),
      caption:
        "RISE protocol on a probe subsample: <b>deletion</b> removes the pixels GradCAM ranks highest first and "
        + "tracks the true-class probability (lower area = the map found what matters); <b>insertion</b> adds them "
        + "to a blurred image (higher area = better). Dashed lines use a random pixel order: GradCAM is faithful "
        + "only where its solid line is below the dashed one for deletion and above it for insertion. Latest (step "
        + "\(latest.step)): deletion \(Self.fixed(latest.deletion)) vs \(Self.fixed(latest.randomDeletion)) random, "
        + "insertion \(Self.fixed(latest.insertion)) vs \(Self.fixed(latest.randomInsertion)).")
  }

  /// Data-free explanations: scores, guided/prior/randomised samples, concepts and counterfactuals.
  func explainerSection() -> String {
    let reply: [String: Any]
    switch inputs.explanations {
    case .failure(let absence): return absent("explainer: \(absence.reason)")
    case .success(let value): reply = value
    }
    var out = ""
    if let generator = reply["generator"] as? [String: Any] {
      out +=
        "<p>Generative prior: dataset \(esc(generator["dataset"] as? String ?? "?")), latent "
        + "\(generator["latent"] as? Int ?? 0), trained on a held-out split of \(generator["split_count"] as? Int ?? 0) "
        + "images.</p>"
    } else {
      out += "<p>This daemon runs without a generator (<code>i2xd --generator FILE</code> enables explanations).</p>"
    }
    var rows = reply["explanations"] as? [[String: Any]] ?? []
    if let step = inputs.requestedStep { rows = rows.filter { ($0["step"] as? Int ?? 0) <= step } }
    if rows.isEmpty {
      out += "<p>No explanations for this run (policy \(esc(reply["explain_policy"] as? String ?? "?")); "
      out += "<code>i2x explain \(esc(inputs.run)) --class C</code> asks for one).</p>"
    }
    if rows.contains(where: { $0["state"] as? String == "done" }), let statement = reply["data_free"] as? String {
      out += "<p>\(esc(statement))</p>"
    }
    var concepts = false
    var counterfactuals = false
    for row in rows {
      let id = row["id"] as? Int ?? 0
      let name = row["class_name"] as? String ?? "class \(row["class"] as? Int ?? 0)"
      let state = row["state"] as? String ?? "?"
      out += "<h3 id=\"explanation-\(id)\">\(esc(name)) at step \(row["step"] as? Int ?? 0) (explanation \(id))</h3>"
      guard state == "done", let document = row["explanation"] as? [String: Any] else {
        out +=
          state == "failed"
          ? absent("explanation \(id) failed: \(row["error"] as? String ?? "no reason recorded")")
          : "<p>State: \(esc(state)).</p>"
        continue
      }
      for key in ["concepts", "counterfactuals"] {
        guard let part = document[key],
          let data = try? JSONSerialization.data(withJSONObject: part, options: [.prettyPrinted, .sortedKeys])
        else { continue }
        if key == "concepts" { concepts = true } else { counterfactuals = true }
        out +=
          "<details><summary>\(key) (as measured)</summary><pre>\(esc(String(decoding: data, as: UTF8.self)))</pre></details>"
      }
      func rate(_ key: String) -> String {
        guard let p = document[key] as? [String: Any], let r = p["rate"] as? Double else { return "-" }
        return
          "\(Self.percent(r)) [\(Self.percent(p["low"] as? Double ?? 0)), \(Self.percent(p["high"] as? Double ?? 0))]"
      }
      let sanity = document["sanity"] as? [String: Any]
      out += "<table><tr><th>activation (guided)</th><th>prior (unguided)</th><th>oracle (guided)</th>"
      out += "<th>oracle (unguided)</th><th>sanity check</th></tr><tr><td>\(rate("activation"))</td>"
      out += "<td>\(rate("prior_activation"))</td><td>\(rate("oracle"))</td><td>\(rate("oracle_prior"))</td>"
      out += "<td>\((sanity?["passed"] as? Bool).map { $0 ? "passed" : "<b>failed</b>" } ?? "-")</td></tr></table>"
      for verdict in document["verdicts"] as? [String] ?? [] { out += "<p>\(esc(verdict))</p>" }
      for warning in row["warnings"] as? [String] ?? [] { out += "<p class=\"absent\">Warning: \(esc(warning))</p>" }
      var images = ""
      let captions = [
        "guided": "guided samples (what drives \(name))", "prior": "unguided samples of the prior",
        "randomized": "guided by a randomised model (sanity check)",
      ]
      for image in ["guided", "prior", "randomized"] {
        guard let bytes = inputs.explanationImages[id]?[image] else { continue }
        images += figure(
          self.image(bytes: bytes, alt: "\(image) samples of \(name)"), caption: esc(captions[image] ?? image))
      }
      if images.isEmpty {
        out += absent("the samples of explanation \(id): the daemon sent no images")
      } else {
        out += "<div class=\"gallery\">\(images)</div>"
        out +=
          "<p class=\"caption\">How to read: the activation score is the share of guided samples the classifier "
          + "calls \(esc(name)); the prior's is the same share without guidance; the oracle is an independent "
          + "classifier judging the same samples. High activation with a low oracle score means the classifier is "
          + "convinced by evidence a second model does not see (off-manifold or non-robust). The randomised-model "
          + "samples must look different from the guided ones, or the explanation does not depend on the model.</p>"
      }
    }
    if !concepts {
      out += absent(
        "concepts: this daemon's explainer does not run concept discovery (DESIGN §8), so no concept is shown")
    }
    if !counterfactuals {
      out += absent("counterfactual pairs: this daemon's explainer does not make counterfactuals (DESIGN §8)")
    }
    return out
  }
}

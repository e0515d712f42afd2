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
      let name =
        row["class"] as? Int == ClientCommands.everyClass
        ? "Every class" : row["class_name"] as? String ?? "class \(row["class"] as? Int ?? 0)"
      let state = row["state"] as? String ?? "?"
      let kind = row["kind"] as? String ?? "explain"
      let title = kind == "explain" ? "explanation" : kind
      out +=
        "<h3 id=\"explanation-\(id)\">\(esc(name)) at step \(row["step"] as? Int ?? 0) (\(title) \(id))</h3>"
      guard state == "done", let document = row["explanation"] as? [String: Any] else {
        out +=
          state == "failed"
          ? absent("explanation \(id) failed: \(row["error"] as? String ?? "no reason recorded")")
          : "<p>State: \(esc(state)).</p>"
        continue
      }
      switch row["kind"] as? String {
      case "concepts":
        concepts = true
        out += conceptsHTML(row, document: document, id: id, name: name)
        continue
      case "prototypes":
        out += dataFreePrototypesHTML(document)
        continue
      case "counterfactual":
        counterfactuals = true
        out += counterfactualHTML(row, document: document, id: id, name: name)
        continue
      default: break
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
        "concepts: no concept search has finished for this run ('i2x concepts \(inputs.run) --class C' asks for one)")
    }
    if !counterfactuals {
      out += absent(
        "counterfactual pairs: none has finished for this run ('i2x counterfactual \(inputs.run) --probe I --to C')")
    }
    return out
  }

  /// A concept search: each run's concepts and scores, with and without the pseudo-label loss,
  /// and the decoded concept images.
  func conceptsHTML(_ row: [String: Any], document: [String: Any], id: Int, name: String) -> String {
    func rate(_ object: Any?) -> String {
      guard let p = object as? [String: Any], let r = p["rate"] as? Double else { return "-" }
      return
        "\(Self.percent(r)) [\(Self.percent(p["low"] as? Double ?? 0)), \(Self.percent(p["high"] as? Double ?? 0))]"
    }
    var out = "<table><tr><th>search</th><th>run</th><th>concepts</th><th>activation</th><th>oracle</th></tr>"
    for (key, title) in [("with_pseudo_labels", "with pseudo-labels"), ("without_pseudo_labels", "ablation: without")] {
      for (index, run) in (document[key] as? [[String: Any]] ?? []).enumerated() {
        let ids = (run["concepts"] as? [Int] ?? []).map(String.init).joined(separator: " ")
        out +=
          "<tr><td>\(title)</td><td>\(index + 1)</td><td>\(ids)</td><td>\(rate(run["activation"]))</td>"
          + "<td>\(rate(run["oracle"]))</td></tr>"
      }
    }
    out += "</table>"
    var images = ""
    for image in (inputs.explanationImages[id] ?? [:]).keys.sorted() {
      guard let bytes = inputs.explanationImages[id]?[image] else { continue }
      images += figure(self.image(bytes: bytes, alt: "\(image) of \(name)"), caption: esc("\(image): decoded concepts"))
    }
    out += images.isEmpty ? absent("the concept images of search \(id)") : "<div class=\"gallery\">\(images)</div>"
    out +=
      "<p class=\"caption\">How to read: each run lets four slots choose concepts of the prior's codebook so that "
      + "the decoded mean of their latents is called \(esc(name)); the activation is the classifier's share of 100 "
      + "decoded draws, the oracle's share beside it. The ablation runs the same search without DEXTER's "
      + "pseudo-label loss.</p>"
    return out
  }

  /// A counterfactual: original, generative edit and PGD example, with the outcome.
  /// A data-free prototypes result: per class the profile cosine and its control, then the
  /// two vocabularies' nearest-prototype accuracies.
  func dataFreePrototypesHTML(_ document: [String: Any]) -> String {
    let names = document["class_names"] as? [String] ?? []
    let others = document["profile_cosine_other_classes"] as? [Double] ?? []
    var out = "<table><tr><th>class</th><th>profile cosine (guided samples vs probe images)</th>"
    out += "<th>control: other classes' probe profiles</th></tr>"
    for (c, cosine) in (document["profile_cosine"] as? [Double] ?? []).enumerated() {
      let name = names.indices.contains(c) ? names[c] : "class \(c)"
      let control = others.indices.contains(c) ? String(format: "%.3f", others[c]) : "-"
      out += "<tr><td>\(esc(name))</td><td>\(String(format: "%.3f", cosine))</td><td>\(control)</td></tr>"
    }
    out += "</table>"
    func rate(_ key: String) -> String {
      guard let p = document[key] as? [String: Any], let r = p["rate"] as? Double else { return "-" }
      return
        "\(Self.percent(r)) [\(Self.percent(p["low"] as? Double ?? 0)), \(Self.percent(p["high"] as? Double ?? 0))]"
    }
    out += "<p>Nearest-prototype accuracy on the probe images: synthetic vocabulary "
    out += "\(rate("accuracy_synthetic_vocabulary")), the run's vocabulary \(rate("accuracy_data_vocabulary")) "
    out += "(chance \(Self.percent(document["chance"] as? Double ?? 0))).</p>"
    if let statement = document["data_free"] as? String { out += "<p>\(esc(statement))</p>" }
    return out
  }

  func counterfactualHTML(_ row: [String: Any], document: [String: Any], id: Int, name: String) -> String {
    let o = document["outcome"] as? [String: Any] ?? [:]
    func yes(_ key: String) -> String { (o[key] as? Bool).map { $0 ? "yes" : "no" } ?? "-" }
    func number(_ key: String) -> String { (o[key] as? Double).map { String(format: "%.3f", $0) } ?? "-" }
    let target = row["target_name"] as? String ?? "class \(row["target"] as? Int ?? 0)"
    var out =
      "<table><tr><th></th><th>flips the classifier</th><th>oracle agrees</th><th>‖Δx‖₂</th><th>budget</th></tr>"
    out += "<tr><td>generative edit</td><td>\(yes("valid"))</td><td>\(yes("oracle_valid"))</td><td>\(number("l2"))</td>"
    out += "<td>‖Δz‖₂ \(number("latent_distance"))</td></tr>"
    out += "<tr><td>PGD</td><td>\(yes("pgd_valid"))</td><td>\(yes("pgd_oracle_valid"))</td><td>\(number("pgd_l2"))</td>"
    out += "<td>ε \(number("pgd_linf"))</td></tr></table>"
    if let bytes = inputs.explanationImages[id]?["counterfactual"] {
      out += figure(
        self.image(bytes: bytes, alt: "counterfactual of probe \(row["probe"] as? Int ?? 0)"),
        caption: esc("probe \(row["probe"] as? Int ?? 0) (\(name)) → \(target): original, generative edit, PGD example")
      )
    } else {
      out += absent("the images of counterfactual \(id)")
    }
    out +=
      "<p class=\"caption\">How to read: the generative edit stays on the prior's manifold; PGD is the smallest "
      + "pixel perturbation that flips the classifier. PGD is usually closer in pixels; if the oracle agrees with "
      + "the edit and not with PGD, the edit changed what the class looks like rather than exploiting the "
      + "classifier. Counterfactuals start from a probe image: they are not data-free.</p>"
    return out
  }
}

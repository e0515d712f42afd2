import ClientCore
import Foundation
import Imaging

/// A synthetic run for report tests: `classes` classes, `probes` probe images (28×28 grey, a
/// bright block at a class-dependent place), `checkpoints` analysed checkpoints and a vocabulary
/// of `prototypes` (prototype 3 attended in classes 3 and 6, the one pair still confused at the
/// end), with one uncertain flag, one done and one failed fine-tune, one done and one
/// failed explanation. Seeded: the same arguments give the same run.
struct SyntheticRun {
  var classes = 10
  var probes = 1000
  var checkpoints = 200
  var prototypes = 32
  var side = 28
  var mapSide = 7

  var names: [String] { (0..<classes).map { "class \($0) <\($0 % 3 == 0 ? "&" : "x")>" } }
  var steps: [Int] { (0..<checkpoints).map { 10 + 10 * $0 } }

  /// The `analysis` reply at checkpoint index `upTo` (inclusive).
  func analysisReply(upTo last: Int) -> [String: Any] {
    let steps = Array(self.steps.prefix(last + 1))
    let t = steps.count
    var random = Seeded(seed: UInt64(last + 1))
    func curve(_ c: Int) -> [Double] {
      (0..<t).map { i in min(1, 0.1 + 0.9 * (1 - exp(-Double(i) / Double(10 + 5 * c)))) }
    }
    let prototypeRows: [[String: Any]] = (0..<prototypes).map { k in
      let presence = (0..<classes).map { c in
        c == k % classes ? 0.9 : (c == (k + 1) % classes ? 0.3 : (c == (k + 3) % classes ? 0.2 : 0.02))
      }
      var row: [String: Any] = [
        "id": k, "cells": 20, "presence": presence, "shared_by": [k % classes], "specialised_for": [(k + 1) % classes],
        "examples": (0..<3).map { e -> [String: Any] in
          let probe = (k % classes) + classes * e
          return ["probe": probe, "label": probe % classes, "intensity": 0.8, "cells": [k % 49, (k + 1) % 49]]
        },
      ]
      // A footprint (as the findings analysis measures it) for prototypes 0 and 1 only.
      if k < 2 {
        row["traits"] = [
          "present_probes": 100, "footprint": (0..<49).map { $0 == k ? 1.0 : 0.05 }, "fixed_position": 0.8,
          "hot_cells": [k], "mean_cells": 1.0, "size_fraction": 1.0 / 49, "presence_split": [[String: Any]](),
        ]
      }
      return row
    }
    let classRows: [[String: Any]] = (0..<classes).map { c in
      [
        "label": c, "name": names[c],
        "profile": (0..<prototypes).map { k in k % classes == c ? 0.7 : 0.1 * random.unit() },
        "drift": (0..<max(t - 1, 0)).map { _ in 0.05 * random.unit() },
        "concentration": (0..<t).map { _ in 0.5 + 0.1 * random.unit() }, "accuracy": curve(c),
        "confidence": curve(c).map { $0 * 0.9 }, "shared": [c], "specialised": [(c + 1) % classes],
      ]
    }
    var pairs: [[String: Any]] = []
    for a in 0..<classes {
      for b in (a + 1)..<classes {
        let peak = (a * 7 + b * 3) % 40
        pairs.append([
          "a": a, "b": b, "confusions": (0..<t).map { i in max(0, peak - i / 4) + (a == 3 && b == 6 ? 5 : 0) },
          "margin": (0..<t).map { Double($0) * 0.01 }, "separation_step": steps[min(t - 1, peak)],
          "attention_overlap": 0.5, "discriminative_for_a": [a], "discriminative_for_b": [b], "contested": [a + b],
        ])
      }
    }
    return [
      "schema_version": 2, "query": "analysis", "run": "synthetic", "step": steps[t - 1], "steps": steps,
      "class_names": names,
      "vocabulary": [
        "fitted_on_step": steps[t - 1], "size": prototypes, "pca_components": 12, "explained_variance": 0.95,
        "adjusted_rand_index": 0.8, "map_shape": [mapSide, mapSide],
      ],
      "prototypes": prototypeRows, "classes": classRows, "pairs": pairs,
      "learning_order": pairs.map { [$0["a"] as? Int ?? 0, $0["b"] as? Int ?? 0] },
      "intervals": (0..<max(t - 1, 0)).map { i -> [String: Any] in
        [
          "from_step": steps[i], "to_step": steps[i + 1], "groups": 2, "group_sizes": [500, 400], "noise": 100,
          "lambda": 1.0, "cross_validated_r2": 0.1, "evidence": [Double](repeating: 0.01, count: prototypes * classes),
        ]
      },
      "faithfulness": steps.map {
        ["step": $0, "deletion": 0.2, "insertion": 0.6, "random_deletion": 0.35, "random_insertion": 0.5]
      },
      "uncertain": t >= 4
        ? [
          [
            "prototype": 3, "pair": [3, 6], "flips": 2, "score": 0.42, "signs": [1, -1, 1],
            "steps": Array(steps.suffix(4)),
            "examples": [["probe": 3, "label": 3, "intensity": 0.9, "cells": [10, 11]]],
          ] as [String: Any]
        ] : [],
      "zero_maps": steps.map { _ in 0 }, "failed_checkpoints": [] as [Any],
    ]
  }

  /// Probe data: grey images with a bright block, labels cycling over the classes, maps peaking
  /// at the block.
  func probeData() -> ReportInputs.ProbeData {
    var images = [UInt8](repeating: 0, count: probes * side * side)
    var maps = [Float](repeating: 0, count: probes * mapSide * mapSide)
    var random = Seeded(seed: 99)
    for i in 0..<probes {
      let c = i % classes
      for p in 0..<(side * side) { images[i * side * side + p] = UInt8(40 * random.unit()) }
      let (y0, x0) = ((c * 5) % 20, (c * 7) % 20)
      for y in y0..<(y0 + 8) { for x in x0..<(x0 + 8) { images[i * side * side + y * side + x] = 220 } }
      for cell in 0..<(mapSide * mapSide) {
        let (cy, cx) = (cell / mapSide, cell % mapSide)
        let d = hypot(Double(cy * 4 + 2 - (y0 + 4)), Double(cx * 4 + 2 - (x0 + 4)))
        maps[i * mapSide * mapSide + cell] = Float(max(0, 1 - d / 12))
      }
    }
    return ReportInputs.ProbeData(
      images: images, labels: (0..<probes).map { $0 % classes }, channels: 1, height: side, width: side, maps: maps,
      mapHeight: mapSide, mapWidth: mapSide)
  }

  /// Inputs as `i2x report` would gather them; `findings` nil stands for a daemon without them.
  func inputs(findings: [[String: Any]]?, profileColumns: Int = 40) throws -> ReportInputs {
    var inputs = ReportInputs(run: "synthetic")
    inputs.daemonVersion = "i2xd test"
    inputs.runRow = ["name": "synthetic", "architecture": "smallcnn-bn", "classes": names, "probe_count": probes]
    inputs.checkpoints = steps.map { step in
      ["step": step, "epoch": step / 1000, "metrics": ["loss": 2.3 * exp(-Double(step) / 500), "lr": 0.05]]
    }
    inputs.analysis = .success(try ReportInputs.Analysis(reply: analysisReply(upTo: checkpoints - 1)))
    let sampled = (0..<profileColumns).map { $0 * (checkpoints - 1) / (profileColumns - 1) }
    inputs.profiles = try sampled.map {
      ReportInputs.ProfileSample(try ReportInputs.Analysis(reply: analysisReply(upTo: $0)).report)
    }
    inputs.probe = .success(probeData())
    inputs.directives = .success([
      "policy": "auto",
      "directives": [
        [
          "id": 1, "pair": [3, 6], "prototypes": [3], "source": "auto", "step": 500, "state": "done",
          "metrics": [
            "removed": 120, "first_step": 510, "last_step": 700, "val_accuracy_before": 0.81,
            "val_accuracy_after": 0.83,
            "pair_val_confusions_before": 40, "pair_val_confusions_after": 31,
          ],
          "outcome": [
            "analysed": true, "pair_confusions_before": 20, "pair_confusions_after": 12, "pair_accuracy_before": 0.7,
            "pair_accuracy_after": 0.76, "evidence_stopped_flipping": false,
          ],
        ],
        [
          "id": 2, "pair": [1, 2], "prototypes": [1], "source": "client", "step": 900, "state": "failed",
          "reason": "interrupted",
        ],
      ] as [[String: Any]],
    ])
    var guided = PNGImage(width: 84, height: 28)
    for x in 0..<84 { guided.set(x, x % 28, (255, 255, 255)) }
    inputs.explanations = .success([
      "explain_policy": "auto", "data_free": "Data-free: weights and a prior only.",
      "generator": ["dataset": "synthetic", "latent": 16, "split_count": 500],
      "explanations": [
        [
          "id": 7, "class": 6, "class_name": names[6], "step": 2000, "state": "done", "images": ["guided", "prior"],
          "warnings": ["another split"],
          "explanation": [
            "activation": ["rate": 0.66, "low": 0.56, "high": 0.75, "hits": 66, "trials": 100],
            "prior_activation": ["rate": 0.03, "low": 0.01, "high": 0.08, "hits": 3, "trials": 100],
            "sanity": ["passed": true], "verdicts": ["guidance moves samples toward the class"],
          ],
        ],
        ["id": 8, "class": 2, "class_name": names[2], "step": 2000, "state": "failed", "error": "generator missing"],
      ] as [[String: Any]],
    ])
    inputs.explanationImages = [7: ["guided": try guided.encoded(), "prior": try guided.encoded()]]
    if let findings {
      inputs.findings = .success(["step": steps.last ?? 0, "findings": findings, "interventions_measured": 4])
    } else {
      inputs.findings = .failure(.init("findings are not available from this daemon"))
    }
    return inputs
  }
}

/// SplitMix64, for reproducible synthetic values.
struct Seeded {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func unit() -> Double {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
  }
}

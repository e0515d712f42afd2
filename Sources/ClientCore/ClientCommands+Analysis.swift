import CLI
import Checkpoints
import Foundation
import Wire

extension ClientCommands {
  static func analysisSpec(_ name: String, _ abstract: String, step: Bool = true, classFilter: Bool = false)
    -> CommandSpec
  {
    var options = commonOptions
    if step { options.append(.value("checkpoint", "STEP", "Analysis of this checkpoint step (default: the latest).")) }
    if classFilter { options.append(.value("class", "C", "Only this class (index or name).")) }
    return CommandSpec(name: "i2x \(name)", abstract: abstract, arguments: [("run", "Run name.")], options: options)
  }

  static let prototypesSpec: CommandSpec = {
    var spec = analysisSpec(
      "prototypes", "The prototype vocabulary and where each prototype is present.", classFilter: true)
    spec.options.append(
      .value(
        "png", "DIR",
        "Also write PNG galleries: prototype-<id>.png (its footprint as a heat map, then example probes of each "
          + "class where it is present, cells tinted) and gradcam.png (two probes per class); with --data-free, "
          + "the guided samples (one class per row)."))
    spec.options.append(.value("id", "K", "Only prototype K, with its footprint, traits and presence split."))
    spec.options.append(.flag("history", "With --id: the ids K had at earlier refits (its lineage)."))
    spec.options.append(
      .flag(
        "data-free",
        "Ask the daemon's explainer (i2xd --generator) for the data-free prototypes of the checkpoint (ProDG)."))
    spec.options.append(
      .value(
        "wait", "SECONDS", "With --data-free: how long to wait for the result (0: queue it and return).",
        default: "600"))
    spec.discussion = dataFreePrototypesDiscussion
    return spec
  }()
  static let progressSpec = analysisSpec(
    "progress", "Intra-class progress, learning groups, coupling and faithfulness.", classFilter: true)
  static let pairsSpec = analysisSpec(
    "pairs", "Class pairs: confusions, separation, learning order, discriminative prototypes.")
  static let uncertainSpec = analysisSpec(
    "uncertain", "Uncertain prototypes: evidence that swings between two classes.")

  static func analysisQuery(_ name: String, _ spec: CommandSpec, _ arguments: [String]) throws -> (
    ParsedOptions, [String: Any]
  ) {
    let options = try ParsedOptions(arguments, spec: spec)
    let step = spec.options.contains { $0.name == "checkpoint" } ? try options.int("checkpoint", minimum: 0) : nil
    return (options, try query(options, QueryHeader(query: name, run: options.positionals[0], step: step)))
  }

  static func classIndex(_ options: ParsedOptions, names: [String]) throws -> Int? {
    guard let text = options.string("class") else { return nil }
    if let index = Int(text), names.indices.contains(index) { return index }
    if let index = names.firstIndex(where: { $0.lowercased() == text.lowercased() }) { return index }
    throw UsageError("--class must be an index 0..<\(names.count) or one of: \(names.joined(separator: ", "))")
  }

  static func prototypes(_ arguments: [String], out: (String) -> Void) throws -> ExitCode {
    let options = try ParsedOptions(arguments, spec: prototypesSpec)
    if options.flag("data-free") { return try dataFreePrototypes(options, out: out) }
    let id = try options.int("id", minimum: 0)
    if options.flag("history") {
      guard let id else { throw UsageError("--history needs --id K", hint: prototypesSpec.hint) }
      return try prototypeHistory(options, id: id, out: out)
    }
    let (_, answer) = try analysisQuery("prototypes", prototypesSpec, arguments)
    let names = answer["class_names"] as? [String] ?? []
    let only = try classIndex(options, names: names)
    var prototypes = answer["prototypes"] as? [[String: Any]] ?? []
    if let only {
      prototypes = prototypes.filter { (($0["presence"] as? [Double]) ?? [])[safe: only] ?? 0 >= 0.1 }
    }
    if let id {
      prototypes = prototypes.filter { $0["id"] as? Int == id }
      guard !prototypes.isEmpty else {
        throw ClientError(
          "prototype \(id) is not in the vocabulary at this checkpoint; '--id \(id) --history' follows an old id",
          exitCode: .dataError)
      }
    }
    if let directory = options.string("png") {
      let written = try writeGalleries(
        options, answer: answer, prototypes: prototypes, to: URL(fileURLWithPath: directory))
      if !options.flag("json") { out("wrote \(written) PNG files to \(directory)") }
    }
    if options.flag("json") {
      var filtered = answer
      filtered["prototypes"] = prototypes
      try printJSON(filtered, out: out)
      return .success
    }
    let vocabulary = answer["vocabulary"] as? [String: Any] ?? [:]
    out(
      String(
        format: "run %@, checkpoint %d: %d prototypes (PCA %d components, %.1f%% variance)%@", options.positionals[0],
        answer["step"] as? Int ?? 0, vocabulary["size"] as? Int ?? 0, vocabulary["pca_components"] as? Int ?? 0,
        100 * (vocabulary["explained_variance"] as? Double ?? 0),
        (vocabulary["adjusted_rand_index"] as? Double).map { String(format: ", ARI vs previous fit %.3f", $0) } ?? ""))
    let rows = prototypes.map { p -> [String] in
      let presence = p["presence"] as? [Double] ?? []
      let top = presence.indices.sorted { presence[$0] > presence[$1] }.prefix(3)
        .filter { presence[$0] > 0 }.map { "\(names[safe: $0] ?? "\($0)") \(String(format: "%.2f", presence[$0]))" }
      let traits = p["traits"] as? [String: Any] ?? [:]
      return [
        "\(p["id"] as? Int ?? 0)", "\(p["cells"] as? Int ?? 0)", top.joined(separator: ", "),
        (p["shared_by"] as? [Int] ?? []).map { names[safe: $0] ?? "\($0)" }.joined(separator: ","),
        (p["specialised_for"] as? [Int] ?? []).map { names[safe: $0] ?? "\($0)" }.joined(separator: ","),
        (traits["fixed_position"] as? Double).map { String(format: "%.2f", $0) } ?? "-",
        (traits["mean_cells"] as? Double).map { String(format: "%.1f", $0) } ?? "-",
        (traits["content_variability"] as? Double).map { String(format: "%.2f", $0) } ?? "-",
        (traits["pixel_box"] as? [Int]).map { "y\($0[0])–\($0[2]) x\($0[1])–\($0[3])" } ?? "-",
      ]
    }
    out(
      TextTable.render(
        header: [
          "ID", "CELLS", "MOST PRESENT IN (ρ)", "SHARED BY", "SPECIALISED FOR", "FIXED", "SIZE", "VARIABILITY", "WHERE",
        ], rows: rows))
    if id != nil, let traits = prototypes.first?["traits"] as? [String: Any] {
      printTraits(
        traits, names: names, shape: (answer["vocabulary"] as? [String: Any])?["map_shape"] as? [Int], out: out)
    }
    return .success
  }

  /// Fetches the probe set and the analysed checkpoint's maps, then renders the galleries.
  static func writeGalleries(
    _ options: ParsedOptions, answer: [String: Any], prototypes: [[String: Any]], to directory: URL
  ) throws -> Int {
    let run = options.positionals[0]
    let probe = try queryWithPayload(options, QueryHeader(query: "probe", run: run)).payload ?? []
    let observation =
      try queryWithPayload(options, QueryHeader(query: "observation", run: run, step: answer["step"] as? Int)).payload
      ?? []
    let probeFile = try SafetensorsFile(bytes: probe)
    let images = try probeFile.tensor("images")
    guard images.shape.count == 4, images.shape[0] > 0 else {
      throw ClientError("run \(run) has no probe images", exitCode: .dataError)
    }
    let maps = try SafetensorsFile(bytes: observation).tensor("normalized")
    var gallery = Gallery(
      images: try images.uint8s(), channels: images.shape[1], height: images.shape[2], width: images.shape[3])
    gallery.scale = Gallery.scale(forHeight: images.shape[2], width: images.shape[3])
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    var written = 0
    for prototype in prototypes {
      let examples = (prototype["examples"] as? [[String: Any]] ?? []).map {
        ($0["probe"] as? Int ?? 0, $0["cells"] as? [Int] ?? [])
      }
      guard !examples.isEmpty else { continue }
      let footprint = (prototype["traits"] as? [String: Any])?["footprint"] as? [Double]
      try gallery.prototypeStrip(
        examples: examples, mapHeight: maps.shape[1], mapWidth: maps.shape[2], footprint: footprint
      )
      .write(to: directory.appendingPathComponent("prototype-\(prototype["id"] as? Int ?? 0).png"))
      written += 1
    }
    // Two probes of each class, in class order.
    let labels = (try? probeFile.tensor("labels").int64s().map { Int($0) }) ?? []
    var probes: [Int] = []
    for c in Set(labels).sorted() { probes += labels.indices.filter { labels[$0] == c }.prefix(2) }
    if probes.isEmpty { probes = Array(0..<min(16, images.shape[0])) }
    try gallery.overlays(probes: probes, maps: try maps.floats(), mapHeight: maps.shape[1], mapWidth: maps.shape[2])
      .write(to: directory.appendingPathComponent("gradcam.png"))
    return written + 1
  }

  static func progress(_ arguments: [String], out: (String) -> Void) throws -> ExitCode {
    let (options, answer) = try analysisQuery("progress", progressSpec, arguments)
    let names = answer["class_names"] as? [String] ?? []
    let only = try classIndex(options, names: names)
    var classes = answer["classes"] as? [[String: Any]] ?? []
    if let only { classes = classes.filter { $0["label"] as? Int == only } }
    if options.flag("json") {
      var filtered = answer
      filtered["classes"] = classes
      try printJSON(filtered, out: out)
      return .success
    }
    let steps = answer["steps"] as? [Int] ?? []
    out(
      "run \(options.positionals[0]): \(steps.count) checkpoints analysed (steps \(steps.first ?? 0)…\(steps.last ?? 0))"
    )
    let rows = classes.map { c -> [String] in
      let accuracy = c["accuracy"] as? [Double] ?? []
      let confidence = c["confidence"] as? [Double] ?? []
      let drift = c["drift"] as? [Double] ?? []
      let concentration = c["concentration"] as? [Double] ?? []
      return [
        c["name"] as? String ?? "", accuracy.map { String(format: "%.2f", $0) }.joined(separator: " "),
        String(format: "%.3f", confidence.last ?? 0), String(format: "%.3f", drift.last ?? 0),
        String(format: "%.3f", concentration.last ?? 0),
        "\((c["shared"] as? [Int] ?? []).count)/\((c["specialised"] as? [Int] ?? []).count)",
      ]
    }
    out(
      TextTable.render(
        header: ["CLASS", "PROBE ACCURACY PER CHECKPOINT", "CONFIDENCE", "DRIFT", "CONCENTRATION", "SHARED/SPEC"],
        rows: rows))
    let faithfulness = (answer["faithfulness"] as? [[String: Any]] ?? []).last ?? [:]
    out(
      String(
        format:
          "faithfulness (latest): deletion AUC %.3f (random %.3f, lower is better), insertion AUC %.3f (random %.3f)",
        faithfulness["deletion"] as? Double ?? 0, faithfulness["random_deletion"] as? Double ?? 0,
        faithfulness["insertion"] as? Double ?? 0, faithfulness["random_insertion"] as? Double ?? 0))
    if let interval = (answer["intervals"] as? [[String: Any]])?.last {
      out(
        String(
          format: "latest interval %d→%d: %d learning groups, coupling CV R² %.3f (permutation null 95%%: %@)",
          interval["from_step"] as? Int ?? 0, interval["to_step"] as? Int ?? 0, interval["groups"] as? Int ?? 0,
          interval["cross_validated_r2"] as? Double ?? 0,
          (interval["null95"] as? Double).map { String(format: "%.3f", $0) } ?? "-"))
    }
    return .success
  }

  static func pairs(_ arguments: [String], out: (String) -> Void) throws -> ExitCode {
    let (options, answer) = try analysisQuery("pairs", pairsSpec, arguments)
    if options.flag("json") {
      try printJSON(answer, out: out)
      return .success
    }
    let names = answer["class_names"] as? [String] ?? []
    let pairs = answer["pairs"] as? [[String: Any]] ?? []
    let byKey = Dictionary(pairs.map { ("\($0["a"] as? Int ?? 0)-\($0["b"] as? Int ?? 0)", $0) }) { a, _ in a }
    out("learning order of class pairs (separated first):")
    let order = answer["learning_order"] as? [[Int]] ?? []
    let rows = order.prefix(15).enumerated().map { index, pair -> [String] in
      let p = byKey["\(pair[0])-\(pair[1])"] ?? [:]
      let confusions = p["confusions"] as? [Int] ?? []
      return [
        "\(index + 1)", "\(names[safe: pair[0]] ?? "") / \(names[safe: pair[1]] ?? "")",
        (p["separation_step"] as? Int).map(String.init) ?? "not yet",
        confusions.map(String.init).joined(separator: " "),
        String(format: "%.2f", p["attention_overlap"] as? Double ?? 0),
      ]
    }
    out(
      TextTable.render(header: ["#", "PAIR", "SEPARATED AT", "PROBE CONFUSIONS PER CHECKPOINT", "OVERLAP"], rows: rows))
    return .success
  }

  static func uncertain(_ arguments: [String], out: (String) -> Void) throws -> ExitCode {
    let (options, answer) = try analysisQuery("uncertain", uncertainSpec, arguments)
    if options.flag("json") {
      try printJSON(answer, out: out)
      return .success
    }
    let names = answer["class_names"] as? [String] ?? []
    let flags = answer["uncertain"] as? [[String: Any]] ?? []
    if flags.isEmpty {
      let checkpoints = (answer["steps"] as? [Int] ?? []).count
      out(
        checkpoints < 4
          ? "no uncertain prototypes in run \(options.positionals[0]) yet: the rule needs ≥ 3 analysed intervals (\(checkpoints) checkpoints so far)"
          : "no uncertain prototypes in run \(options.positionals[0]): no prototype's evidence swung twice between the most confused pairs over the last \(min(6, checkpoints - 1)) intervals"
      )
      return .success
    }
    let finetunes = answer["finetunes"] as? [[String: Any]] ?? []
    let rows = flags.map { f -> [String] in
      let pair = f["pair"] as? [Int] ?? [0, 0]
      let examples = (f["examples"] as? [[String: Any]] ?? []).map { "#\($0["probe"] as? Int ?? 0)" }.joined(
        separator: " ")
      // The newest fine-tune of this pair, with its outcome, next to the flag.
      let finetune = finetunes.last { ($0["pair"] as? [Int]) == pair.sorted() }.map { d in
        "#\(d["id"] as? Int ?? 0) \(d["state"] as? String ?? "")"
          + ((d["outcome"] as? [String: Any]) != nil ? ": " + outcomeSummary(d["outcome"] as? [String: Any]) : "")
      }
      return [
        "\(f["prototype"] as? Int ?? 0)", "\(names[safe: pair[0]] ?? "") / \(names[safe: pair[1]] ?? "")",
        "\(f["flips"] as? Int ?? 0)", String(format: "%.3f", f["score"] as? Double ?? 0),
        (f["signs"] as? [Int] ?? []).map { $0 > 0 ? "+" : ($0 < 0 ? "-" : "0") }.joined(), examples, finetune ?? "-",
      ]
    }
    out(
      TextTable.render(
        header: ["PROTOTYPE", "PAIR", "FLIPS", "SCORE", "SIGNS", "EXAMPLE PROBES", "FINE-TUNE"], rows: rows))
    return .success
  }
}

extension Array {
  subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}

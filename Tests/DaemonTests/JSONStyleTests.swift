import Checkpoints
import DaemonCore
import Foundation
import Prototypes
import Store
import Testing
import Wire

/// schema_version 2 (README "JSON interface"): every field key is snake_case, data keys (metric
/// names, class names) are kept as sent, and a store written by an earlier version serves its
/// analysis reports in the new style after migration 012.
@Suite struct JSONStyleTests {
  /// Paths of object keys that are not snake_case, below `path`; the values of `dataMaps` keys
  /// are maps keyed by data (metric names, stage names), whose keys are not checked.
  static func nonSnakeKeys(_ value: Any, path: String = "", dataMaps: Set<String> = ["metrics", "timings"]) -> [String]
  {
    if let object = value as? [String: Any] {
      return object.flatMap { key, child -> [String] in
        let here = path + "." + key
        let own = key.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "_" } ? [] : [here]
        return own + (dataMaps.contains(key) ? [] : nonSnakeKeys(child, path: here, dataMaps: dataMaps))
      }
    }
    if let array = value as? [Any] {
      return array.enumerated().flatMap { nonSnakeKeys($1, path: path + "[\($0)]", dataMaps: dataMaps) }
    }
    return []
  }

  static func object(_ text: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
  }

  @Test func theWalkerFindsCamelCaseKeysAndSkipsDataMaps() throws {
    let found = Self.nonSnakeKeys(
      try Self.object(#"{"ok_key":[{"badKey":1}],"metrics":{"valAcc":1},"inner":{"fine2":{"alsoBad":0}}}"#))
    #expect(found.sorted() == [".inner.fine2.alsoBad", ".ok_key[0].badKey"])
  }

  @Test func aVersion1ReportMigratesToTheCurrentKeys() throws {
    let upgraded = try #require(JSONKeyMigration.upgradedReport(ReportVersion1.stored))
    #expect(Self.nonSnakeKeys(try Self.object(upgraded)).isEmpty)
    let migrated = try JSONDecoder().decode(AnalysisReport.self, from: Data(upgraded.utf8))
    let current = try JSONDecoder().decode(AnalysisReport.self, from: Data(ReportVersion1.current.utf8))
    #expect(migrated == current)
    #expect(migrated.classNames == ["T-shirt/top", "AnkleBoot"])
    #expect(migrated.schemaVersion == 2)
    // The golden current document is exactly what this version writes for that report.
    let encoded = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(current)) as? NSDictionary
    #expect(encoded == (try Self.object(ReportVersion1.current)) as NSDictionary)
    // The old spelling no longer decodes: the migration, not a second decoder, carries old reports.
    #expect(throws: DecodingError.self) {
      try JSONDecoder().decode(AnalysisReport.self, from: Data(ReportVersion1.stored.utf8))
    }
  }

  @Test func snakeCaseNamesTheFieldsAsTheCodingKeysDo() {
    let names = [
      "schemaVersion": "schema_version", "crossValidatedR2": "cross_validated_r2", "null95": "null95",
      "discriminativeForA": "discriminative_for_a", "prototypeIDs": "prototype_ids", "map_shape": "map_shape",
    ]
    for (old, new) in names { #expect(JSONKeyMigration.snakeCase(old) == new) }
  }

  @Test func aVersion1DirectiveStillParsesAndTheNewOneIsSnakeCase() throws {
    let basis = #"{"dimension":2,"mean":[0,0],"components":[1,0,0,1],"centres":[0.5,0.5,-0.5,0.5],"#
    let thresholds = #""thresholds":{"occupancy":0.2,"intensity":0.5,"maximum_fraction":0.3}"#
    let old =
      #"{"format":"i2x.directive/1","id":3,"key":"k","run":"r1","pair":[0,1],"class_names":["T-shirt/top","Bag"],"#
      + #""prototypes":[4],"vocabulary":"# + basis + #""centreIDs":[4,9]},"# + thresholds
      + #","schedule":"curated-full","step":30,"source":"manual"}"#
    let directive = try FineTuneDirective(json: old)
    #expect(directive.vocabulary.centreIDs == [4, 9] && directive.classNames == ["T-shirt/top", "Bag"])
    var current = directive
    current.format = FineTuneDirective.format
    let written = try Self.object(current.json())
    #expect(written["format"] as? String == "i2x.directive/2")
    #expect((written["vocabulary"] as? [String: Any])?["centre_ids"] as? [Int] == [4, 9])
    #expect(Self.nonSnakeKeys(written).isEmpty)
    #expect(try FineTuneDirective(json: current.json()) == current)
  }

  /// A store as the previous version left it: a registered run, a checkpoint whose metric
  /// names have capitals, and a version-1 report in `analyses`; migration 012 not yet applied.
  func upgradedStore() throws -> (RequestHandler, URL) {
    let directory = try DaemonFixtures.temporaryDirectory()
    let handler = RequestHandler(store: try TestStore.open(directory), log: { _ in })
    #expect(handler.handle(try DaemonFixtures.register().frames).outcome == "registered")
    let bytes = try DaemonFixtures.checkpointBytes(seed: 1)
    let header = CheckpointHeader(
      run: "r1", step: 30, epoch: 0, sha256: SHA256.hex(bytes), metrics: ["valAcc": 0.5, "loss": 1])
    let message = try WireMessage(type: .checkpoint, header: header, payload: bytes)
    #expect(handler.handle(message.frames).outcome == "stored")
    let database = try TestStore.open(directory).database
    try database.execute(
      "INSERT INTO analyses (run, step, report, seconds, timings, created_at) VALUES ('r1', 30, ?, 1, ?, 0)",
      [.text(ReportVersion1.stored), .text(#"{"vocabulary":0.5,"hdbscan":0.25}"#)])
    try database.execute("DELETE FROM schema_migrations WHERE name = '012-snake-case-reports'")
    // Reopening applies the migration.
    return (RequestHandler(store: try TestStore.open(directory), log: { _ in }), directory)
  }

  func answer(_ handler: RequestHandler, _ query: String, run: String? = "r1") throws -> [String: Any] {
    let reply = handler.handle(try WireMessage(type: .query, header: QueryHeader(query: query, run: run)).frames)
    #expect(reply.type == .reply, "\(query): \(reply.outcome)")
    return try #require(try JSONSerialization.jsonObject(with: Data(reply.header)) as? [String: Any])
  }

  @Test func anUpgradedStoreServesItsOldReportInTheNewStyle() throws {
    let (handler, directory) = try upgradedStore()
    defer { try? FileManager.default.removeItem(at: directory) }
    let analysis = try answer(handler, "analysis")
    #expect(analysis["schema_version"] as? Int == 2)
    #expect(analysis["class_names"] as? [String] == ["T-shirt/top", "AnkleBoot"])
    #expect(analysis["learning_order"] as? [[Int]] == [[0, 1]])
    #expect(analysis["classNames"] == nil && analysis["schemaVersion"] == nil)
    let prototypes = try answer(handler, "prototypes")
    #expect((prototypes["vocabulary"] as? [String: Any])?["pca_components"] as? Int == 12)
    #expect((prototypes["prototypes"] as? [[String: Any]])?.first?["shared_by"] as? [Int] == [0])
    let pairs = try answer(handler, "pairs")
    #expect((pairs["pairs"] as? [[String: Any]])?.first?["separation_step"] as? Int == 20)
    #expect(pairs.keys.sorted().contains("learning_order") && pairs["intervals"] == nil)
    let progress = try answer(handler, "progress")
    #expect((progress["intervals"] as? [[String: Any]])?.first?["cross_validated_r2"] as? Double == 0.25)
    #expect(progress["zero_maps"] as? [Int] == [0, 0, 1])
    // The stored row itself was rewritten, so every reader decodes one spelling.
    let database = try TestStore.open(directory).database
    let stored = try #require(try database.query("SELECT report FROM analyses").first?.first?.string)
    #expect(try JSONDecoder().decode(AnalysisReport.self, from: Data(stored.utf8)).steps == [10, 20, 30])
  }

  @Test func everyQueryAnswerHasSnakeCaseFieldsAndKeepsDataKeys() throws {
    let (handler, directory) = try upgradedStore()
    defer { try? FileManager.default.removeItem(at: directory) }
    var queries: [(String, String?)] = [("status", nil), ("runs", nil)]
    for query in [
      "checkpoints", "analysis", "prototypes", "progress", "pairs", "uncertain", "events", "directives", "findings",
      "interventions", "explanations",
    ] {
      queries.append((query, "r1"))
    }
    for (query, run) in queries {
      let reply = try answer(handler, query, run: run)
      #expect(reply["schema_version"] as? Int == 2, "\(query)")
      #expect(Self.nonSnakeKeys(reply).isEmpty, "\(query): \(Self.nonSnakeKeys(reply))")
    }
    let checkpoints = try answer(handler, "checkpoints")["checkpoints"] as? [[String: Any]]
    #expect(checkpoints?.first?["metrics"] as? [String: Double] == ["valAcc": 0.5, "loss": 1])
  }
}

import Foundation

/// Rewrites JSON stored by earlier versions into the snake_case keys of the JSON interface's
/// schema_version 2 (migration 012), so an upgraded daemon serves old analyses in the new style
/// and decodes them with one spelling only.
public enum JSONKeyMigration {
  /// Every stored analysis report (`analyses.report`, an `AnalysisReport`): each object key in
  /// camelCase becomes snake_case (`classNames` → `class_names`, `crossValidatedR2` →
  /// `cross_validated_r2`) and `schema_version` becomes 2. Reports hold no maps keyed by data
  /// (class names, ids), so every key is a field name. A row that is not a JSON object is left
  /// as it is (the daemon reports it unreadable, as before).
  /// - Throws: the database's error when the table cannot be read or written.
  public static func analysisReports(_ database: SQLDatabase) throws {
    let rows = try database.query("SELECT run, step, report FROM analyses", [])
    for row in rows {
      guard let run = row[0].string, let step = row[1].int, let text = row[2].string,
        let rewritten = upgradedReport(text)
      else { continue }
      try database.execute(
        "UPDATE analyses SET report = ? WHERE run = ? AND step = ?",
        [.text(rewritten), .text(run), .integer(Int64(step))])
    }
  }

  /// `text` (an analysis report of schema 1) with snake_case keys and `schema_version` 2, or nil
  /// when it is not a JSON object.
  public static func upgradedReport(_ text: String) -> String? {
    guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)),
      var report = snakeCasedKeys(object) as? [String: Any]
    else { return nil }
    report["schema_version"] = 2
    guard let data = try? JSONSerialization.data(withJSONObject: report, options: [.sortedKeys]) else { return nil }
    return String(decoding: data, as: UTF8.self)
  }

  /// `value` with every object key, at every depth, passed through `snakeCase`. Only for
  /// documents whose keys are all field names: a map keyed by data would be altered too.
  public static func snakeCasedKeys(_ value: Any) -> Any {
    if let object = value as? [String: Any] {
      return Dictionary(object.map { (snakeCase($0.key), snakeCasedKeys($0.value)) }) { first, _ in first }
    }
    if let array = value as? [Any] { return array.map(snakeCasedKeys) }
    return value
  }

  /// A camelCase field name in snake_case: an underscore before each capital that follows a
  /// lowercase letter or digit, then everything lowercased (`prototypeIDs` → `prototype_ids`,
  /// `discriminativeForA` → `discriminative_for_a`); snake_case names come back unchanged.
  public static func snakeCase(_ name: String) -> String {
    var result = ""
    var previous: Character?
    for character in name {
      if character.isUppercase, let previous, previous.isLowercase || previous.isNumber { result.append("_") }
      result.append(contentsOf: character.lowercased())
      previous = character
    }
    return result
  }
}

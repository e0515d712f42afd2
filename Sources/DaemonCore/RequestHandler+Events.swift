import Foundation
import Wire

/// The `events` query (`i2x watch`): a run's events after a cursor, oldest first, from the
/// event log the store's triggers write (`EventLog`, migration 009).
extension RequestHandler {
  /// The fields of an `events` query beyond `QueryHeader`'s (decoded from the same header).
  struct EventsQuery: Decodable {
    /// Cursor: only events with a larger id (0 or absent: from the first).
    var after: Int?
    /// At most this many events (default and cap `eventsLimit`).
    var limit: Int?
  }

  /// The most events one reply carries; a client asks again from the returned cursor.
  static let eventsLimit = 500

  /// `run`, `events` (each `id`, `kind`, `step`, `at`, `detail`), `cursor` (the last id
  /// returned, or the one asked for) and `more` (whether events beyond the limit wait).
  func eventsQuery(_ message: WireMessage) throws -> [String: Any] {
    let header = try message.decode(QueryHeader.self)
    let extra = try message.decode(EventsQuery.self)
    guard let run = header.run else { throw DaemonError(.badData, "the events query needs a run") }
    guard try store.runExists(run) else {
      throw DaemonError(.unknownRun, "no run named '\(run)'; 'i2x runs' lists the runs")
    }
    let after = max(extra.after ?? 0, 0)
    let limit = min(max(extra.limit ?? Self.eventsLimit, 1), Self.eventsLimit)
    let rows = try store.database.query(
      "SELECT id, kind, step, at, detail FROM events WHERE run = ? AND id > ? ORDER BY id LIMIT ?",
      [.text(run), .integer(Int64(after)), .integer(Int64(limit + 1))])
    let events = rows.prefix(limit).map { row -> [String: Any] in
      var event: [String: Any] = [
        "id": row[0].int ?? 0, "kind": row[1].string ?? "", "at": row[3].double ?? 0,
        "detail": (row[4].string.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) }) ?? [:],
      ]
      if let step = row[2].int { event["step"] = step }
      return event
    }
    return [
      "run": run, "events": events, "cursor": events.last?["id"] as? Int ?? after, "more": rows.count > limit,
    ]
  }
}

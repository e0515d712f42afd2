import CLI
import Foundation
import Prototypes
import Wire

/// Where the experiment's directive comes from: a file holding a `FineTuneDirective` payload
/// (as `i2x directives RUN --export ID` writes it) or the daemon (`directives`, then
/// `directive-payload` for the newest directive of the requested pair).
public enum ExperimentDirectiveSource {
  /// Reads and validates a directive file.
  /// - Throws: `TrainingError` 66 for a missing file, 65 for a malformed directive.
  public static func file(_ path: String) throws -> FineTuneDirective {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw TrainingError("directive file \(path) does not exist or cannot be read", exitCode: .noInput)
    }
    do { return try FineTuneDirective(json: String(decoding: data, as: UTF8.self)) } catch {
      throw TrainingError("\(path): \(error)")
    }
  }

  /// Fetches the newest directive of `run` (for `pair`, given as class names or indices, when
  /// set) from the daemon.
  /// - Parameters:
  ///   - classNames: The dataset's class names, to resolve `pair`.
  /// - Throws: `TrainingError` 69 when no daemon answers, 66 for an unknown run or no matching
  ///   directive, 65 for a malformed answer or directive; `UsageError` for a bad `pair`.
  public static func daemon(
    client: RequestClient, run: String, pair: [String]?, classNames: [String]
  ) throws -> FineTuneDirective {
    let wanted = try pair.map { try resolve($0, classNames: classNames) }
    let listing = try query(client, QueryHeader(query: "directives", run: run))
    let rows = listing["directives"] as? [[String: Any]] ?? []
    let matching = rows.filter { row in
      guard let wanted else { return true }
      return ((row["pair"] as? [Int]) ?? []).sorted() == wanted
    }
    guard let newest = matching.compactMap({ $0["id"] as? Int }).max() else {
      let what = wanted.map { "for \($0.map { classNames[$0] }.joined(separator: " / "))" } ?? "at all"
      throw TrainingError(
        "run '\(run)' has no fine-tune directive \(what); request one with 'i2x finetune \(run) --pair A,B'",
        exitCode: .noInput)
    }
    let answer = try query(client, QueryHeader(query: "directive-payload", run: run, directive: newest))
    guard let payload = answer["directive"] as? [String: Any],
      let data = try? JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])
    else {
      throw TrainingError("the daemon's answer for directive \(newest) has no directive payload")
    }
    do { return try FineTuneDirective(json: String(decoding: data, as: UTF8.self)) } catch {
      throw TrainingError("directive \(newest) of run '\(run)': \(error)")
    }
  }

  /// `A,B` as two sorted, distinct class indices (names or numbers).
  /// - Throws: `UsageError` naming the class that is not one.
  public static func resolve(_ pair: [String], classNames: [String]) throws -> [Int] {
    let indices = try pair.map { text -> Int in
      if let index = classNames.firstIndex(of: text) { return index }
      if let index = Int(text), classNames.indices.contains(index) { return index }
      throw UsageError(
        "--pair: '\(text)' is not a class; classes: \(classNames.joined(separator: ", ")) (or 0–\(classNames.count - 1))"
      )
    }.sorted()
    guard indices.count == 2, indices[0] != indices[1] else {
      throw UsageError("--pair needs two different classes, as A,B")
    }
    return indices
  }

  private static func query(_ client: RequestClient, _ header: QueryHeader) throws -> [String: Any] {
    let reply: WireMessage
    do { reply = try client.request(try WireMessage(type: .query, header: header)) } catch let error
      as DaemonUnreachable
    {
      throw TrainingError(error.description, exitCode: .unavailable)
    } catch let error as ZMQError {
      throw UsageError("\(error)", hint: "check --endpoint")
    }
    if reply.type == .error {
      let error = try reply.decode(ErrorHeader.self)
      let code: ExitCode =
        error.code == "unknown-run" ? .noInput : (error.code == "not-ready" ? .unavailable : .dataError)
      throw TrainingError("the daemon refused '\(header.query)': \(error.message)", exitCode: code)
    }
    guard reply.type == .reply,
      let object = try? JSONSerialization.jsonObject(with: Data(reply.header)) as? [String: Any]
    else {
      throw TrainingError("the daemon sent an unexpected \(reply.type) message to '\(header.query)'")
    }
    return object
  }
}

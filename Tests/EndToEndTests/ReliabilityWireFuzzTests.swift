import Foundation
import Glibc
import PostgreSQLTestSupport
import Testing
import Wire

/// The wire fuzzer: 20,000 mutated messages in CI (10⁶ with `I2X_RELIABILITY_LONG=1`), each
/// answered with an error or an ack (or, over `--max-message-size`, a disconnect), and the
/// daemon still up and answering at the end. Seeded: set `I2X_RELIABILITY_SEED` to replay.
@Suite(.serialized) struct ReliabilityWireFuzzTests {
  static let maximumMessageSize = 1 << 20

  @Test func everyMutatedMessageIsAnsweredAndTheDaemonSurvives() throws {
    try fuzz(count: ReliabilityScale.pick(ci: 20_000, long: 1_000_000), postgreSQL: nil)
  }

  /// The same against a PostgreSQL store with its blobs in the database (what reaches the
  /// store differs: text with NUL bytes, which PostgreSQL refuses, and bytea).
  @Test func everyMutatedMessageIsAnsweredAndTheDaemonSurvivesOnPostgreSQL() throws {
    try fuzz(count: ReliabilityScale.pick(ci: 5_000, long: 200_000), postgreSQL: try PostgreSQLServer.freshDatabase())
  }

  /// `count` mutated messages to a daemon on the embedded store, or on the PostgreSQL
  /// database at `postgreSQL`.
  func fuzz(count: Int, postgreSQL url: String?) throws {
    let label = url == nil ? "wire fuzz" : "wire fuzz on PostgreSQL"
    let seed =
      ProcessInfo.processInfo.environment["I2X_RELIABILITY_SEED"].flatMap { UInt64($0) }
      ?? UInt64(Date().timeIntervalSince1970 * 1000)
    print("[reliability] \(label): \(count) messages, seed \(seed) (I2X_RELIABILITY_SEED=\(seed) replays it)")
    // The analysis is not what is fuzzed: keep each job short.
    let daemon = try DaemonUnderTest(
      extraArguments: ["--max-message-size", "\(Self.maximumMessageSize)", "--faithfulness-sample", "0"],
      storeArguments: url.map { ["--store", $0] })
    try daemon.start()
    let runs = (0..<4).map { HandBuiltRun(name: "fuzz-\($0)", channels: 2, probeImages: 4) }
    let client = RawWireClient(endpoint: daemon.endpoint)
    defer { client.reset() }
    #expect(try client.exchange(try runs[0].registerMessage())?.outcome == "ack:registered")

    var mutator = WireMutator(seed: seed, runs: runs, maximumMessageSize: Self.maximumMessageSize)
    var tally: [String: Int] = [:]
    var unanswered: [String] = []
    var disconnects = 0
    let started = Date()
    for index in 0..<count {
      let fuzzCase = mutator.next()
      let reply = try client.exchange(fuzzCase.frames, timeout: fuzzCase.oversize ? 300 : 10_000)
      if fuzzCase.oversize {
        #expect(reply == nil, "message \(index) (oversize) was answered")
        disconnects += 1
        continue
      }
      guard let reply else {
        unanswered.append("#\(index) \(fuzzCase.label)")
        continue
      }
      let outcome = (try? WireMessage(frames: reply))?.outcome ?? "malformed reply"
      tally[outcome, default: 0] += 1
      if outcome == "error:internal" || outcome == "malformed reply", tally[outcome] ?? 0 <= 3 {
        let message = (try? WireMessage(frames: reply))?.errorMessage ?? ""
        print("[reliability] \(label) #\(index) \(fuzzCase.label) → \(outcome): \(message.prefix(300))")
      }
      if index % 50_000 == 49_999 { daemon.expectHealthy("\(label) after \(index + 1) messages") }
    }
    let seconds = Date().timeIntervalSince(started)
    print(
      "[reliability] \(label): \(count) messages in \(String(format: "%.1f", seconds)) s, seed \(seed); "
        + "disconnects (oversize) \(disconnects), unanswered \(unanswered.count)")
    for (outcome, number) in tally.sorted(by: { $0.value > $1.value }) {
      print("[reliability] \(label) replies \(outcome): \(number)")
    }
    #expect(unanswered.isEmpty, "seed \(seed): \(unanswered.prefix(5))")
    #expect(tally["malformed reply"] == nil, "seed \(seed)")
    #expect(tally["error:internal"] == nil, "seed \(seed): internal errors")
    daemon.expectHealthy(label)
    daemon.stopCleanly(label)
  }
}

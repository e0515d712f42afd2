import Foundation
import PostgreSQLTestSupport
import Store
import Synchronization
import Testing

/// Event ids follow commit order on PostgreSQL (migration 015): a client that follows the log
/// with `id > cursor` never passes an event whose transaction commits after a later one's.
@Suite struct EventOrderTests {
  @Test func noEventIsVisibleWhileAnEarlierOneIsUncommitted() throws {
    let url = try PostgreSQLServer.freshDatabase()
    let first = try PostgreSQLDatabase(url: url)
    try Migrations.apply(to: first)
    let reader = try PostgreSQLDatabase(url: url)
    let started = DispatchSemaphore(value: 0)
    let done = DispatchSemaphore(value: 0)
    let failure = Mutex<String?>(nil)
    try first.transaction(durable: true) {
      try first.execute("SELECT i2x_event('a', 'test', 1, '{}'::jsonb)")
      // A second session records an event (a later id, were ids drawn freely) and commits.
      Thread.detachNewThread {
        started.signal()
        do {
          let second = try PostgreSQLDatabase(url: url)
          try second.transaction(durable: true) { try second.execute("SELECT i2x_event('b', 'test', 2, '{}'::jsonb)") }
        } catch {
          failure.withLock { $0 = "\(error)" }
        }
        done.signal()
      }
      started.wait()
      Thread.sleep(forTimeInterval: 0.5)
      // Still open: the reader sees neither event (without the lock it would see b's, with
      // an id above a's, and move its cursor past a).
      #expect(try reader.query("SELECT COUNT(*) FROM events") == [[.integer(0)]])
    }
    done.wait()
    #expect(failure.withLock { $0 } == nil)
    #expect(try reader.query("SELECT run FROM events ORDER BY id") == [[.text("a")], [.text("b")]])
  }
}

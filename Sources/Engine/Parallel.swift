import Dispatch
import Glibc

/// Splits a loop over the machine's cores (a small, fixed number of contiguous chunks).
public enum Parallel {
  /// Number of chunks a loop is split into.
  nonisolated(unsafe) public static var workers = max(1, min(8, sysconfCores()))

  /// Calls `body` for every index of `range`, chunked over `workers` threads. `body` must not
  /// write memory another index writes.
  @inlinable
  public static func forEach(_ range: Range<Int>, _ body: (Int) -> Void) {
    let count = range.count
    let chunks = min(workers, count)
    if chunks <= 1 || count < 2 || isSerialHere {
      for i in range { body(i) }
      return
    }
    withoutActuallyEscaping(body) { body in
      // The caller promises disjoint writes; that is what makes sharing `body` safe.
      let shared = UncheckedSendable(value: body)
      DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
        let start = range.lowerBound + chunk * count / chunks
        let end = range.lowerBound + (chunk + 1) * count / chunks
        for i in start..<end { shared.value(i) }
      }
    }
  }

  /// Calls `body(start, end)` on contiguous chunks of `0..<count` in parallel; small counts
  /// (under `minimumChunk` per worker) run inline.
  @inlinable
  public static func chunks(_ count: Int, minimumChunk: Int = 1 << 15, _ body: (Int, Int) -> Void) {
    let parts = min(workers, max(1, count / minimumChunk))
    if parts <= 1 {
      body(0, count)
      return
    }
    forEach(0..<parts) { part in body(part * count / parts, (part + 1) * count / parts) }
  }

  /// `transform` of every index of `0..<count`, computed in parallel chunks, in index order.
  /// `transform` must not write shared memory.
  @inlinable
  public static func map<T>(_ count: Int, _ transform: (Int) -> T) -> [T] {
    var results = [T?](repeating: nil, count: count)
    results.withUnsafeMutableBufferPointer { buffer in
      let slots = UncheckedPointer(buffer.baseAddress)
      forEach(0..<count) { index in slots.pointer?[index] = transform(index) }
    }
    return results.map { $0! }
  }

  /// Calls `body(i)` for every `i` of `0..<count` on its own thread (up to `workers` at
  /// once), and every engine loop `body` runs — GEMMs, convolution chunks, elementwise
  /// kernels — stays serial on that thread: one replica of a network per core, with no
  /// synchronisation inside it.
  ///
  /// With `count` up to `workers` and no other caller, the replicas run on dedicated threads
  /// that spin briefly between hand-offs (`ReplicaThreads`); otherwise on dispatch's.
  public static func replicas(_ count: Int, _ body: (Int) -> Void) {
    if !isSerialHere, let threads = ReplicaThreads.shared, threads.run(count, body) { return }
    forEach(0..<count) { index in serially { body(index) } }
  }

  /// Runs `body` with this thread's engine loops serial (as inside `replicas`).
  static func serially(_ body: () -> Void) {
    let outer = pthread_getspecific(serialKey)
    pthread_setspecific(serialKey, UnsafeRawPointer(bitPattern: 1))
    defer { pthread_setspecific(serialKey, outer) }
    body()
  }

  /// `transform(i)` for every `i` of `0..<count`, each on its own thread as in `replicas`,
  /// in index order.
  public static func replicaMap<T>(_ count: Int, _ transform: (Int) -> T) -> [T] {
    var results = [T?](repeating: nil, count: count)
    results.withUnsafeMutableBufferPointer { buffer in
      let slots = UncheckedPointer(buffer.baseAddress)
      replicas(count) { index in slots.pointer?[index] = transform(index) }
    }
    return results.map { $0! }
  }

  /// Whether this thread runs inside `replicas` (its loops stay serial).
  @inlinable
  public static var isSerialHere: Bool { pthread_getspecific(serialKey) != nil }

  @usableFromInline
  static let serialKey: pthread_key_t = {
    var key = pthread_key_t()
    precondition(pthread_key_create(&key, nil) == 0, "Parallel: no thread-specific key available")
    return key
  }()

  private static func sysconfCores() -> Int {
    Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
  }
}

/// Carries a value into a `@Sendable` closure when the caller guarantees race freedom.
@usableFromInline
struct UncheckedSendable<Value>: @unchecked Sendable {
  @usableFromInline let value: Value
  @usableFromInline init(value: Value) { self.value = value }
}

/// A raw pointer handed to parallel workers that write disjoint elements.
public struct UncheckedPointer<Element>: @unchecked Sendable {
  /// The pointer (nil for an empty buffer).
  public let pointer: UnsafeMutablePointer<Element>?
  /// Wraps a pointer.
  public init(_ pointer: UnsafeMutablePointer<Element>?) { self.pointer = pointer }
}

import Glibc
import Synchronization

/// Dedicated threads for `Parallel.replicas`: a training step hands work to the other core
/// several times (once per pass, once more per BatchNorm), and waking a sleeping dispatch
/// worker each time cost about a tenth of a smallcnn-bn step in the scheduler. A replica
/// thread instead spins for a short while after its work (about as long as the gap between
/// two hand-offs within a step) and only then sleeps on a condition variable.
///
/// One caller at a time: `run` returns false when another thread is using the threads, and
/// the caller falls back to dispatch.
final class ReplicaThreads: @unchecked Sendable {
  /// Threads for `Parallel.workers − 1` extra replicas (nil on one core).
  static let shared: ReplicaThreads? = Parallel.workers > 1 ? ReplicaThreads(count: Parallel.workers - 1) : nil

  /// Spins before a replica thread sleeps (each a relaxed load; roughly 100 µs).
  static let spinsBeforeSleeping = 200_000

  private let slots: [Slot]
  private let busy = Atomic<Bool>(false)

  private init(count: Int) {
    slots = (0..<count).map { Slot(index: $0 + 1) }
    for slot in slots { slot.start() }
  }

  /// Runs `body(0)` on the calling thread and `body(i)` for `1..<count` on the replica
  /// threads, each inside `Parallel.replicas`' serial scope, and returns when all are done.
  /// Returns false (running nothing) when `count` exceeds the threads or another caller
  /// holds them.
  func run(_ count: Int, _ body: (Int) -> Void) -> Bool {
    guard count >= 1, count - 1 <= slots.count,
      busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
    else { return false }
    defer { busy.store(false, ordering: .releasing) }
    withoutActuallyEscaping(body) { body in
      // The caller waits for every slot below, so the closure outlives its use.
      let shared = UncheckedSendable(value: body)
      for slot in slots.prefix(count - 1) { slot.post { shared.value($0) } }
      Parallel.serially { body(0) }
      for slot in slots.prefix(count - 1) { slot.waitUntilDone() }
    }
    return true
  }

  /// One replica thread and its hand-off state: 0 idle, 1 work posted, 2 work done.
  private final class Slot: @unchecked Sendable {
    let index: Int
    let state = Atomic<Int>(0)
    var work: ((Int) -> Void)?
    var mutex = pthread_mutex_t()
    var condition = pthread_cond_t()

    init(index: Int) {
      self.index = index
      pthread_mutex_init(&mutex, nil)
      pthread_cond_init(&condition, nil)
    }

    func start() {
      var thread = pthread_t()
      let context = Unmanaged.passRetained(self).toOpaque()
      let created = pthread_create(
        &thread, nil,
        { context in
          guard let context else { return nil }
          Unmanaged<Slot>.fromOpaque(context).takeRetainedValue().loop()
        }, context)
      precondition(created == 0, "Parallel: cannot start a replica thread (\(created))")
      pthread_detach(thread)
    }

    func post(_ body: @escaping (Int) -> Void) {
      work = body
      state.store(1, ordering: .releasing)
      pthread_mutex_lock(&mutex)
      pthread_cond_signal(&condition)
      pthread_mutex_unlock(&mutex)
    }

    func waitUntilDone() {
      var spins = 0
      while state.load(ordering: .acquiring) != 2 {
        spins += 1
        if spins % 4_096 == 0 { sched_yield() }
      }
      work = nil
      state.store(0, ordering: .relaxed)
    }

    private func loop() -> Never {
      while true {
        var spins = 0
        while state.load(ordering: .acquiring) != 1 {
          spins += 1
          guard spins >= ReplicaThreads.spinsBeforeSleeping else { continue }
          pthread_mutex_lock(&mutex)
          while state.load(ordering: .acquiring) != 1 { pthread_cond_wait(&condition, &mutex) }
          pthread_mutex_unlock(&mutex)
        }
        if let work { Parallel.serially { work(index) } }
        state.store(2, ordering: .releasing)
      }
    }
  }
}

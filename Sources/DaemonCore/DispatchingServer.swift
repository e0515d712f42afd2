import Foundation
import Wire

#if canImport(Glibc)
  import Glibc
#endif

/// The daemon's request loop over one ROUTER socket: the socket thread only receives and
/// sends; writes (register-run, checkpoint) go to a writer thread and everything else
/// (queries) to a reader thread, each with its own handler and SQLite connection. A
/// checkpoint's validation, fsync and commit therefore never delay a query.
///
/// Memory stays bounded: while `writerCapacity` writes wait, the socket thread reads no new
/// requests (ZeroMQ's queues and TCP push back on senders). On shutdown, requests already
/// handed to a lane are finished and answered before `run` returns.
public final class DispatchingServer: @unchecked Sendable {
  let socket: RouterServerSocket
  private let reader: Lane
  private let writer: Lane
  private let replies = ReplyQueue()
  private let log: (String) -> Void
  /// Requests served so far.
  public var served: Int { replies.sent }

  /// Creates the server; `reader` and `writer` must each own their store connection.
  public init(
    socket: RouterServerSocket, reader: RequestHandler, writer: RequestHandler, writerCapacity: Int = 2,
    log: @escaping (String) -> Void
  ) throws {
    self.socket = socket
    self.log = log
    self.reader = Lane(name: "i2xd-reader", handler: reader, capacity: 256, replies: replies)
    self.writer = Lane(name: "i2xd-writer", handler: writer, capacity: writerCapacity, replies: replies)
  }

  /// Serves until `shouldStop()` is true (checked at least every `pollMilliseconds`), then
  /// finishes and answers what the lanes hold.
  public func run(pollMilliseconds: Int = 100, until shouldStop: () -> Bool) {
    reader.start()
    writer.start()
    while !shouldStop() {
      let accepting = reader.hasRoom && writer.hasRoom
      do {
        let ready = try socket.socket.waitReadable(
          watchSocket: accepting, alsoWatching: replies.wakeDescriptor, timeoutMilliseconds: pollMilliseconds)
        if ready.fd { sendReplies() }
        if ready.socket, accepting { try receiveAvailable() }
      } catch {
        log("endpoint error: \(error)")
      }
    }
    reader.finish()
    writer.finish()
    sendReplies()
  }

  /// Hands every request waiting on the socket (up to the lanes' room) to its lane.
  private func receiveAvailable() throws {
    while reader.hasRoom && writer.hasRoom, let request = try socket.receive(timeoutMilliseconds: 0) {
      let type = request.frames.first.flatMap { $0.count == 5 ? MessageType(rawValue: $0[4]) : nil }
      let lane = type == .registerRun || type == .checkpoint ? writer : reader
      lane.submit(envelope: request.envelope, frames: request.frames)
    }
  }

  private func sendReplies() {
    replies.clearWake()
    for reply in replies.takeAll() {
      do { try socket.send(envelope: reply.envelope, frames: reply.frames) } catch {
        log("cannot send a reply (the peer may have gone): \(error)")
      }
    }
  }
}

/// Replies from the lanes to the socket thread, with a pipe that wakes its poll.
private final class ReplyQueue: @unchecked Sendable {
  private let lock = NSLock()
  private var pending: [(envelope: [[UInt8]], frames: [[UInt8]])] = []
  private var sentCount = 0
  private var pipeEnds: [Int32] = [-1, -1]

  init() {
    if pipe(&pipeEnds) == 0 {
      for fd in pipeEnds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
    }
  }

  deinit { for fd in pipeEnds where fd >= 0 { close(fd) } }

  var wakeDescriptor: Int32 { pipeEnds[0] }
  var sent: Int { lock.withLock { sentCount } }

  func post(envelope: [[UInt8]], frames: [[UInt8]]) {
    lock.withLock { pending.append((envelope, frames)) }
    var byte: UInt8 = 1
    _ = write(pipeEnds[1], &byte, 1)  // a full pipe already means "wake up"
  }

  func takeAll() -> [(envelope: [[UInt8]], frames: [[UInt8]])] {
    lock.withLock {
      defer {
        sentCount += pending.count
        pending.removeAll()
      }
      return pending
    }
  }

  func clearWake() {
    var buffer = [UInt8](repeating: 0, count: 256)
    while read(pipeEnds[0], &buffer, buffer.count) > 0 {}
  }
}

/// One handler on its own thread with a bounded queue of requests.
private final class Lane: @unchecked Sendable {
  private let name: String
  private let handler: RequestHandler
  private let capacity: Int
  private let replies: ReplyQueue
  private let lock = NSLock()
  private var queue: [(envelope: [[UInt8]], frames: [[UInt8]])] = []
  private var closed = false
  private let available = DispatchSemaphore(value: 0)
  private let done = DispatchSemaphore(value: 0)

  init(name: String, handler: RequestHandler, capacity: Int, replies: ReplyQueue) {
    self.name = name
    self.handler = handler
    self.capacity = capacity
    self.replies = replies
  }

  /// Whether another request fits (called by the socket thread).
  var hasRoom: Bool { lock.withLock { queue.count < capacity } }

  func submit(envelope: [[UInt8]], frames: [[UInt8]]) {
    lock.withLock { queue.append((envelope, frames)) }
    available.signal()
  }

  func start() {
    let thread = Thread { [self] in
      while true {
        available.wait()
        let next: (envelope: [[UInt8]], frames: [[UInt8]])? = lock.withLock {
          queue.isEmpty ? nil : queue.removeFirst()
        }
        guard let request = next else {
          if lock.withLock({ closed }) { break }
          continue
        }
        let reply = handler.handle(request.frames)
        replies.post(envelope: request.envelope, frames: reply.frames)
      }
      done.signal()
    }
    thread.name = name
    thread.start()
  }

  /// Finishes the queued requests, then ends the thread and waits for it.
  func finish() {
    lock.withLock { closed = true }
    available.signal()
    done.wait()
  }
}

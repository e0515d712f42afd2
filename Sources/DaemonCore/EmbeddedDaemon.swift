import Foundation
import Wire

/// The daemon's request loop and job worker inside the current process (benchmarks, tools):
/// the same store, handler and ROUTER socket as `i2xd`, on a dedicated thread.
public final class EmbeddedDaemon: @unchecked Sendable {
  /// The bound endpoint.
  public private(set) var endpoint = ""
  private let stop = StopFlag()
  private let finished = DispatchSemaphore(value: 0)
  private let worker: JobWorker

  /// Starts serving `dataDirectory` at `endpoint` (`tcp://127.0.0.1:*` picks a port), with
  /// jobs run as `isolation` says (on the worker thread by default; `i2xd` runs each in a
  /// child process).
  public convenience init(
    dataDirectory: URL, endpoint: String = "tcp://127.0.0.1:*", isolation: JobWorker.Isolation = .inProcess
  ) throws {
    try self.init(location: .directory(dataDirectory), endpoint: endpoint, isolation: isolation)
  }

  /// Starts serving the store at `location` (as `init(dataDirectory:…)`).
  public init(
    location: StoreLocation, endpoint: String = "tcp://127.0.0.1:*", isolation: JobWorker.Isolation = .inProcess
  ) throws {
    let log: @Sendable (String) -> Void = { _ in }
    worker = JobWorker(location: location, isolation: isolation, log: log)
    try worker.start()
    let ready = DispatchSemaphore(value: 0)
    let bound = BoundEndpoint()
    let thread = Thread { [self, worker, stop] in
      do {
        let socket = try RouterServerSocket(endpoint: endpoint, options: SocketOptions())
        defer { socket.close() }
        let writer = RequestHandler(store: try DaemonStore(location), log: log)
        writer.onStored = { worker.notify() }
        let reader = RequestHandler(store: try DaemonStore(location), log: log)
        let server = try DispatchingServer(socket: socket, reader: reader, writer: writer, log: log)
        bound.value = socket.endpoint
        ready.signal()
        server.run(pollMilliseconds: 50) { stop.isSet }
      } catch {
        bound.error = error
        ready.signal()
      }
      finished.signal()
    }
    thread.name = "i2xd-embedded"
    thread.start()
    ready.wait()
    if let error = bound.error {
      worker.stop()
      throw error
    }
    self.endpoint = bound.value
  }

  /// Stops the loop and the worker.
  public func shutdown() {
    stop.set()
    finished.wait()
    worker.stop()
  }
}

/// Start-up result handed from the server thread (written before `ready` is signalled).
private final class BoundEndpoint: @unchecked Sendable {
  var value = ""
  var error: Error?
}

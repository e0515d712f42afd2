import Checkpoints
import Foundation
import Glibc
import Testing
import Wire

/// Hostile corpora: registrations and checkpoints built to overflow sizes, exhaust memory or
/// nest without end. Each is refused with `bad-data` and a reason naming the problem, nothing
/// is stored, and the daemon keeps answering — also *while* it validates a large bad file.
@Suite(.serialized) struct ReliabilityHostileCorpusTests {
  /// A refused request: the reply must be `bad-data` whose message contains `reason`.
  struct Refusal {
    var label: String
    var message: WireMessage
    var reason: String
  }

  func expectRefused(_ refusals: [Refusal], by daemon: DaemonUnderTest) throws {
    let client = RawWireClient(endpoint: daemon.endpoint)
    defer { client.reset() }
    for refusal in refusals {
      let started = Date()
      let reply = try client.exchange(refusal.message, timeout: 60_000)
      let message = reply?.errorMessage ?? ""
      print(
        "[reliability] hostile \(refusal.label): \(reply?.outcome ?? "no reply") in "
          + "\(String(format: "%.2f", Date().timeIntervalSince(started))) s: \(message.prefix(200))")
      #expect(reply?.outcome == "error:bad-data", "\(refusal.label)")
      #expect(message.lowercased().contains(refusal.reason.lowercased()), "\(refusal.label): \(message)")
    }
  }

  @Test func hostileRegistrationsAreRefusedWithAReason() throws {
    let daemon = try DaemonUnderTest()
    try daemon.start()
    let run = HandBuiltRun(name: "hostile")
    func convNet(out: String = "4", padding: String = "1", kernel: String = "3", classes: Int = 10) -> String {
      HandBuiltRun.architecture(
        layers: [
          #"{"in":1,"kernel":\#(kernel),"kind":"conv2d","name":"conv1","out":\#(out),"padding":\#(padding)}"#,
          #"{"kind":"relu","name":"relu1"}"#, #"{"kind":"gap","name":"gap"}"#,
          #"{"in":\#(out),"kind":"linear","name":"fc","out":\#(classes)}"#,
        ], classes: classes)
    }
    let wideLinear = HandBuiltRun.architecture(layers: [
      #"{"in":1,"kernel":3,"kind":"conv2d","name":"conv1","out":4,"padding":1}"#, #"{"kind":"relu","name":"relu1"}"#,
      #"{"kind":"gap","name":"gap"}"#, #"{"in":4,"kind":"linear","name":"fc1","out":100000}"#,
      #"{"in":100000,"kind":"linear","name":"fc2","out":100000}"#,
      #"{"in":100000,"kind":"linear","name":"fc","out":10}"#,
    ])
    /// Residual blocks nested `depth` deep around one ReLU.
    func nested(_ depth: Int) -> String {
      let open = (0..<depth).map { #"{"kind":"residual","name":"r\#($0)","layers":["# }.joined()
      let inner = #"{"kind":"relu","name":"inner"}"#
      return HandBuiltRun.architecture(layers: [
        #"{"in":1,"kernel":3,"kind":"conv2d","name":"conv1","out":4,"padding":1}"#,
        #"{"kind":"relu","name":"relu1"}"#, open + inner + String(repeating: "]}", count: depth),
        #"{"kind":"gap","name":"gap"}"#, #"{"in":4,"kind":"linear","name":"fc","out":10}"#,
      ])
    }
    let manyLayers = HandBuiltRun.architecture(
      layers: [#"{"in":1,"kernel":3,"kind":"conv2d","name":"conv1","out":4,"padding":1}"#]
        + (0..<1_500).map { #"{"kind":"relu","name":"relu\#($0)"}"# }
        + [#"{"kind":"gap","name":"gap"}"#, #"{"in":4,"kind":"linear","name":"fc","out":10}"#])
    let combining = "a" + String(repeating: "\u{0301}", count: 5_000)  // 10,001 bytes, one character
    let refusals: [Refusal] = [
      Refusal(
        label: "conv out 2^62", message: try run.registerMessage(architecture: convNet(out: "4611686018427387904")),
        reason: "out"),
      Refusal(
        label: "conv padding 2^62",
        message: try run.registerMessage(architecture: convNet(padding: "4611686018427387904")),
        reason: "padding"),
      Refusal(
        label: "kernel 2^40", message: try run.registerMessage(architecture: convNet(kernel: "1099511627776")),
        reason: "kernel"),
      Refusal(
        label: "linear 100000x100000", message: try run.registerMessage(architecture: wideLinear), reason: "parameters"),
      Refusal(
        label: "classes 2^40", message: try run.registerMessage(architecture: convNet(classes: 1 << 40)),
        reason: "classes"),
      Refusal(
        label: "20,000-image probe set",
        message: try HandBuiltRun(name: "hostile", probeImages: 20_000).registerMessage(),
        reason: "probe images"),
      Refusal(label: "NUL in the name", message: try run.registerMessage(name: "a\u{0}b"), reason: "control"),
      Refusal(
        label: "newline in the name", message: try run.registerMessage(name: "a\nforged log line"), reason: "control"),
      Refusal(label: "ESC in the name", message: try run.registerMessage(name: "\u{1B}[31mred"), reason: "control"),
      Refusal(label: "empty name", message: try run.registerMessage(name: ""), reason: "bytes"),
      Refusal(label: "10 kB combining-mark name", message: try run.registerMessage(name: combining), reason: "bytes"),
      Refusal(
        label: "residuals nested 2,000 deep", message: try run.registerMessage(architecture: nested(2_000)),
        reason: "architecture JSON"),
      Refusal(
        label: "residuals nested 100,000 deep", message: try run.registerMessage(architecture: nested(100_000)),
        reason: "architecture JSON"),
      Refusal(label: "1,500 layers", message: try run.registerMessage(architecture: manyLayers), reason: "layers"),
    ]
    try expectRefused(refusals, by: daemon)
    #expect(try daemon.query("status")["runs"] as? Int == 0, "nothing registered")
    daemon.expectHealthy("hostile registrations")
    daemon.stopCleanly("hostile registrations")
  }

  /// Daemon defect (reported): residual blocks nested past Foundation's JSON depth limit (512
  /// levels) are refused as "architecture JSON is malformed … not valid JSON", which is wrong
  /// (the JSON is valid) and does not name the problem (nesting depth).
  @Test
  func deeplyNestedResidualsAreRefusedNamingTheDepth() throws {
    let daemon = try DaemonUnderTest()
    try daemon.start()
    let open = (0..<2_000).map { #"{"kind":"residual","name":"r\#($0)","layers":["# }.joined()
    let architecture = HandBuiltRun.architecture(layers: [
      #"{"in":1,"kernel":3,"kind":"conv2d","name":"conv1","out":4,"padding":1}"#, #"{"kind":"relu","name":"relu1"}"#,
      open + #"{"kind":"relu","name":"inner"}"# + String(repeating: "]}", count: 2_000),
      #"{"kind":"gap","name":"gap"}"#, #"{"in":4,"kind":"linear","name":"fc","out":10}"#,
    ])
    let refusal = Refusal(
      label: "residuals nested 2,000 deep",
      message: try HandBuiltRun(name: "deep").registerMessage(architecture: architecture), reason: "nest")
    try expectRefused([refusal], by: daemon)
    daemon.stopCleanly("deep nesting")
  }

  @Test func hostileCheckpointsAreRefusedAndQueriesStayFast() throws {
    let daemon = try DaemonUnderTest()
    try daemon.start()
    let run = HandBuiltRun(name: "hostile")
    let client = RawWireClient(endpoint: daemon.endpoint)
    defer { client.reset() }
    #expect(try client.exchange(try run.registerMessage())?.outcome == "ack:registered")
    func bad(_ label: String, _ payload: [UInt8], _ reason: String, step: Int = 1) throws -> Refusal {
      Refusal(label: label, message: try run.checkpointMessage(step: step, payload: payload), reason: reason)
    }
    let nan = run.checkpoint(seed: 1) {
      $0["fc.bias"] = TensorRecord(floats: [Float](repeating: .nan, count: 10), shape: [10])
    }
    let infinity = run.checkpoint(seed: 1) {
      $0["conv1.weight"] = TensorRecord(floats: [.infinity] + [Float](repeating: 0, count: 35), shape: [4, 1, 3, 3])
    }
    let transposed = run.checkpoint(seed: 1) {
      $0["fc.weight"] = TensorRecord(floats: [Float](repeating: 0, count: 40), shape: [4, 10])
    }
    let missing = run.checkpoint(seed: 1) { $0["fc.bias"] = nil }
    let extra = run.checkpoint(seed: 1) { $0["fc2.weight"] = TensorRecord(floats: [0, 0], shape: [2]) }
    try expectRefused(
      [
        try bad("empty {}", rawSafetensors(header: "{}"), "no tensor"),
        try bad("NaN weights", nan, "finite"),
        try bad("+Inf weight", infinity, "finite"),
        try bad("transposed fc.weight", transposed, "shape"),
        try bad("missing fc.bias", missing, "fc.bias"),
        try bad("extra tensor", extra, "fc2.weight"),
      ], by: daemon)

    // Large bad files, each while another socket keeps asking for status.
    func zeroSizeEntries(_ count: Int) -> String {
      var header = "{"
      header.reserveCapacity(count * 56)
      for index in 0..<count {
        header += #""t\#(index)":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}"# + (index + 1 < count ? "," : "")
      }
      return header + "}"
    }
    let large: [(String, [UInt8], String)] = [
      ("100,000-entry header", rawSafetensors(header: zeroSizeEntries(100_000)), "tensors"),
      ("300,000-entry header", rawSafetensors(header: zeroSizeEntries(300_000)), "header"),
      ("80 MB header of zero-size entries", rawSafetensors(header: zeroSizeEntries(1_450_000)), "header"),
    ]
    for (label, payload, reason) in large {
      let latencies = try whileValidating(try bad(label, payload, reason, step: 2), daemon: daemon)
      print(
        "[reliability] hostile \(label) (\(payload.count >> 20) MB): \(latencies.count) status queries meanwhile, "
          + "slowest \(String(format: "%.3f", latencies.max() ?? 0)) s")
      // The smaller files may be refused before a first query overlaps them; 80 MB may not.
      #expect(
        !latencies.isEmpty || payload.count < 50 << 20, "\(label): validation ended before a query could overlap it")
      #expect((latencies.max() ?? 0) < 1, "\(label): a status query waited behind the validation")
    }
    #expect(try daemon.storedCheckpoints(run: "hostile").isEmpty, "nothing stored")
    // An 80 MB request is held by libzmq and copied once into the request's frames: 209 MB
    // measured, under the default 300 MB bound.
    daemon.expectHealthy("hostile checkpoints")
    daemon.stopCleanly("hostile checkpoints")
  }

  /// Sends `refusal` on one socket and, until its reply arrives, times `status` queries on
  /// another. Expects the refusal; returns the queries' latencies in seconds.
  func whileValidating(_ refusal: Refusal, daemon: DaemonUnderTest) throws -> [Double] {
    let done = DispatchSemaphore(value: 0)
    let outcome = OutcomeBox()
    let endpoint = daemon.endpoint
    let frames = refusal.message.frames
    Thread {
      let client = RawWireClient(endpoint: endpoint)
      defer {
        client.reset()
        done.signal()
      }
      let reply = (try? client.exchange(frames, timeout: 120_000)).flatMap { try? WireMessage(frames: $0) }
      outcome.set(reply)
    }.start()
    var latencies: [Double] = []
    while done.wait(timeout: .now() + .milliseconds(20)) == .timedOut {
      let started = Date()
      _ = try daemon.query("status", timeout: 5000)
      latencies.append(Date().timeIntervalSince(started))
    }
    let reply = outcome.get()
    print(
      "[reliability] hostile \(refusal.label): \(reply?.outcome ?? "no reply"): \(reply?.errorMessage?.prefix(200) ?? "")"
    )
    #expect(reply?.outcome == "error:bad-data", "\(refusal.label)")
    #expect(reply?.errorMessage?.lowercased().contains(refusal.reason) == true, "\(refusal.label)")
    return latencies
  }
}

/// A reply handed from one thread to another.
final class OutcomeBox: @unchecked Sendable {
  private let lock = NSLock()
  private var value: WireMessage?
  func set(_ reply: WireMessage?) { lock.withLock { value = reply } }
  func get() -> WireMessage? { lock.withLock { value } }
}

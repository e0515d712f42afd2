import Checkpoints
import Foundation
import Wire

/// Structure-aware mutations of valid i2x messages, for the wire fuzzer: byte flips, inserts
/// and deletes in any frame, wrong frame counts, wrong envelope bytes, JSON header fields of the
/// wrong type or with huge numbers, safetensors header mutations (dtype, shape, offsets,
/// lengths, metadata), truncated payloads, bad digests, non-finite weights. Seeded: the same
/// seed gives the same messages.
struct WireMutator {
  /// One fuzz message.
  struct Case {
    var frames: [[UInt8]]
    /// What was done to the base message, for failure reports.
    var label: String
    /// Over the daemon's `--max-message-size`: a disconnect, not a reply, is expected.
    var oversize = false
  }

  private var generator: SeededGenerator
  private let runs: [HandBuiltRun]
  private let probe: [UInt8]
  private let maximumMessageSize: Int
  private let queries = ["status", "runs", "checkpoints", "prototypes", "progress", "pairs", "uncertain", "analysis"]

  /// - Parameters:
  ///   - runs: Runs the base messages name (the first one is registered before fuzzing).
  ///   - maximumMessageSize: The daemon's `--max-message-size`; about 1 in 2,000 cases exceeds it.
  init(seed: UInt64, runs: [HandBuiltRun], maximumMessageSize: Int) {
    generator = SeededGenerator(seed: seed)
    self.runs = runs
    probe = runs[0].probe
    self.maximumMessageSize = maximumMessageSize
  }

  private mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &generator) < p }
  private mutating func int(_ range: Range<Int>) -> Int { Int.random(in: range, using: &generator) }
  private mutating func pick<T>(_ items: [T]) -> T { items[int(0..<items.count)] }

  /// The next case: a valid base message with zero to three mutations.
  mutating func next() -> Case {
    if int(0..<2_000) == 0 {
      let payload = [UInt8](repeating: 7, count: maximumMessageSize + 1)
      return Case(frames: [WireMessage.magic + [1, 2], Array("{}".utf8), payload], label: "oversize", oversize: true)
    }
    var (frames, label) = base()
    for _ in 0..<pick([0, 1, 1, 1, 2, 3]) {
      let (mutated, what) = mutate(frames)
      frames = mutated
      label += " + " + what
    }
    return Case(frames: frames, label: label)
  }

  private mutating func base() -> ([[UInt8]], String) {
    let run = pick(runs)
    // Safe: the headers are plain Codable values.
    switch int(0..<10) {
    case 0..<2:
      let message = try? run.registerMessage(probe: probe)
      return (message?.frames ?? [], "register \(run.name)")
    case 2..<7:
      let step = int(0..<12)
      let message = try? run.checkpointMessage(step: step, payload: run.checkpoint(seed: UInt64(int(0..<3))))
      return (message?.frames ?? [], "checkpoint \(run.name) step \(step)")
    default:
      let query = pick(queries)
      let message = try? WireMessage(
        type: .query,
        header: QueryHeader(query: query, run: chance(0.7) ? run.name : nil, step: chance(0.3) ? int(0..<12) : nil))
      return (message?.frames ?? [], "query \(query)")
    }
  }

  private mutating func mutate(_ frames: [[UInt8]]) -> ([[UInt8]], String) {
    var frames = frames
    let index = frames.isEmpty ? 0 : int(0..<frames.count)
    switch int(0..<12) {
    case 0 where !frames.isEmpty && !frames[index].isEmpty:
      for _ in 0..<int(1..<5) { frames[index][int(0..<frames[index].count)] ^= UInt8(int(1..<256)) }
      return (frames, "flip frame \(index)")
    case 1 where !frames.isEmpty:
      for _ in 0..<int(1..<5) { frames[index].insert(UInt8(int(0..<256)), at: int(0..<(frames[index].count + 1))) }
      return (frames, "insert frame \(index)")
    case 2 where !frames.isEmpty && !frames[index].isEmpty:
      frames[index].remove(at: int(0..<frames[index].count))
      return (frames, "delete byte frame \(index)")
    case 3 where !frames.isEmpty:
      frames[index] = Array(frames[index].prefix(int(0..<(frames[index].count + 1))))
      return (frames, "truncate frame \(index)")
    case 4:
      switch int(0..<5) {
      case 0: frames = Array(frames.dropLast())
      case 1: frames.append((0..<int(0..<64)).map { _ in UInt8(int(0..<256)) })
      case 2: frames = frames + frames
      case 3: frames = frames.map { _ in [] }
      default: frames = frames.isEmpty ? [] : [frames[int(0..<frames.count)]]
      }
      return (frames, "frame count \(frames.count)")
    case 5 where !frames.isEmpty && frames[0].count == 5:
      let byte = int(0..<5)
      frames[0][byte] = UInt8(int(0..<256))
      return (frames, "envelope byte \(byte)")
    case 6...7 where frames.count >= 2:
      let (header, what) = mutateJSON(frames[1])
      frames[1] = header
      return (frames, "header \(what)")
    case 8...9 where frames.count >= 3:
      let (payload, what) = mutateSafetensors(frames[2])
      frames[2] = payload
      return (resha(frames), "payload \(what)")
    case 10 where frames.count >= 3:
      frames[2] = Array(frames[2].prefix(int(0..<(frames[2].count + 1))))
      return (chance(0.5) ? resha(frames) : frames, "payload truncated")
    case 11 where frames.count >= 2:
      let digest = chance(0.5) ? String(repeating: "0", count: 64) : SHA256.hex([UInt8(int(0..<256))])
      frames[1] = rewrite(frames[1]) { $0["sha256"] = digest }
      return (frames, "sha mismatch")
    default:
      return (frames, "none")
    }
  }

  /// Sets the header's `sha256` to the payload's (when both are intact enough).
  private func resha(_ frames: [[UInt8]]) -> [[UInt8]] {
    guard frames.count >= 3 else { return frames }
    var frames = frames
    frames[1] = rewrite(frames[1]) { if $0["sha256"] != nil { $0["sha256"] = SHA256.hex(frames[2]) } }
    return frames
  }

  /// Literals that break a JSON field's type or range.
  private static let literals = [
    "1e400", "-1e400", "18446744073709551616", "-9223372036854775809", "9223372036854775807", "-1", "1.5", "0",
    "true", "null", "[]", "{}", #""x""#, #""\u0000""#, "[1,[2,[3]]]", #"{"a":{"b":1}}"#,
    "\"" + String(repeating: "é", count: 600) + "\"",
  ]

  private mutating func mutateJSON(_ bytes: [UInt8]) -> ([UInt8], String) {
    guard let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any], !object.isEmpty
    else { return (Array(pick(Self.literals).utf8), "replaced") }
    let key = pick(object.keys.sorted())
    switch int(0..<4) {
    case 0: return (rewrite(bytes) { $0[key] = nil }, "without \(key)")
    case 1: return (rewrite(bytes) { $0["extra"] = 1 }, "extra field")
    case 2 where key == "architecture":
      let (architecture, what) = mutateJSON(Array((object[key] as? String ?? "").utf8))
      return (rewrite(bytes) { $0[key] = String(decoding: architecture, as: UTF8.self) }, "architecture \(what)")
    default:
      let literal = pick(Self.literals)
      return (rewrite(bytes, key: key, literal: literal), "\(key)=\(literal.prefix(24))")
    }
  }

  private mutating func mutateSafetensors(_ bytes: [UInt8]) -> ([UInt8], String) {
    guard bytes.count >= 8 else { return (bytes, "too short to mutate") }
    let length = bytes.prefix(8).enumerated().reduce(0) { $0 | (Int($1.element) << (8 * $1.offset)) }
    guard length >= 0, length <= bytes.count - 8 else { return (bytes, "unparseable") }
    var header = Array(bytes[8..<(8 + length)])
    var data = Array(bytes[(8 + length)...])
    var claimed: UInt64?
    let what: String
    let object = (try? JSONSerialization.jsonObject(with: Data(header))) as? [String: Any] ?? [:]
    let names = object.keys.filter { $0 != "__metadata__" }.sorted()
    switch int(0..<9) {
    case 0 where !names.isEmpty:
      let name = pick(names)
      let dtype = pick([
        #""F64""#, #""I8""#, #""BOOL""#, #""""#, "7", "null", #""U8""#, #""I64""#, #""F16""#, #""BF16""#,
      ])
      header = rewrite(header, path: [name, "dtype"], literal: dtype)
      what = "\(name) dtype \(dtype)"
    case 1 where !names.isEmpty:
      let name = pick(names)
      let shape = pick([
        "[]", "[-1]", "[0]", "[4611686018427387904,4611686018427387904]", "[1,1,1,1,1,1,1,1,1,1]", #""x""#, "[1.5]",
        "[18446744073709551615]", "[10,4]", "[4,10]",
      ])
      header = rewrite(header, path: [name, "shape"], literal: shape)
      what = "\(name) shape \(shape)"
    case 2 where !names.isEmpty:
      let name = pick(names)
      let offsets = pick(["[16,0]", "[0,9223372036854775807]", "[-1,4]", "[0]", #""x""#, "[0,0]", "[0,1e30]", "[4,8]"])
      header = rewrite(header, path: [name, "data_offsets"], literal: offsets)
      what = "\(name) offsets \(offsets)"
    case 3 where !names.isEmpty:
      let name = pick(names)
      header = rewrite(header) { $0[name] = nil }
      what = "without \(name)"
    case 4 where !names.isEmpty:
      let name = pick(names)
      header = rewrite(header) { $0[name + ".copy"] = $0[name] }
      what = "copy of \(name)"
    case 5:
      let metadata = pick([
        #"{"i2x.architecture":"{"}"#, #"{"k":5}"#, #"[]"#, "\"" + String(repeating: "m", count: 2_000) + "\"",
        #"{"i2x.classes":"[1,2"}"#,
      ])
      header = rewrite(header, path: ["__metadata__"], literal: metadata)
      what = "metadata \(metadata.prefix(24))"
    case 6:
      claimed = pick([0, UInt64(length + int(1..<64)), UInt64(max(0, length - int(1..<8))), UInt64.max, 1 << 40])
      what = "claimed header length \(claimed ?? 0)"
    case 7 where data.count >= 4:
      let position = int(0..<(data.count / 4)) * 4
      let value = pick([Float.nan, .infinity, -.infinity, .greatestFiniteMagnitude, .leastNonzeroMagnitude, 3])
      withUnsafeBytes(of: value.bitPattern.littleEndian) { data.replaceSubrange(position..<(position + 4), with: $0) }
      what = "float \(position / 4) = \(value)"
    default:
      data = Array(data.prefix(int(0..<(data.count + 1))))
      what = "data truncated to \(data.count) bytes"
    }
    var out: [UInt8] = []
    withUnsafeBytes(of: (claimed ?? UInt64(header.count)).littleEndian) { out.append(contentsOf: $0) }
    return (out + header + data, what)
  }

  /// `bytes` (a JSON object) re-encoded after `edit`; unchanged when it is not an object.
  private func rewrite(_ bytes: [UInt8], _ edit: (inout [String: Any]) -> Void) -> [UInt8] {
    guard var object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else { return bytes }
    edit(&object)
    return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])).map { [UInt8]($0) } ?? bytes
  }

  /// `bytes` with the value at `key` (or nested `path`) replaced by a raw JSON literal, which
  /// may be out of any JSON library's range (1e400, 2^64).
  private func rewrite(_ bytes: [UInt8], key: String? = nil, path: [String] = [], literal: String) -> [UInt8] {
    let placeholder = "__i2x_fuzz_placeholder__"
    let path = key.map { [$0] } ?? path
    let edited = rewrite(bytes) { object in
      if path.count == 1 {
        object[path[0]] = placeholder
      } else if path.count == 2, var inner = object[path[0]] as? [String: Any] {
        inner[path[1]] = placeholder
        object[path[0]] = inner
      }
    }
    let text = String(decoding: edited, as: UTF8.self)
    return Array(text.replacingOccurrences(of: "\"\(placeholder)\"", with: literal).utf8)
  }
}

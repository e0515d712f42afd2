import Engine
import Foundation
import Models
import Testing

/// `Architecture.validate(limits:)` refuses hostile architectures by a dry run over the layer
/// specs: quickly, without trapping on overflow and without allocating parameters.
@Suite struct ArchitectureLimitsTests {
  /// Limits that leave only the overflow checks standing (every cap at `Int.max`).
  static let unlimited = Architecture.Limits(
    maximumParameters: .max, maximumActivationElements: .max, maximumClasses: .max, maximumLayers: .max,
    maximumDimension: .max)

  /// An `i2x.architecture/1` document around `layers` (JSON objects, comma-separated).
  static func json(input: [Int], classes: Int, target: String, layers: String) -> String {
    #"{"format":"i2x.architecture/1","name":"hostile","input":\#(input),"classes":\#(classes),"#
      + #""target":"\#(target)","layers":[\#(layers)]}"#
  }

  /// The `ArchitectureError` message for `json` under `limits`, or nil if it is accepted.
  static func rejection(_ json: String, limits: Architecture.Limits = .default) -> String? {
    do {
      _ = try Architecture(json: json, limits: limits)
      return nil
    } catch {
      return error.description
    }
  }

  /// One hostile architecture with the phrases its error must contain under the default limits
  /// and with every cap lifted (where only overflow-checked arithmetic stands in the way).
  struct Hostile: Sendable, CustomTestStringConvertible {
    var label: String
    var json: String
    var byDefault: [String]
    var unlimited: [String]
    var testDescription: String { label }
  }

  static let twoTo62 = 1 << 62
  static let twoTo40 = 1 << 40

  static let hostile: [Hostile] = [
    Hostile(
      label: "conv out 2^62",
      json: json(
        input: [1, 8, 8], classes: 2, target: "c",
        layers: #"{"kind":"conv2d","name":"c","in":1,"out":\#(twoTo62),"kernel":3}"#),
      byDefault: ["layer 'c' (conv2d)", "'out' is \(twoTo62)", "1000000 cap"],
      unlimited: ["layer 'c' (conv2d)", "\(twoTo62)×1×3×3 weights", "more than \(Int.max) parameters"]),
    Hostile(
      label: "conv padding 2^62",
      json: json(
        input: [1, 8, 8], classes: 2, target: "c",
        layers: #"{"kind":"conv2d","name":"c","in":1,"out":2,"kernel":3,"padding":\#(twoTo62)}"#),
      byDefault: ["layer 'c' (conv2d)", "'padding' is \(twoTo62)"],
      // 8 + 2·2⁶² overflows, so the window is reported as not fitting instead of trapping.
      unlimited: ["layer 'c' (conv2d) cannot take input of shape [1, 8, 8]"]),
    Hostile(
      label: "conv padding 2^60 (output overflows)",
      json: json(
        input: [1, 8, 8], classes: 2, target: "c",
        layers: #"{"kind":"conv2d","name":"c","in":1,"out":2,"kernel":1,"padding":\#(1 << 60)}"#),
      byDefault: ["'padding' is \(1 << 60)"],
      // Ho = Wo = 8 + 2⁶¹: the element count 2·Ho·Wo overflows.
      unlimited: ["layer 'c' (conv2d): output", "more than \(Int.max) elements per image", "--max-activation-elements"]
    ),
    Hostile(
      label: "conv kernel 2^40",
      json: json(
        input: [1, 8, 8], classes: 2, target: "c",
        layers: #"{"kind":"conv2d","name":"c","in":1,"out":2,"kernel":\#(twoTo40),"padding":\#(twoTo40)}"#),
      byDefault: ["'kernel' is \(twoTo40)"],
      unlimited: ["2×1×\(twoTo40)×\(twoTo40) weights", "more than \(Int.max) parameters", "--max-parameters"]),
    Hostile(
      label: "linear 100000×100000",
      json: json(
        input: [100_000, 1, 1], classes: 100_000, target: "r",
        layers: #"{"kind":"relu","name":"r"},{"kind":"gap","name":"g"},"#
          + #"{"kind":"linear","name":"fc","in":100000,"out":100000}"#),
      byDefault: [
        "layer 'fc' (linear): 100000×100000 weights + 100000 biases = 10000100000 parameters",
        "over the 100000000-parameter cap", "i2xd --max-parameters",
      ],
      unlimited: []),
    Hostile(
      label: "classes 2^40",
      json: json(
        input: [1, 8, 8], classes: twoTo40, target: "c",
        layers: #"{"kind":"conv2d","name":"c","in":1,"out":2,"kernel":3},{"kind":"gap","name":"g"},"#
          + #"{"kind":"linear","name":"fc","in":2,"out":\#(twoTo40)}"#),
      byDefault: ["\(twoTo40) classes, over the 100000-class cap", "i2xd --max-classes"],
      // 3·2⁴⁰ parameters fit in Int: with every cap lifted this one is valid (and not built).
      unlimited: []),
    Hostile(
      label: "input 2^62",
      json: json(
        input: [1, twoTo62, twoTo62], classes: 2, target: "c",
        layers: #"{"kind":"conv2d","name":"c","in":1,"out":2,"kernel":3}"#),
      byDefault: ["input [1, \(twoTo62), \(twoTo62)] has size \(twoTo62), over the 1000000 cap"],
      unlimited: ["input 1×\(twoTo62)×\(twoTo62) = more than \(Int.max) elements per image"]),
    Hostile(
      label: "input 3×5000×5000",
      json: json(
        input: [3, 5000, 5000], classes: 2, target: "c",
        layers: #"{"kind":"conv2d","name":"c","in":3,"out":2,"kernel":3}"#),
      byDefault: ["input 3×5000×5000 = 75000000 elements per image, over the 16777216-element cap"],
      unlimited: []),
  ]

  @Test(arguments: hostile)
  func hostileArchitecturesAreRefusedQuicklyWithoutTrapping(_ case: Hostile) {
    for (limits, phrases) in [(Architecture.Limits.default, `case`.byDefault), (Self.unlimited, `case`.unlimited)]
    where !phrases.isEmpty {
      let start = ContinuousClock.now
      let message = Self.rejection(`case`.json, limits: limits)
      #expect(ContinuousClock.now - start < .seconds(1))
      for phrase in phrases {
        #expect(message?.contains(phrase) == true, "\(phrase) not in \(message ?? "nil (accepted)")")
      }
    }
  }

  @Test func tooManyLayersAreRefused() {
    let relus = (1...1001).map { #"{"kind":"relu","name":"r\#($0)"}"# }.joined(separator: ",")
    let json = Self.json(
      input: [1, 8, 8], classes: 1, target: "r1", layers: relus + #",{"kind":"gap","name":"g"}"#)
    let message = Self.rejection(json)
    #expect(message?.contains("layer 'r1001' is layer number 1001") == true, "\(message ?? "nil")")
    #expect(message?.contains("over the 1000-layer cap") == true)
  }

  /// 1,500 residual blocks, each inside the previous one: the walk stops at the layer cap
  /// (1,000 frames deep) instead of recursing further; as JSON the nesting (3,002 levels) is
  /// refused by its depth before any decoding.
  @Test func deeplyNestedResidualsAreRefused() {
    var block = LayerSpec(kind: "relu", name: "leaf")
    for depth in 0..<1500 { block = LayerSpec(kind: "residual", name: "block\(depth)", layers: [block]) }
    let architecture = Architecture(
      name: "deep", input: [1, 4, 4], classes: 1, target: "block1499",
      layers: [block, LayerSpec(kind: "gap", name: "gap")])
    #expect {
      try architecture.validate()
    } throws: { error in
      (error as? ArchitectureError)?.description.contains("over the 1000-layer cap") == true
    }
    let json =
      String(repeating: #"{"kind":"residual","name":"b","layers":["#, count: 1500)
      + #"{"kind":"relu","name":"leaf"}"# + String(repeating: "]}", count: 1500)
    let message = Self.rejection(Self.json(input: [1, 4, 4], classes: 1, target: "b", layers: json))
    #expect(message?.contains("levels deep") == true, "\(message ?? "nil")")
    // Brackets inside strings do not count.
    #expect(Architecture.nestingDepth(#"{"a":"[[[{{{\"[[","b":[1,[2]]}"#) == 3)
  }

  /// Reads this process's resident set size from /proc/self/statm (pages × page size).
  static func residentBytes() -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
  }

  /// With the parameter cap lifted, the 100000×100000 linear layer passes validation: the dry
  /// run counts its 10,000,100,000 parameters (40 GB of F32) without allocating them.
  @Test func validatingAHugeLinearLayerAllocatesNothing() throws {
    let json = Self.json(
      input: [100_000, 1, 1], classes: 100_000, target: "r",
      layers: #"{"kind":"relu","name":"r"},{"kind":"gap","name":"g"},"#
        + #"{"kind":"linear","name":"fc","in":100000,"out":100000}"#)
    let limits = Architecture.Limits(maximumParameters: .max)
    let before = try #require(Self.residentBytes())
    let footprint = try Architecture(json: json, limits: limits).validate(limits: limits)
    let after = try #require(Self.residentBytes())
    #expect(footprint.parameterCount == 100_000 * 100_000 + 100_000)
    #expect(after - before < 50_000_000, "resident memory grew by \(after - before) bytes")
  }
}

import Foundation

/// A set of direct 3×3 convolution kernels (`Conv2d+Direct`).
public enum DirectKernels: String, Sendable {
  /// Module `DirectConv`: 16-float vectors, compiled for `skylake-avx512`.
  case avx512
  /// Module `DirectConvAVX2`: 8-float vectors, compiled for `haswell` (AVX2 and FMA).
  case avx2
}

/// Which direct kernels this process may use: each set is compiled for its instruction set and
/// runs only on a CPU whose flags (as Linux reports them in /proc/cpuinfo, which lists a
/// feature only when the kernel also saves its registers) include every extension that
/// target enables and the code generator uses. `I2X_CONV=im2col` in the environment turns
/// them off and `I2X_CONV=avx2` keeps to the AVX2 set (benchmarks compare the paths).
public enum DirectConvolutionSupport {
  /// The flags the `haswell` target assumes that generated code can use.
  static let avx2Flags: Set<String> = ["avx2", "avx", "fma", "f16c", "bmi1", "bmi2", "popcnt", "movbe", "abm"]

  /// The flags the `skylake-avx512` target assumes that generated code can use.
  static let avx512Flags: Set<String> = avx2Flags.union(["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"])

  /// The best set the CPU runs (and the environment allows); nil: im2col + SGEMM.
  public static let kernels: DirectKernels? = {
    let choice = ProcessInfo.processInfo.environment["I2X_CONV"]
    if choice == "im2col" { return nil }
    if choice != "avx2" && runs(.avx512) { return .avx512 }
    return runs(.avx2) ? .avx2 : nil
  }()

  /// Whether 3×3 same convolutions take direct kernels at all.
  public static var available: Bool { kernels != nil }

  /// Whether the CPU runs `set` (read once: `Conv2d.directKernels` asks on every call).
  public static func runs(_ set: DirectKernels) -> Bool { set == .avx512 ? runsAVX512 : runsAVX2 }

  private static let runsAVX512 = cpuFlags.map { avx512Flags.isSubset(of: $0) } ?? false
  private static let runsAVX2 = cpuFlags.map { avx2Flags.isSubset(of: $0) } ?? false

  /// Whether the direct path of `set` also takes the weight gradient of an H×W plane. Measured
  /// per layer (`i2x-bench convs`). AVX-512: from 14×14 up it is faster than im2col + SGEMM
  /// (32×32: 2.6×), below (8×8, 7×7) slower, its sums too short for their reductions. AVX2
  /// (Zen 3), whose kernel takes the nine taps in two passes (18 sums do not fit in 16
  /// registers): faster at 28×28 and 32×32 (1.3–3×), at 16×16 with 32 and 64 channels slower
  /// (0.75–0.9×), at 14×14 on par or faster (1.0–1.5×, noisy), so from 512 pixels up.
  public static func weightGradientIsDirect(height: Int, width: Int, kernels set: DirectKernels) -> Bool {
    height * width >= (set == .avx512 ? 128 : 512)
  }

  /// The first processor's flags in /proc/cpuinfo (nil where it cannot be read).
  static let cpuFlags: Set<String>? = {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
      let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
      let colon = line.firstIndex(of: ":")
    else { return nil }
    return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
  }()
}

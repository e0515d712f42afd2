import Foundation

/// Whether this process may use the `DirectConv` kernels: they are compiled for AVX-512 and
/// run only on a CPU whose flags (as Linux reports them in /proc/cpuinfo, which lists a
/// feature only when the kernel also saves its registers) include every extension that
/// target enables and the code generator uses. `I2X_CONV=im2col` in the environment turns
/// them off (benchmarks compare both paths).
public enum DirectConvolutionSupport {
  /// The flags the `skylake-avx512` target assumes that generated code can use.
  static let requiredFlags: Set<String> = [
    "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl", "avx2", "avx", "fma", "f16c", "bmi1", "bmi2",
    "popcnt", "movbe", "abm",
  ]

  /// Whether the CPU runs the kernels (and the environment allows them).
  public static let available: Bool = {
    if ProcessInfo.processInfo.environment["I2X_CONV"] == "im2col" { return false }
    return cpuHasFlags(requiredFlags)
  }()

  /// Whether the direct path also takes the weight gradient of an H×W plane. Measured per
  /// layer (`i2x-bench convs`): from 14×14 up it is faster than im2col + SGEMM (32×32: 2.6×),
  /// below (8×8, 7×7) slower, its sums too short for their reductions.
  public static func weightGradientIsDirect(height: Int, width: Int) -> Bool { height * width >= 128 }

  /// Whether the first processor's flags in /proc/cpuinfo include all of `flags`.
  static func cpuHasFlags(_ flags: Set<String>) -> Bool {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
      let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
      let colon = line.firstIndex(of: ":")
    else { return false }
    let present = Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    return flags.isSubset(of: present)
  }
}

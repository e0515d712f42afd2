import Foundation

/// How a product ended: its status and whether that was an exit or a signal.
struct Termination {
  var status: Int32
  var reason: Process.TerminationReason
  var output: String
}

/// The process environment without any `I2X_CURVE_*` variable, plus `extra`.
func environment(with extra: [String: String]) -> [String: String] {
  var result = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("I2X_CURVE_") }
  result.merge(extra) { $1 }
  return result
}

/// Runs a product to completion with `extra` environment variables; stdout and stderr go to
/// `device` (e.g. `/dev/full`) or, by default, to a file whose text is returned.
func runProduct(
  _ product: String, _ arguments: [String], environment extra: [String: String], device: String? = nil
) throws -> Termination {
  let directory = try temporaryDirectory()
  defer { try? FileManager.default.removeItem(at: directory) }
  let log = directory.appendingPathComponent("log")
  _ = FileManager.default.createFile(atPath: log.path, contents: nil)
  let process = Process()
  process.executableURL = productsDirectory.appendingPathComponent(product)
  process.arguments = arguments
  process.environment = environment(with: extra)
  let handle = try FileHandle(forWritingTo: device.map { URL(fileURLWithPath: $0) } ?? log)
  defer { try? handle.close() }
  process.standardOutput = handle
  process.standardError = handle
  try process.run()
  process.waitUntilExit()
  let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
  return Termination(status: process.terminationStatus, reason: process.terminationReason, output: output)
}

import Benchmarks
// i2x-bench: one JSON line per figure on stdout (see README "Benchmarks").
import CLI
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.contains("--help") || arguments.contains("-h") {
  print(BenchmarkSuite.help)
  exit(0)
}
let selected = arguments.filter { !$0.hasPrefix("-") }
let quick = arguments.contains("--quick")
do {
  try BenchmarkSuite(quick: quick).run(only: Set(selected)) { line in
    FileDescriptorOutput.writeStandardOutput(line + "\n")
  }
} catch {
  FileDescriptorOutput.writeStandardError("error: \(error)\n")
  exit(64)
}

import Foundation

/// A multi-command tool (`i2x-train train|eval|…`): dispatch, help, version and the mapping
/// of errors to messages on stderr and exit codes.
public struct Tool {
  /// A subcommand: its name, summary and body (which gets the arguments after its name).
  public struct Subcommand {
    /// Name (`train`).
    public var name: String
    /// One-line summary.
    public var abstract: String
    /// Runs the subcommand; throws for failures.
    public var run: ([String]) throws -> ExitCode

    /// Creates a subcommand.
    public init(name: String, abstract: String, run: @escaping ([String]) throws -> ExitCode) {
      self.name = name
      self.abstract = abstract
      self.run = run
    }
  }

  /// Executable name.
  public var name: String
  /// One-line summary.
  public var abstract: String
  /// Version string for `--version`.
  public var version: String
  /// Subcommands in help order.
  public var subcommands: [Subcommand]

  /// Creates a tool.
  public init(name: String, abstract: String, version: String, subcommands: [Subcommand]) {
    self.name = name
    self.abstract = abstract
    self.version = version
    self.subcommands = subcommands
  }

  /// Tool-level help listing the subcommands.
  public var helpText: String {
    let width = (subcommands.map(\.name.count).max() ?? 0) + 2
    let rows = subcommands.map { "  " + $0.name.padding(toLength: width, withPad: " ", startingAt: 0) + $0.abstract }
    return
      (["OVERVIEW: \(abstract)", "", "USAGE: \(name) <subcommand> [options]", "", "SUBCOMMANDS:"] + rows + [
        "", "  See '\(name) <subcommand> --help' for detailed help.",
      ]).joined(separator: "\n")
  }

  /// Runs the tool and returns the exit code; `out`/`err` receive stdout/stderr text.
  public func run(_ arguments: [String], out: (String) -> Void, err: (String) -> Void) -> Int32 {
    guard let first = arguments.first, first != "-h", first != "--help", first != "help" else {
      out(helpText)
      return arguments.isEmpty ? ExitCode.usage.rawValue : 0
    }
    if first == "--version" {
      out(version)
      return 0
    }
    guard let subcommand = subcommands.first(where: { $0.name == first }) else {
      let guess = Suggestion.closest(to: first, among: subcommands.map(\.name))
      err("error: unknown subcommand '\(first)'" + (guess.map { "; did you mean '\($0)'?" } ?? ""))
      err("hint: see '\(name) --help'")
      return ExitCode.usage.rawValue
    }
    do {
      return try subcommand.run(Array(arguments.dropFirst())).rawValue
    } catch let help as HelpRequested {
      out(help.text)
      return 0
    } catch let usage as UsageError {
      err("error: \(usage.message)")
      err("hint: \(usage.hint ?? "see '\(name) \(subcommand.name) --help'")")
      return ExitCode.usage.rawValue
    } catch let coded as ExitCodeProviding {
      err("error: \(coded)")
      return coded.exitCode.rawValue
    } catch {
      err("error: \(error)")
      return ExitCode.failure.rawValue
    }
  }

  /// Runs with the process arguments, printing to stdout/stderr, and exits.
  public func main() -> Never {
    let code = run(
      Array(CommandLine.arguments.dropFirst()),
      out: { print($0) },
      err: { Log.write($0) })
    exit(code)
  }
}

/// Log and progress lines on stderr (stdout holds only results).
public enum Log {
  /// Writes one line to stderr.
  public static func write(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
  }
}

import Foundation

/// A multi-command tool (`i2x-train train|eval|…`): dispatch to subcommands, tool help,
/// `--version`, and the mapping of errors to `error: …` lines on stderr and exit codes.
///
/// ```swift
/// Tool(name: "i2x-train", abstract: "Train and inspect classifiers.", version: "i2x-train 1.0",
///      subcommands: [.init(name: "train", abstract: "Train a model.") { arguments in
///        let options = try ParsedOptions(arguments, spec: trainSpec)
///        …
///        return .success
///      }]).main()
/// ```
public struct Tool {
  /// A subcommand: its name, summary and body.
  public struct Subcommand {
    /// Name as typed after the tool name (`train`).
    public var name: String
    /// One-line summary shown under `SUBCOMMANDS:`.
    public var abstract: String
    /// The body: gets the arguments after the subcommand name; returns the exit code, or
    /// throws (`HelpRequested`, `UsageError`, an `ExitCodeProviding` error or any error).
    public var run: ([String]) throws -> ExitCode

    /// Creates a subcommand.
    /// - Parameters:
    ///   - name: Name as typed after the tool name.
    ///   - abstract: One-line summary.
    ///   - run: The body, given the arguments after the subcommand name.
    public init(name: String, abstract: String, run: @escaping ([String]) throws -> ExitCode) {
      self.name = name
      self.abstract = abstract
      self.run = run
    }
  }

  /// Executable name (`i2x-train`).
  public var name: String
  /// One-line summary.
  public var abstract: String
  /// Printed by `--version`.
  public var version: String
  /// Subcommands in help order.
  public var subcommands: [Subcommand]

  /// Creates a tool.
  /// - Parameters:
  ///   - name: Executable name.
  ///   - abstract: One-line summary.
  ///   - version: Printed by `--version`.
  ///   - subcommands: Subcommands in help order; names must be unique.
  public init(name: String, abstract: String, version: String, subcommands: [Subcommand]) {
    precondition(
      Set(subcommands.map(\.name)).count == subcommands.count,
      "\(name): subcommand names must be unique")
    self.name = name
    self.abstract = abstract
    self.version = version
    self.subcommands = subcommands
  }

  /// Runs the tool on `arguments` (without the executable name) and returns the exit code.
  ///
  /// - No arguments: tool help on stdout, exit 64. `-h`, `--help`, `help`: tool help, exit 0.
  ///   `help <subcommand>`: that subcommand's help. `--version`: the version, exit 0.
  /// - An unknown subcommand or option: `error: …` with a suggestion and a hint, exit 64.
  /// - Errors thrown by the subcommand: `UsageError` → 64 (with its hint, else the
  ///   subcommand's `--help`); `ExitCodeProviding` → its code; anything else → 1.
  /// - Parameters:
  ///   - out: Receives stdout text, one call per line or block, without a trailing newline.
  ///   - err: Receives stderr lines, without a trailing newline.
  public func run(_ arguments: [String], out: (String) -> Void, err: (String) -> Void) -> Int32 {
    guard let first = arguments.first else {
      out(helpText)
      return ExitCode.usage.rawValue
    }
    switch first {
    case "-h", "--help":
      out(helpText)
      return ExitCode.success.rawValue
    case "help":
      guard let target = arguments.dropFirst().first else {
        out(helpText)
        return ExitCode.success.rawValue
      }
      return dispatch(target, ["--help"], out: out, err: err)
    case "--version":
      out(version)
      return ExitCode.success.rawValue
    default:
      return dispatch(first, Array(arguments.dropFirst()), out: out, err: err)
    }
  }

  /// Runs with the process arguments, printing to stdout and stderr, and exits with the code.
  /// - Parameter arguments: The arguments after the executable name.
  public func main(_ arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> Never {
    let code = run(arguments, out: { print($0) }, err: { Log.write($0) })
    exit(code)
  }

  /// Runs the subcommand called `name` and maps what it throws to output and an exit code.
  private func dispatch(
    _ name: String, _ arguments: [String], out: (String) -> Void, err: (String) -> Void
  ) -> Int32 {
    guard let subcommand = subcommands.first(where: { $0.name == name }) else {
      let kind = ParsedOptions.looksLikeOption(name) ? "option" : "subcommand"
      let candidates = kind == "option" ? ["--help", "--version"] : subcommands.map(\.name)
      let guess = Suggestion.closest(to: name, among: candidates)
      err("error: unknown \(kind) '\(name)'" + (guess.map { "; did you mean '\($0)'?" } ?? ""))
      err("hint: see '\(self.name) --help'")
      return ExitCode.usage.rawValue
    }
    do {
      return try subcommand.run(arguments).rawValue
    } catch let help as HelpRequested {
      out(help.text)
      return ExitCode.success.rawValue
    } catch let usage as UsageError {
      err("error: \(usage.message)")
      err("hint: \(usage.hint ?? "see '\(self.name) \(subcommand.name) --help'")")
      return ExitCode.usage.rawValue
    } catch let coded as ExitCodeProviding {
      err("error: \(coded)")
      return coded.exitCode.rawValue
    } catch {
      err("error: \(error)")
      return ExitCode.failure.rawValue
    }
  }
}

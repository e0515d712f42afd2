/// `-h`/`--help` was given: the caller prints `text` to stdout and exits 0.
///
/// `ParsedOptions.init` throws it instead of returning, so a subcommand body needs no help
/// branch; `Tool.run` catches it.
public struct HelpRequested: Error, Equatable {
  /// The help to print (`CommandSpec.helpText`).
  public var text: String

  /// Creates a help request carrying the text to print.
  public init(text: String) {
    self.text = text
  }
}

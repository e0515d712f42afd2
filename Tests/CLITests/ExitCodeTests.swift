import CLI
import Testing

@Suite struct ExitCodeTests {
  @Test func valuesAreTheSysexitsOnes() {
    let codes: [(ExitCode, Int32)] = [
      (.success, 0), (.failure, 1), (.usage, 64), (.dataError, 65), (.noInput, 66),
      (.unavailable, 69),
      (.software, 70), (.ioError, 74),
    ]
    for (code, value) in codes { #expect(code.rawValue == value) }
  }
}

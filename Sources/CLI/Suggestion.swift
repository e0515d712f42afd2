/// "Did you mean …?" for misspelt option and subcommand names, by Levenshtein distance.
enum Suggestion {
  /// The candidate closest to `word`, if within max(2, word.count / 3) edits; ties go to the
  /// earlier candidate.
  static func closest(to word: String, among candidates: [String]) -> String? {
    let limit = max(2, word.count / 3)
    var best: (candidate: String, distance: Int)?
    for candidate in candidates {
      let d = distance(word, candidate)
      if d <= limit, d < (best?.distance ?? .max) { best = (candidate, d) }
    }
    return best?.candidate
  }

  /// Edits (insert, delete, substitute one character) turning `a` into `b`.
  ///
  /// Two-row dynamic programme: `previous[j]` is the distance between the first i - 1
  /// characters of `a` and the first j characters of `b`.
  static func distance(_ a: String, _ b: String) -> Int {
    let (x, y) = (Array(a), Array(b))
    var previous = Array(0...y.count)
    for (i, character) in x.enumerated() {
      var current = [i + 1] + Array(repeating: 0, count: y.count)
      for j in y.indices {
        let substitute = previous[j] + (character == y[j] ? 0 : 1)
        current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, substitute)
      }
      previous = current
    }
    return previous[y.count]
  }
}

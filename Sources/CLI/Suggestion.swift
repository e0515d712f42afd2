/// "Did you mean …?" by Levenshtein distance.
enum Suggestion {
  /// The candidate closest to `word`, if it is within a third of the word's length (min 2).
  static func closest(to word: String, among candidates: [String]) -> String? {
    let limit = max(2, word.count / 3)
    return candidates.map { ($0, distance(word, $0)) }.filter { $0.1 <= limit }.min { $0.1 < $1.1 }?.0
  }

  static func distance(_ a: String, _ b: String) -> Int {
    let (x, y) = (Array(a), Array(b))
    var previous = Array(0...y.count)
    for i in 1...max(1, x.count) where !x.isEmpty {
      var current = [i] + [Int](repeating: 0, count: y.count)
      for j in 1...max(1, y.count) where !y.isEmpty {
        current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
      }
      previous = current
    }
    return x.isEmpty ? y.count : previous[y.count]
  }
}

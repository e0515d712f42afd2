/// Which class a CAM explains for each image.
public enum CAMTarget: Sendable, Equatable {
  /// The given class per image (e.g. true labels).
  case classes([Int])
  /// The network's predicted (arg-max) class.
  case predicted
  /// One class for every image.
  case fixed(Int)

  /// Resolves to one class index per image given the logits (N,K).
  func resolve(logits: [Float], batch: Int, classes: Int) -> [Int] {
    switch self {
    case .classes(let list):
      precondition(
        list.count == batch && list.allSatisfy { (0..<classes).contains($0) },
        "CAM targets \(list) do not fit a batch of \(batch) with \(classes) classes")
      return list
    case .fixed(let c):
      precondition((0..<classes).contains(c), "CAM target class \(c) outside 0..<\(classes)")
      return [Int](repeating: c, count: batch)
    case .predicted:
      return (0..<batch).map { n in
        let row = logits[n * classes..<(n + 1) * classes]
        return (row.indices.max { row[$0] < row[$1] } ?? n * classes) - n * classes
      }
    }
  }
}

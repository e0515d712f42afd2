/// Optimal assignment (Kuhn–Munkres, O(n³) with potentials) maximising total weight.
public enum Hungarian {
  /// For an r×c weight matrix (row-major), the column matched to each row (−1 if rows > columns
  /// leave it unmatched), maximising the sum of matched weights.
  public static func maximize(_ weights: [Double], rows r: Int, columns c: Int) -> [Int] {
    precondition(weights.count == r * c, "Hungarian: \(weights.count) weights for \(r)×\(c)")
    let n = max(r, c)
    let top = weights.max() ?? 0
    // Minimise cost = top − weight on a square matrix padded with zero weight.
    func cost(_ i: Int, _ j: Int) -> Double { i < r && j < c ? top - weights[i * c + j] : top }
    var u = [Double](repeating: 0, count: n + 1)
    var v = [Double](repeating: 0, count: n + 1)
    var match = [Int](repeating: 0, count: n + 1)  // match[j] = row (1-based) of column j
    var way = [Int](repeating: 0, count: n + 1)
    for i in 1...max(1, n) where n > 0 {
      match[0] = i
      var j0 = 0
      var minimum = [Double](repeating: .infinity, count: n + 1)
      var used = [Bool](repeating: false, count: n + 1)
      repeat {
        used[j0] = true
        let i0 = match[j0]
        var delta = Double.infinity
        var j1 = 0
        for j in 1...n where !used[j] {
          let current = cost(i0 - 1, j - 1) - u[i0] - v[j]
          if current < minimum[j] {
            minimum[j] = current
            way[j] = j0
          }
          if minimum[j] < delta {
            delta = minimum[j]
            j1 = j
          }
        }
        for j in 0...n {
          if used[j] {
            u[match[j]] += delta
            v[j] -= delta
          } else {
            minimum[j] -= delta
          }
        }
        j0 = j1
      } while match[j0] != 0
      repeat {
        let j1 = way[j0]
        match[j0] = match[j1]
        j0 = j1
      } while j0 != 0
    }
    var result = [Int](repeating: -1, count: r)
    for j in 1...max(1, n) where n > 0 && match[j] > 0 && match[j] - 1 < r && j - 1 < c {
      result[match[j] - 1] = j - 1
    }
    return result
  }
}

/// Adjusted Rand index (Hubert & Arabie 1985) between two labelings of the same items.
public enum AdjustedRandIndex {
  /// ARI ∈ [−1, 1]; 1 for identical partitions (up to renaming), ≈0 for independent ones.
  public static func compute(_ a: [Int], _ b: [Int]) -> Double {
    precondition(a.count == b.count, "ARI: \(a.count) vs \(b.count) labels")
    let n = a.count
    guard n > 1 else { return 1 }
    var table: [[Int]: Int] = [:]
    var rows: [Int: Int] = [:]
    var columns: [Int: Int] = [:]
    for i in 0..<n {
      table[[a[i], b[i]], default: 0] += 1
      rows[a[i], default: 0] += 1
      columns[b[i], default: 0] += 1
    }
    func pairs(_ x: Int) -> Double { Double(x) * Double(x - 1) / 2 }
    let index = table.values.reduce(0) { $0 + pairs($1) }
    let rowSum = rows.values.reduce(0) { $0 + pairs($1) }
    let columnSum = columns.values.reduce(0) { $0 + pairs($1) }
    let expected = rowSum * columnSum / pairs(n)
    let maximum = (rowSum + columnSum) / 2
    return maximum == expected ? 1 : (index - expected) / (maximum - expected)
  }
}

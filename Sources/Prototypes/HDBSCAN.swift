/// HDBSCAN* (Campello, Moulavi & Sander 2013; McInnes & Healy 2017): density-based clusters
/// from the mutual-reachability minimum spanning tree, condensed with `minimumClusterSize`,
/// chosen by excess of mass. Points in no chosen cluster are noise (−1).
///
/// Legend: core(p) = distance to the `minimumSamples`-th nearest point counting p itself;
/// d_mr(a,b) = max(core(a), core(b), ‖a − b‖); λ = 1/d.
public struct HDBSCAN: Sendable {
  /// Cluster of each point (0..<clusterCount) or −1 for noise.
  public var labels: [Int]
  /// Number of clusters found.
  public var clusterCount: Int

  /// Clusters the rows of `points` (n×p).
  ///
  /// Any input is accepted: rows holding a non-finite value are noise (a diverged checkpoint
  /// gives NaN probabilities), and ties, identical points and distances that overflow to
  /// infinity are handled (identical points form one cluster).
  public init(points: [Double], rows n: Int, columns p: Int, minimumClusterSize: Int, minimumSamples: Int) {
    precondition(points.count == n * p && minimumClusterSize >= 2 && minimumSamples >= 1, "HDBSCAN: bad arguments")
    let finite = (0..<n).filter { i in (0..<p).allSatisfy { points[i * p + $0].isFinite } }
    labels = [Int](repeating: -1, count: n)
    clusterCount = 0
    let m = finite.count
    guard m >= minimumClusterSize, m > 1 else { return }
    let kept = finite.count == n ? points : finite.flatMap { i in points[(i * p)..<((i + 1) * p)] }
    let tree = Self.singleLinkage(Self.mutualReachabilityMST(kept, m, p, minimumSamples), m)
    let condensed = Condensed(tree: tree, points: m, minimumClusterSize: minimumClusterSize)
    let (keptLabels, count) = condensed.labels()
    for (position, row) in finite.enumerated() { labels[row] = keptLabels[position] }
    clusterCount = count
  }

  static func distance(_ x: [Double], _ i: Int, _ j: Int, _ p: Int) -> Double {
    var sum = 0.0
    for k in 0..<p {
      let d = x[i * p + k] - x[j * p + k]
      sum += d * d
    }
    return sum.squareRoot()
  }

  /// Prim's algorithm on the complete mutual-reachability graph (O(n²) time, O(n) memory).
  static func mutualReachabilityMST(_ x: [Double], _ n: Int, _ p: Int, _ minimumSamples: Int) -> [(Int, Int, Double)] {
    var core = [Double](repeating: 0, count: n)
    let k = min(minimumSamples, n) - 1  // the point itself is its own nearest neighbour
    // The (k+1)-th smallest distance of each row, kept in a sorted buffer of k+1 entries:
    // O(n·k) per row instead of sorting all n distances.
    var smallest = [Double](repeating: .infinity, count: k + 1)
    for i in 0..<n {
      for position in 0...k { smallest[position] = .infinity }
      for j in 0..<n {
        let d = distance(x, i, j, p)
        guard d < smallest[k] else { continue }
        var position = k
        while position > 0 && smallest[position - 1] > d {
          smallest[position] = smallest[position - 1]
          position -= 1
        }
        smallest[position] = d
      }
      core[i] = smallest[k]
    }
    var inTree = [Bool](repeating: false, count: n)
    var best = [Double](repeating: .infinity, count: n)
    var from = [Int](repeating: 0, count: n)
    var edges: [(Int, Int, Double)] = []
    var current = 0
    inTree[0] = true
    for _ in 1..<n {
      var next = -1
      var nextDistance = Double.infinity
      for j in 0..<n where !inTree[j] {
        let d = max(core[current], core[j], distance(x, current, j, p))
        if d < best[j] {
          best[j] = d
          from[j] = current
        }
        if best[j] < nextDistance {
          nextDistance = best[j]
          next = j
        }
      }
      if next < 0 {  // every remaining distance is infinite: join any remaining point at ∞
        next = (0..<n).first { !inTree[$0] } ?? 0
        from[next] = current
      }
      inTree[next] = true
      edges.append((from[next], next, nextDistance))
      current = next
    }
    return edges
  }

  /// Merges of the single-linkage dendrogram: node n+i joins `children` at `distance`.
  struct Dendrogram {
    var children: [(Int, Int)]
    var distances: [Double]
    var sizes: [Int]
  }

  static func singleLinkage(_ edges: [(Int, Int, Double)], _ n: Int) -> Dendrogram {
    var parent = Array(0..<(2 * n - 1))
    func find(_ x: Int) -> Int {
      var x = x
      while parent[x] != x {
        parent[x] = parent[parent[x]]
        x = parent[x]
      }
      return x
    }
    var tree = Dendrogram(children: [], distances: [], sizes: [Int](repeating: 1, count: n))
    for (a, b, d) in edges.sorted(by: { $0.2 < $1.2 }) {
      let (ra, rb) = (find(a), find(b))
      let node = n + tree.children.count
      tree.children.append((ra, rb))
      tree.distances.append(d)
      tree.sizes.append(tree.sizes[ra] + tree.sizes[rb])
      parent[ra] = node
      parent[rb] = node
    }
    return tree
  }
}

/// The condensed cluster tree and its excess-of-mass selection.
private struct Condensed {
  var parent: [Int] = [-1]  // cluster 0 is the root
  var birth: [Double] = [0]
  var stability: [Double] = [0]
  var pointCluster: [Int]

  init(tree: HDBSCAN.Dendrogram, points n: Int, minimumClusterSize m: Int) {
    pointCluster = [Int](repeating: 0, count: n)
    func leaves(_ node: Int) -> [Int] {
      var out: [Int] = []
      var stack = [node]
      while let top = stack.popLast() {
        if top < n { out.append(top) } else { stack += [tree.children[top - n].0, tree.children[top - n].1] }
      }
      return out
    }
    var stack = [(2 * n - 2, 0)]
    while let (node, cluster) = stack.popLast() {
      if node < n {  // a lone point reached as the larger side (only when m ≤ 1)
        pointCluster[node] = cluster
        continue
      }
      let (a, b) = tree.children[node - n]
      let distance = tree.distances[node - n]
      let lambda = distance.isFinite ? 1 / max(distance, 1e-12) : 0
      let (sizeA, sizeB) = (tree.sizes[a], tree.sizes[b])
      if sizeA >= m && sizeB >= m {
        stability[cluster] += (lambda - birth[cluster]) * Double(sizeA + sizeB)
        for child in [a, b] {
          parent.append(cluster)
          birth.append(lambda)
          stability.append(0)
          stack.append((child, parent.count - 1))
        }
      } else {
        for child in [a, b] where tree.sizes[child] < m {
          for point in leaves(child) { pointCluster[point] = cluster }
          stability[cluster] += (lambda - birth[cluster]) * Double(tree.sizes[child])
        }
        for child in [a, b] where tree.sizes[child] >= m { stack.append((child, cluster)) }
      }
    }
  }

  /// Excess of mass: keep a cluster when its stability beats its selected descendants'.
  func labels() -> ([Int], Int) {
    let count = parent.count
    var selected = [Bool](repeating: false, count: count)
    var total = stability
    var children = [[Int]](repeating: [], count: count)
    for c in 1..<max(1, count) { children[parent[c]].append(c) }
    for c in stride(from: count - 1, through: 1, by: -1) {
      let childSum = children[c].reduce(0.0) { $0 + total[$1] }
      if children[c].isEmpty || stability[c] >= childSum {
        selected[c] = true
        var stack = children[c]
        while let d = stack.popLast() {
          selected[d] = false
          stack += children[d]
        }
      } else {
        total[c] = childSum
      }
    }
    var names: [Int: Int] = [:]
    for c in 0..<count where selected[c] { names[c] = names.count }
    let labels = pointCluster.map { start -> Int in
      var c = start
      while c >= 0 {
        if let name = names[c] { return name }
        c = parent[c]
      }
      return -1
    }
    return (labels, names.count)
  }
}

import Engine

/// Bilinear resizing of (N,h,w) maps with half-pixel centres (PyTorch `align_corners=False`):
/// source coordinate `x = (x' + ½)·(w/w') − ½`, clamped at 0; neighbours ⌊x⌋ and
/// min(⌊x⌋+1, w−1).
public enum Bilinear {
  /// Resizes every map of `maps` (N,h,w) to (N,height,width).
  public static func resize(_ maps: Tensor, height: Int, width: Int) -> Tensor {
    precondition(maps.rank == 3 && height > 0 && width > 0, "Bilinear.resize needs (N,h,w) maps, got \(maps.shape)")
    let (n, h, w) = (maps.shape[0], maps.shape[1], maps.shape[2])
    let rows = taps(source: h, target: height)
    let columns = taps(source: w, target: width)
    var out = Tensor(shape: [n, height, width])
    for i in 0..<n {
      let base = i * h * w
      for (y, row) in rows.enumerated() {
        for (x, column) in columns.enumerated() {
          let top =
            (1 - column.t) * maps.scalars[base + row.low * w + column.low]
            + column.t * maps.scalars[base + row.low * w + column.high]
          let bottom =
            (1 - column.t) * maps.scalars[base + row.high * w + column.low]
            + column.t * maps.scalars[base + row.high * w + column.high]
          out.scalars[(i * height + y) * width + x] = (1 - row.t) * top + row.t * bottom
        }
      }
    }
    return out
  }

  private static func taps(source: Int, target: Int) -> [(low: Int, high: Int, t: Float)] {
    let scale = Float(source) / Float(target)
    return (0..<target).map { index in
      let x = max(0, (Float(index) + 0.5) * scale - 0.5)
      let low = min(Int(x), source - 1)
      return (low, min(low + 1, source - 1), x - Float(low))
    }
  }
}

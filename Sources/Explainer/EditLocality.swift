/// Where a counterfactual's edit lies (DESIGN §8: "does the edit concentrate on the prototype's
/// cells?"): the edit mask is the `A` pixels with the largest |x − x′| (summed over channels),
/// A = the area of the prototype's target-layer cells upsampled to the image (nearest, each cell
/// covering a (H/h)×(W/w) block); its IoU with that upsampled region is compared with the IoU
/// with another prototype's cells in the same image (the control).
public enum EditLocality {
  /// Pixels (row-major, H×W) covered by `cells` of an h×w map.
  public static func region(cells: [Int], mapHeight h: Int, mapWidth w: Int, height: Int, width: Int) -> Set<Int> {
    var pixels = Set<Int>()
    for cell in cells where cell >= 0 && cell < h * w {
      let (row, column) = (cell / w, cell % w)
      for y in (row * height / h)..<((row + 1) * height / h) {
        for x in (column * width / w)..<((column + 1) * width / w) { pixels.insert(y * width + x) }
      }
    }
    return pixels
  }

  /// The IoU of the edit's top-|region| pixels with `region`. `delta` is |x − x′| per pixel
  /// (H×W, channels summed).
  public static func iou(delta: [Float], region: Set<Int>) -> Double {
    guard !region.isEmpty else { return 0 }
    let top = Set(delta.indices.sorted { delta[$0] > delta[$1] }.prefix(region.count))
    let union = top.union(region).count
    return union == 0 ? 0 : Double(top.intersection(region).count) / Double(union)
  }

  /// |x − x′| summed over channels, (C,H,W) → H×W.
  public static func delta(_ original: [Float], _ edited: [Float], channels: Int, height: Int, width: Int) -> [Float] {
    var out = [Float](repeating: 0, count: height * width)
    for c in 0..<channels {
      for p in 0..<(height * width) { out[p] += abs(original[c * height * width + p] - edited[c * height * width + p]) }
    }
    return out
  }
}

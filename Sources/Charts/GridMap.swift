/// A small h×w grid of viridis squares (e.g. where a prototype's cells sit on the target layer's
/// map), with a tooltip per cell; the range is 0…max(values) unless given.
public struct GridMap: Sendable {
  /// The values, row-major.
  public var values: [Double]
  /// The grid's shape.
  public var rows: Int, columns: Int
  /// Side of one square in pixels.
  public var cellSize = 8.0
  /// What the grid shows (its SVG title and accessible label).
  public var title: String
  /// The values mapped to the two ends of the scale.
  public var range: (Double, Double)?

  /// Creates a grid; `values` is row-major with `rows × columns` entries.
  public init(title: String, values: [Double], rows: Int, columns: Int, range: (Double, Double)? = nil) {
    precondition(values.count == rows * columns, "GridMap: \(values.count) values for \(rows)×\(columns)")
    self.title = title
    self.values = values
    self.rows = rows
    self.columns = columns
    self.range = range
  }

  /// The SVG element.
  public func svg() -> String {
    let n = SVGText.number
    let low = range?.0 ?? 0
    var high = range?.1 ?? (values.filter(\.isFinite).max() ?? 1)
    if high <= low { high = low + 1 }
    let (w, h) = (Double(columns) * cellSize, Double(rows) * cellSize)
    var out =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart grid\" width=\"\(n(w))\" height=\"\(n(h))\" viewBox=\"0 0 \(n(w)) \(n(h))\" role=\"img\" aria-label=\"\(SVGText.escape(title))\">"
    out += "<title>\(SVGText.escape(title))</title>"
    for row in 0..<rows {
      for column in 0..<columns {
        let value = values[row * columns + column]
        out +=
          "<rect x=\"\(n(Double(column) * cellSize))\" y=\"\(n(Double(row) * cellSize))\" width=\"\(n(cellSize))\" height=\"\(n(cellSize))\" fill=\"\(Viridis.colour((value - low) / (high - low)).css)\">"
          + "<title>cell (\(row), \(column)): \(NiceTicks.trimmed(value))</title></rect>"
      }
    }
    return out + "</svg>"
  }
}

/// A heat map as an inline SVG element: one row per labelled series, one column per position
/// (e.g. checkpoint), each cell coloured by `Viridis` over `range`, with at most
/// `NiceTicks.limit` column labels, a colour bar with nice ticks, and a tooltip (`<title>`) per
/// cell, which browsers show without JavaScript. Missing cells (nil) are light grey.
public struct HeatMap: Sendable {
  /// The heading drawn above the map (also its accessible label).
  public var title: String
  /// One label per row (at most `NiceTicks.limit`: choose the rows that matter).
  public var rowLabels: [String]
  /// One label per column; `NiceTicks.indices` picks which are printed.
  public var columnLabels: [String]
  /// values[row][column].
  public var values: [[Double?]]
  /// What the columns and the colour mean.
  public var columnAxisLabel: String, valueLabel: String
  /// Colour range; nil: from the data.
  public var range: (Double, Double)?
  /// Per-row anchors (HTML ids) the row labels link to; nil: plain labels.
  public var rowLinks: [String?]?
  /// Total width and the height of one row, in pixels.
  public var width = 640.0
  public var rowHeight = 18.0

  /// Creates a heat map; `values` must have `rowLabels.count` rows of `columnLabels.count` cells.
  public init(
    title: String, rowLabels: [String], columnLabels: [String], values: [[Double?]], columnAxisLabel: String,
    valueLabel: String, range: (Double, Double)? = nil
  ) {
    precondition(
      values.count == rowLabels.count, "HeatMap: \(values.count) rows of values for \(rowLabels.count) labels")
    precondition(
      values.allSatisfy { $0.count == columnLabels.count },
      "HeatMap: every row needs \(columnLabels.count) cells (one per column label)")
    precondition(rowLabels.count <= NiceTicks.limit, "HeatMap: \(rowLabels.count) rows, at most \(NiceTicks.limit)")
    self.title = title
    self.rowLabels = rowLabels
    self.columnLabels = columnLabels
    self.values = values
    self.columnAxisLabel = columnAxisLabel
    self.valueLabel = valueLabel
    self.range = range
  }

  /// The SVG element.
  public func svg() -> String {
    let n = SVGText.number
    let present = values.flatMap { $0.compactMap { $0 } }.filter(\.isFinite)
    let low = range?.0 ?? present.min() ?? 0
    var high = range?.1 ?? present.max() ?? 1
    if high <= low { high = low + 1 }
    let left = min(220, max(40, Double(rowLabels.map(\.count).max() ?? 4) * 6.6 + 10))
    let top = 28.0
    let barWidth = 70.0
    let plotWidth = max(60, width - left - barWidth - 16)
    let columns = max(columnLabels.count, 1)
    let cellWidth = plotWidth / Double(columns)
    let plotHeight = Double(rowLabels.count) * rowHeight
    let height = top + plotHeight + 44
    var out =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart heatmap\" width=\"\(n(width))\" height=\"\(n(height))\" "
      + "viewBox=\"0 0 \(n(width)) \(n(height))\" role=\"img\" aria-label=\"\(SVGText.escape(title))\">"
    out += "<title>\(SVGText.escape(title))</title>"
    out += "<text x=\"\(n(left))\" y=\"16\" class=\"chart-title\">\(SVGText.escape(title))</text>"
    // Tooltips on every cell only while the file stays small; the tables carry the numbers.
    let tooltips = rowLabels.count * columns <= 4000
    for (row, label) in rowLabels.enumerated() {
      let y = top + Double(row) * rowHeight
      let text =
        "<text x=\"\(n(left - 6))\" y=\"\(n(y + rowHeight / 2 + 4))\" text-anchor=\"end\" class=\"tick\">\(SVGText.escape(label))</text>"
      if let link = rowLinks?[row] {
        out += "<a href=\"#\(SVGText.escape(link))\">\(text)</a>"
      } else {
        out += text
      }
      for column in 0..<columnLabels.count {
        let x = left + Double(column) * cellWidth
        let value = values[row][column]
        let fill = value.map { Viridis.colour(($0 - low) / (high - low)).css } ?? "#e8e8e8"
        // Cells overlap by a hair so no white seams show between them.
        out +=
          "<rect x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(cellWidth + 0.3))\" height=\"\(n(rowHeight))\" fill=\"\(fill)\""
        if tooltips {
          let shown = value.map { NiceTicks.trimmed($0) } ?? "no value"
          out +=
            "><title>\(SVGText.escape(label)), \(SVGText.escape(columnAxisLabel)) \(SVGText.escape(columnLabels[column])): \(shown)</title></rect>"
        } else {
          out += "/>"
        }
      }
    }
    // Column labels: at most NiceTicks.limit, centred under their cells.
    let axisY = top + plotHeight
    out += "<g class=\"axis x-axis\">"
    // As many labels as fit side by side (about 6.6 px per character), at most NiceTicks.limit.
    let labelWidth = Double(columnLabels.map(\.count).max() ?? 1) * 6.6 + 10
    let fitting = max(2, Int(plotWidth / labelWidth))
    for column in NiceTicks.indices(count: columnLabels.count, maximumCount: fitting) {
      let x = left + (Double(column) + 0.5) * cellWidth
      out += "<line x1=\"\(n(x))\" y1=\"\(n(axisY))\" x2=\"\(n(x))\" y2=\"\(n(axisY + 4))\" stroke=\"#333\"/>"
      out +=
        "<text x=\"\(n(x))\" y=\"\(n(axisY + 15))\" text-anchor=\"middle\" class=\"tick\">\(SVGText.escape(columnLabels[column]))</text>"
    }
    out += "</g>"
    out +=
      "<text x=\"\(n(left + plotWidth / 2))\" y=\"\(n(height - 8))\" text-anchor=\"middle\" class=\"axis-label\">\(SVGText.escape(columnAxisLabel))</text>"
    out += colourBar(x: left + plotWidth + 14, y: top, height: max(plotHeight, 60), low: low, high: high)
    return out + "</svg>"
  }

  /// A vertical viridis bar with nice ticks (high at the top) and the value label.
  func colourBar(x: Double, y: Double, height: Double, low: Double, high: Double) -> String {
    let n = SVGText.number
    var out = "<g class=\"colour-bar\">"
    let steps = 32
    for i in 0..<steps {
      let t = 1 - (Double(i) + 0.5) / Double(steps)
      out +=
        "<rect x=\"\(n(x))\" y=\"\(n(y + Double(i) * height / Double(steps)))\" width=\"12\" height=\"\(n(height / Double(steps) + 0.3))\" fill=\"\(Viridis.colour(t).css)\"/>"
    }
    let ticks = NiceTicks(minimum: low, maximum: high, maximumCount: 5)
    for value in ticks.values where value >= low - 1e-12 && value <= high + 1e-12 {
      let ty = y + height - (value - low) / (high - low) * height
      out += "<line x1=\"\(n(x + 12))\" y1=\"\(n(ty))\" x2=\"\(n(x + 15))\" y2=\"\(n(ty))\" stroke=\"#333\"/>"
      out += "<text x=\"\(n(x + 17))\" y=\"\(n(ty + 4))\" class=\"tick\">\(ticks.label(value))</text>"
    }
    out +=
      "<text transform=\"translate(\(n(x + 60)) \(n(y + height / 2))) rotate(-90)\" text-anchor=\"middle\" class=\"axis-label\">\(SVGText.escape(valueLabel))</text>"
    return out + "</g>"
  }
}

extension NiceTicks {
  /// A value with up to three significant decimals, trailing zeros removed ("0.25", "3", "12.5").
  public static func trimmed(_ value: Double) -> String {
    var text = String(format: "%.3f", value)
    while text.hasSuffix("0") { text.removeLast() }
    if text.hasSuffix(".") { text.removeLast() }
    return text == "-0" ? "0" : text
  }
}

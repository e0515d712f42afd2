/// A line chart as an inline SVG element: numeric x and y axes with nice ticks (at most
/// `NiceTicks.limit` labels each), light grid lines, one polyline per series (colour and dash
/// from `SeriesStyle` unless given), shaded x bands (e.g. a fine-tune segment) and a legend.
public struct LineChart: Sendable {
  /// One line: points in data coordinates (x ascending); NaN y values break the line.
  public struct Series: Sendable {
    /// The legend entry.
    public var name: String
    /// The points, x ascending.
    public var points: [(x: Double, y: Double)]
    /// Overrides the style of the series' index.
    public var colour: Colour?
    public var dash: String?
    /// Line width in pixels.
    public var width: Double

    /// Creates a series.
    public init(
      name: String, points: [(x: Double, y: Double)], colour: Colour? = nil, dash: String? = nil, width: Double = 1.5
    ) {
      self.name = name
      self.points = points
      self.colour = colour
      self.dash = dash
      self.width = width
    }
  }

  /// A shaded interval of x with a label (drawn behind the lines).
  public struct Band: Sendable {
    /// The x interval and its label.
    public var from: Double, to: Double
    public var label: String
    /// Creates a band.
    public init(from: Double, to: Double, label: String) {
      (self.from, self.to, self.label) = (from, to, label)
    }
  }

  /// The heading drawn above the plot (also its accessible label).
  public var title: String
  /// The axis titles.
  public var xLabel: String, yLabel: String
  /// The lines, and the shaded x intervals behind them.
  public var series: [Series]
  public var bands: [Band] = []
  /// Fixed y range (e.g. 0…1 for accuracies); nil: from the data.
  public var yRange: (Double, Double)?
  /// Size of the plot without the legend, in pixels.
  public var width = 640.0, height = 300.0

  /// Creates a chart.
  public init(title: String, xLabel: String, yLabel: String, series: [Series], yRange: (Double, Double)? = nil) {
    self.title = title
    self.xLabel = xLabel
    self.yLabel = yLabel
    self.series = series
    self.yRange = yRange
  }

  /// The plot area's margins: left, right, top, bottom.
  static let margin = (left: 56.0, right: 16.0, top: 28.0, bottom: 44.0)

  /// The SVG element (no XML declaration: it is meant for inline use in HTML).
  public func svg() -> String {
    let finite = series.flatMap { $0.points }.filter { $0.x.isFinite && $0.y.isFinite }
    let xs = finite.map(\.x) + bands.flatMap { [$0.from, $0.to] }
    let ys = finite.map(\.y)
    let xTicks = NiceTicks(minimum: xs.min() ?? 0, maximum: xs.max() ?? 1, maximumCount: 8)
    let yTicks =
      yRange.map { NiceTicks(minimum: $0.0, maximum: $0.1, maximumCount: 6) }
      ?? NiceTicks(minimum: ys.min() ?? 0, maximum: ys.max() ?? 1, maximumCount: 6)
    let legendRows = (series.count + 3) / 4
    let legendHeight = series.count > 1 ? Double(legendRows) * 16 + 4 : 0
    let m = Self.margin
    let plot = (x: m.left, y: m.top, w: width - m.left - m.right, h: height - m.top - m.bottom)
    func px(_ x: Double) -> Double {
      plot.x + (x - xTicks.lower) / max(xTicks.upper - xTicks.lower, .ulpOfOne) * plot.w
    }
    func py(_ y: Double) -> Double {
      plot.y + plot.h - (y - yTicks.lower) / max(yTicks.upper - yTicks.lower, .ulpOfOne) * plot.h
    }
    let n = SVGText.number
    var out =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"\(n(width))\" height=\"\(n(height + legendHeight))\" "
      + "viewBox=\"0 0 \(n(width)) \(n(height + legendHeight))\" role=\"img\" aria-label=\"\(SVGText.escape(title))\">"
    out += "<title>\(SVGText.escape(title))</title>"
    out += "<text x=\"\(n(plot.x))\" y=\"16\" class=\"chart-title\">\(SVGText.escape(title))</text>"
    for band in bands {
      let (a, b) = (px(band.from), px(band.to))
      out +=
        "<rect x=\"\(n(a))\" y=\"\(n(plot.y))\" width=\"\(n(max(b - a, 1)))\" height=\"\(n(plot.h))\" fill=\"#000\" fill-opacity=\"0.08\">"
        + "<title>\(SVGText.escape(band.label))</title></rect>"
      out +=
        "<text x=\"\(n(a + 2))\" y=\"\(n(plot.y + 11))\" class=\"band-label\">\(SVGText.escape(band.label))</text>"
    }
    out += Axis.horizontal(ticks: xTicks, at: plot.y + plot.h, from: plot.x, span: plot.w, gridTo: plot.y, position: px)
    out += Axis.vertical(ticks: yTicks, at: plot.x, from: plot.y, span: plot.h, gridTo: plot.x + plot.w, position: py)
    out +=
      "<text x=\"\(n(plot.x + plot.w / 2))\" y=\"\(n(height - 6))\" text-anchor=\"middle\" class=\"axis-label\">\(SVGText.escape(xLabel))</text>"
    out +=
      "<text transform=\"translate(12 \(n(plot.y + plot.h / 2))) rotate(-90)\" text-anchor=\"middle\" class=\"axis-label\">\(SVGText.escape(yLabel))</text>"
    for (index, line) in series.enumerated() {
      let style = SeriesStyle.style(index)
      let colour = (line.colour ?? style.colour).css
      let dash = line.dash ?? style.dash
      // NaN (or infinite) values split the line into runs.
      var runs: [[(Double, Double)]] = [[]]
      for point in line.points {
        if point.x.isFinite && point.y.isFinite {
          runs[runs.count - 1].append((px(point.x), py(point.y)))
        } else if !runs[runs.count - 1].isEmpty {
          runs.append([])
        }
      }
      for run in runs where !run.isEmpty {
        let points = run.map { "\(n($0.0)),\(n($0.1))" }.joined(separator: " ")
        if run.count == 1 {
          out += "<circle cx=\"\(n(run[0].0))\" cy=\"\(n(run[0].1))\" r=\"2.5\" fill=\"\(colour)\"/>"
        } else {
          out +=
            "<polyline points=\"\(points)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"\(n(line.width))\""
            + (dash.isEmpty ? "" : " stroke-dasharray=\"\(dash)\"")
            + "><title>\(SVGText.escape(line.name))</title></polyline>"
        }
      }
    }
    if series.count > 1 {
      for (index, line) in series.enumerated() {
        let style = SeriesStyle.style(index)
        let x = plot.x + Double(index % 4) * (plot.w / 4)
        let y = height + Double(index / 4) * 16 + 4
        let dash = line.dash ?? style.dash
        out +=
          "<line x1=\"\(n(x))\" y1=\"\(n(y))\" x2=\"\(n(x + 22))\" y2=\"\(n(y))\" stroke=\"\((line.colour ?? style.colour).css)\" stroke-width=\"2\""
          + (dash.isEmpty ? "" : " stroke-dasharray=\"\(dash)\"") + "/>"
        out += "<text x=\"\(n(x + 26))\" y=\"\(n(y + 4))\" class=\"legend\">\(SVGText.escape(line.name))</text>"
      }
    }
    return out + "</svg>"
  }
}

/// Axis lines, ticks, tick labels and grid lines, shared by the charts.
enum Axis {
  /// An x axis at height `at` over [from, from + span], grid lines up to `gridTo`.
  static func horizontal(
    ticks: NiceTicks, at y: Double, from: Double, span: Double, gridTo: Double, position: (Double) -> Double
  ) -> String {
    let n = SVGText.number
    var out = "<g class=\"axis x-axis\">"
    out += "<line x1=\"\(n(from))\" y1=\"\(n(y))\" x2=\"\(n(from + span))\" y2=\"\(n(y))\" stroke=\"#333\"/>"
    for value in ticks.values {
      let x = position(value)
      out += "<line x1=\"\(n(x))\" y1=\"\(n(gridTo))\" x2=\"\(n(x))\" y2=\"\(n(y))\" stroke=\"#ddd\"/>"
      out += "<line x1=\"\(n(x))\" y1=\"\(n(y))\" x2=\"\(n(x))\" y2=\"\(n(y + 4))\" stroke=\"#333\"/>"
      out +=
        "<text x=\"\(n(x))\" y=\"\(n(y + 15))\" text-anchor=\"middle\" class=\"tick\">\(ticks.label(value))</text>"
    }
    return out + "</g>"
  }

  /// A y axis at `at` over [from, from + span] (top to bottom), grid lines across to `gridTo`.
  static func vertical(
    ticks: NiceTicks, at x: Double, from: Double, span: Double, gridTo: Double, position: (Double) -> Double
  ) -> String {
    let n = SVGText.number
    var out = "<g class=\"axis y-axis\">"
    out += "<line x1=\"\(n(x))\" y1=\"\(n(from))\" x2=\"\(n(x))\" y2=\"\(n(from + span))\" stroke=\"#333\"/>"
    for value in ticks.values {
      let y = position(value)
      out += "<line x1=\"\(n(x))\" y1=\"\(n(y))\" x2=\"\(n(gridTo))\" y2=\"\(n(y))\" stroke=\"#ddd\"/>"
      out += "<line x1=\"\(n(x - 4))\" y1=\"\(n(y))\" x2=\"\(n(x))\" y2=\"\(n(y))\" stroke=\"#333\"/>"
      out +=
        "<text x=\"\(n(x - 6))\" y=\"\(n(y + 4))\" text-anchor=\"end\" class=\"tick\">\(ticks.label(value))</text>"
    }
    return out + "</g>"
  }
}

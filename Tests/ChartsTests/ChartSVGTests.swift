import Charts
import XCTest

final class ChartSVGTests: XCTestCase {
  func testEscapingAndNumbers() {
    XCTAssertEqual(SVGText.escape("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;")
    XCTAssertEqual(SVGText.escape("x\u{1}y"), "xy", "control characters are not XML")
    XCTAssertEqual(SVGText.number(12), "12")
    XCTAssertEqual(SVGText.number(3.5), "3.5")
    XCTAssertEqual(SVGText.number(-0.254), "-0.25")
    XCTAssertEqual(SVGText.number(1.0 / 3), "0.33")
  }

  func testViridisEndsAndLightness() {
    XCTAssertEqual(Viridis.colour(0).css, "#440154")
    XCTAssertEqual(Viridis.colour(1).css, "#fde725")
    XCTAssertEqual(Viridis.colour(0.5).css, "#21918c")
    XCTAssertEqual(Viridis.colour(-3), Viridis.colour(0))
    // Lightness rises monotonically, so the scale reads in greyscale.
    let lightness = (0...100).map { Viridis.colour(Double($0) / 100).luminance }
    for i in 1..<lightness.count { XCTAssertGreaterThan(lightness[i], lightness[i - 1] - 0.004, "at \(i)%") }
    XCTAssertGreaterThan(lightness.last! - lightness.first!, 0.7)
  }

  /// A golden snippet: one series of three points on a 0…1 y range in a 200×100 chart. The plot
  /// area is x 56…184 (128 px), y 28…56 (28 px); x ticks 0…2 → x = 56 + 64·x; y = 56 − 28·y.
  func testLineChartGolden() {
    var chart = LineChart(
      title: "t", xLabel: "step", yLabel: "acc",
      series: [.init(name: "a<b", points: [(0, 0), (1, 0.5), (2, 1)])], yRange: (0, 1))
    chart.width = 200
    chart.height = 100
    let svg = chart.svg()
    XCTAssertTrue(
      svg.contains(
        "<polyline points=\"56,56 120,42 184,28\" fill=\"none\" stroke=\"#e69f00\" stroke-width=\"1.5\"><title>a&lt;b</title></polyline>"
      ), svg)
    XCTAssertTrue(
      svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"200\" height=\"100\""))
    assertWellFormedXML(svg)
  }

  func testLineChartBreaksAtNaNAndCarriesBandsAndLegend() {
    let chart = LineChart(
      title: "accuracy & more", xLabel: "step", yLabel: "accuracy",
      series: [
        .init(name: "x", points: [(0, 0.1), (1, .nan), (2, 0.3), (3, 0.4)]),
        .init(name: "y", points: [(0, 0.5), (3, 0.6)]),
      ], yRange: (0, 1))
    var banded = chart
    banded.bands = [.init(from: 1, to: 2, label: "fine-tune #1")]
    let svg = banded.svg()
    assertWellFormedXML(svg)
    // x: a lone point (circle) and a two-point run; y: one line.
    XCTAssertEqual(elementCount("polyline", in: svg), 2)
    XCTAssertEqual(elementCount("circle", in: svg), 1)
    XCTAssertTrue(svg.contains("fine-tune #1"))
    XCTAssertTrue(svg.contains("stroke-dasharray") == false || svg.contains("class=\"legend\">y</text>"))
    XCTAssertTrue(svg.contains("class=\"legend\">x</text>"))
  }

  func testAxesOfATwoHundredCheckpointChartCarryAtMostTwelveLabels() {
    let points = (0..<200).map { (x: Double($0 * 10 + 10), y: Double($0) / 199) }
    let svg = LineChart(title: "t", xLabel: "step", yLabel: "y", series: [.init(name: "s", points: points)]).svg()
    assertWellFormedXML(svg)
    let xLabels =
      svg.components(separatedBy: "<g class=\"axis x-axis\">")[1].components(separatedBy: "</g>")[0]
      .components(separatedBy: "class=\"tick\"").count - 1
    let yLabels =
      svg.components(separatedBy: "<g class=\"axis y-axis\">")[1].components(separatedBy: "</g>")[0]
      .components(separatedBy: "class=\"tick\"").count - 1
    XCTAssertGreaterThanOrEqual(xLabels, 2)
    XCTAssertLessThanOrEqual(xLabels, 12)
    XCTAssertLessThanOrEqual(yLabels, 12)
  }

  func testHeatMapCellsColoursAndLabels() {
    let columns = (0..<200).map { "\($0 * 10)" }
    let values: [[Double?]] = [
      (0..<200).map { Double($0) / 199 }, (0..<200).map { $0 == 5 ? nil : 0 },
    ]
    var map = HeatMap(
      title: "pairs", rowLabels: ["Shirt / Coat", "A & B"], columnLabels: columns, values: values,
      columnAxisLabel: "step", valueLabel: "confusions", range: (0, 1))
    map.rowLinks = ["pair-4-6", nil]
    let svg = map.svg()
    assertWellFormedXML(svg)
    // 400 cells + 32 colour-bar steps.
    XCTAssertEqual(elementCount("rect", in: svg), 400 + 32)
    XCTAssertTrue(svg.contains("fill=\"#e8e8e8\"><title>A &amp; B, step 50: no value</title>"), "missing cell")
    XCTAssertTrue(svg.contains("fill=\"#fde725\"><title>Shirt / Coat, step 1990: 1</title>"), "top of the scale")
    XCTAssertTrue(svg.contains("<a href=\"#pair-4-6\">"))
    let columnLabels =
      svg.components(separatedBy: "<g class=\"axis x-axis\">")[1].components(separatedBy: "</g>")[0]
      .components(separatedBy: "class=\"tick\"").count - 1
    XCTAssertEqual(columnLabels, 10)
  }
}

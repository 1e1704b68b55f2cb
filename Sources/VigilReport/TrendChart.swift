import Foundation
import Vigil

/// Small multiples of one metric over a suite's stored runs, one panel per scenario: baseline
/// (blue, squares) and candidate (vermillion, triangles, dashed), the newest run (the report's
/// own) on the right with a grey band behind it. The same colours and shapes as the severity
/// curves, so a reader learns them once.
public struct TrendChart {
    public var trend: Trend

    public init(trend: Trend) {
        self.trend = trend
    }

    static let maxColumns = 4
    static let panel = (width: 250, height: 150)
    static let plot = (left: 52.0, right: 12.0, top: 24.0, bottom: 22.0)
    static let header = 70

    public func render(to url: URL) throws {
        let scenarios = trend.scenarios
        let columns = max(1, min(Self.maxColumns, scenarios.count))
        let rows = max(1, (scenarios.count + columns - 1) / columns)
        let canvas = Canvas(width: max(columns * Self.panel.width, 520) + 16, height: Self.header + rows * Self.panel.height + 8)
        canvas.text("\(trend.metric) over the last \(trend.runs.count) stored run\(trend.runs.count == 1 ? "" : "s") of suite \(trend.suite)",
                    x: 8, y: 22, size: 15, bold: true)
        canvas.modelKey(y: 40)
        if let first = trend.runs.first, let last = trend.runs.last {
            canvas.text("runs oldest to newest: \(first.id) … \(last.id) (this run, shaded)", x: 8, y: 62, size: 10, .grey)
        }
        for (index, scenario) in scenarios.enumerated() {
            drawPanel(scenario, on: canvas, x: 8 + Double((index % columns) * Self.panel.width),
                      y: Double(Self.header + (index / columns) * Self.panel.height))
        }
        try canvas.writePNG(to: url)
    }

    private func drawPanel(_ scenario: String, on canvas: Canvas, x: Double, y: Double) {
        let p = Self.plot, metric = trend.metric.metric
        let width = Double(Self.panel.width) - p.left - p.right, height = Double(Self.panel.height) - p.top - p.bottom
        let left = x + p.left, top = y + p.top
        let series = trend.runs.map { $0.values[scenario] }
        let values = series.flatMap { [$0?.baseline, $0?.candidate] }.compactMap { $0 }
        // The range spans the data, padded, so small drifts show; shares stay within [0, 1].
        var low = values.min() ?? 0, high = values.max() ?? 1
        let pad = max((high - low) * 0.15, metric.isShare ? 0.01 : max(abs(high) * 0.02, 1e-6))
        low -= pad; high += pad
        if metric.isShare { low = max(0, low); high = min(1, high) }
        if high <= low { high = low + 1 }
        let count = trend.runs.count
        func px(_ index: Int) -> Double { count == 1 ? left + width / 2 : left + width * Double(index) / Double(count - 1) }
        func py(_ value: Double) -> Double { top + height * (1 - (value - low) / (high - low)) }

        canvas.text(scenario, x: left, y: y + 16, size: 11, bold: true)
        let band = count == 1 ? width : width / Double(count - 1)
        canvas.fill(x: max(left, px(count - 1) - band / 2), y: top, width: min(band / 2, width), height: height, .lightGrey)
        canvas.stroke(x: left, y: top, width: width, height: height, .grey, lineWidth: 0.5)
        for tick in 0...2 {
            let value = low + (high - low) * Double(tick) / 2
            canvas.line(from: (left, py(value)), to: (left + width, py(value)), .lightGrey, width: 0.5)
            canvas.text(Formatting.value(value, metric), x: left - 4, y: py(value) + 3, size: 8, .grey, align: .right)
        }
        for index in 0..<count {
            canvas.text("\(index + 1)", x: px(index), y: top + height + 12, size: 8, .grey, align: .centre)
        }
        if values.isEmpty {
            canvas.text("no values", x: left + width / 2, y: top + height / 2, size: 10, .grey, align: .centre)
            return
        }
        canvas.modelSeries(series.enumerated().map { index, pair in pair?.baseline.map { (px(index), py($0)) } }, .baseline)
        canvas.modelSeries(series.enumerated().map { index, pair in pair?.candidate.map { (px(index), py($0)) } }, .candidate)
    }
}

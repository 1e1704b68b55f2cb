import Foundation
import Vigil

/// Small multiples of a metric against severity, one panel per corruption: baseline (blue,
/// circles) and candidate (vermillion, triangles, dashed), with each model's clean value as a
/// thin horizontal line when the run has a clean scenario. Colours are the Okabe–Ito
/// colour-blind-safe pair; shapes and dashes tell the models apart in grey print too.
public struct SeverityCurves {
    public var title: String
    public var curves: [RobustnessScores.Curve]
    public var clean: (baseline: Double?, candidate: Double?)?

    public init(title: String, curves: [RobustnessScores.Curve], clean: (baseline: Double?, candidate: Double?)?) {
        self.title = title
        self.curves = curves
        self.clean = clean
    }

    static let maxColumns = 4
    static let panel = (width: 250, height: 170)
    static let plot = (left: 44.0, right: 12.0, top: 26.0, bottom: 30.0)
    static let header = 52

    public func render(to url: URL) throws {
        let columns = max(1, min(Self.maxColumns, curves.count))
        let rows = max(1, (curves.count + columns - 1) / columns)
        let canvas = Canvas(width: max(columns * Self.panel.width, 420) + 16, height: Self.header + rows * Self.panel.height + 8)
        canvas.text(title, x: 8, y: 22, size: 15, bold: true)
        canvas.modelKey(y: 40)
        if clean != nil { canvas.text("thin lines: clean", x: 230, y: 44, size: 11, .grey) }
        for (index, curve) in curves.enumerated() {
            drawPanel(curve, on: canvas, x: 8 + Double((index % columns) * Self.panel.width),
                      y: Double(Self.header + (index / columns) * Self.panel.height))
        }
        try canvas.writePNG(to: url)
    }

    private func drawPanel(_ curve: RobustnessScores.Curve, on canvas: Canvas, x: Double, y: Double) {
        let p = Self.plot
        let width = Double(Self.panel.width) - p.left - p.right, height = Double(Self.panel.height) - p.top - p.bottom
        let left = x + p.left, top = y + p.top
        let values = (curve.baseline + curve.candidate + [clean?.baseline ?? nil, clean?.candidate ?? nil]).compactMap { $0 }
        // The vertical range spans the data, padded, within [0, 1], so small differences show.
        var low = max(0, (values.min() ?? 0) - 0.05), high = min(1, (values.max() ?? 1) + 0.02)
        if high - low < 0.1 { low = max(0, high - 0.1); high = min(1, low + 0.1) }
        func px(_ severity: Int) -> Double { left + width * Double(severity - 1) / 4 }
        func py(_ value: Double) -> Double { top + height * (1 - (value - low) / (high - low)) }

        canvas.text(curve.family, x: left, y: y + 16, size: 11, bold: true)
        canvas.stroke(x: left, y: top, width: width, height: height, .grey, lineWidth: 0.5)
        for tick in 0...2 {
            let value = low + (high - low) * Double(tick) / 2
            canvas.line(from: (left, py(value)), to: (left + width, py(value)), .lightGrey, width: 0.5)
            canvas.text(String(format: "%.0f%%", value * 100), x: left - 4, y: py(value) + 3, size: 8, .grey, align: .right)
        }
        for severity in 1...5 {
            canvas.text("\(severity)", x: px(severity), y: top + height + 12, size: 8, .grey, align: .centre)
        }
        canvas.text("severity", x: left + width / 2, y: top + height + 24, size: 8, .grey, align: .centre)
        if let b = clean?.baseline { canvas.line(from: (left, py(b)), to: (left + width, py(b)), .blue, width: 0.6) }
        if let c = clean?.candidate { canvas.line(from: (left, py(c)), to: (left + width, py(c)), .vermillion, width: 0.6, dashed: true) }
        for (series, role) in [(curve.baseline, ModelRole.baseline), (curve.candidate, .candidate)] {
            canvas.modelSeries(zip(curve.severities, series).map { s, v in v.map { (px(s), py($0)) } }, role)
        }
    }
}

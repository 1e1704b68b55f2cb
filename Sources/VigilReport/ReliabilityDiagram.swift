import Foundation
import Vigil

/// A reliability diagram: per confidence bin, the accuracy actually reached (bars) against the
/// confidence claimed (diagonal), with the gap between them marked by colour (sky blue when the
/// model is underconfident, vermillion when overconfident), the samples per bin below, and the
/// legend under the chart, clear of every bar.
public struct ReliabilityDiagram {
    public var title: String
    public var bins: [ReliabilityBin]
    public var ece: Double?

    public init(title: String, bins: [ReliabilityBin], ece: Double?) {
        self.title = title
        self.bins = bins
        self.ece = ece
    }

    public func render(to url: URL) throws {
        let canvas = Canvas(width: 360, height: 482)
        let plot = (x: 56.0, y: 44.0, size: 280.0)
        let histogram = (y: plot.y + plot.size + 34, height: 44.0)
        canvas.text(title, x: 12, y: 20, size: 12.5, bold: true)
        canvas.text("ECE \(Formatting.value(ece, .ece))", x: 12, y: 36, size: 11, .grey)

        // Grid and axes.
        for tick in stride(from: 0.0, through: 1.0, by: 0.25) {
            let gx = plot.x + tick * plot.size, gy = plot.y + (1 - tick) * plot.size
            canvas.line(from: (plot.x, gy), to: (plot.x + plot.size, gy), .lightGrey)
            canvas.line(from: (gx, plot.y), to: (gx, plot.y + plot.size), .lightGrey)
            canvas.text(String(format: "%.2f", tick), x: plot.x - 6, y: gy + 4, size: 9.5, .grey, align: .right)
            canvas.text(String(format: "%.2f", tick), x: gx, y: plot.y + plot.size + 13, size: 9.5, .grey, align: .centre)
        }
        let maxCount = max(1, bins.map(\.count).max() ?? 1)
        for bin in bins {
            let left = plot.x + bin.lower * plot.size
            let width = (bin.upper - bin.lower) * plot.size
            if let accuracy = bin.accuracy, let confidence = bin.confidence {
                // The accuracy bar is blue up to the claimed confidence; the part above it
                // (underconfidence) is sky blue; a shortfall below it (overconfidence) is shaded
                // vermillion up to the confidence.
                let y = { (value: Double) in plot.y + (1 - value) * plot.size }
                let bottom = plot.y + plot.size
                let low = min(accuracy, confidence)
                canvas.fill(x: left + 1, y: y(low), width: width - 2, height: bottom - y(low), .blue, alpha: 0.9)
                if accuracy > confidence {
                    canvas.fill(x: left + 1, y: y(accuracy), width: width - 2, height: y(confidence) - y(accuracy), .skyBlue)
                } else if confidence > accuracy {
                    canvas.fill(x: left + 1, y: y(confidence), width: width - 2, height: y(accuracy) - y(confidence),
                                .vermillion, alpha: 0.35)
                    canvas.stroke(x: left + 1.5, y: y(confidence), width: width - 3, height: y(accuracy) - y(confidence), .vermillion)
                }
            }
            let barHeight = histogram.height * Double(bin.count) / Double(maxCount)
            canvas.fill(x: left + 1, y: histogram.y + histogram.height - barHeight, width: width - 2, height: barHeight, .grey)
        }
        canvas.line(from: (plot.x, plot.y + plot.size), to: (plot.x + plot.size, plot.y), .black, width: 1.2, dashed: true)
        canvas.stroke(x: plot.x, y: plot.y, width: plot.size, height: plot.size, .black)
        canvas.text("confidence (top-label)", x: plot.x + plot.size / 2, y: histogram.y + histogram.height + 16, size: 10.5, align: .centre)
        canvas.verticalText("accuracy", x: 16, y: plot.y + plot.size / 2, size: 10.5)
        canvas.text("samples per bin (max \(maxCount))", x: plot.x, y: histogram.y - 3, size: 8.5, .grey)
        // Legend below the chart, where it covers no bar; items wrap to a second line.
        var x = 12.0, y = histogram.y + histogram.height + 34
        for (label, colour, alpha, outlined) in [("accuracy", Colour.blue, 0.9, false),
                                                 ("accuracy above confidence", .skyBlue, 1, false),
                                                 ("accuracy below confidence", .vermillion, 0.35, true)] {
            let width = 14 + canvas.textWidth(label, size: 9.5) + 14
            if x + width > Double(canvas.width) - 8 {
                x = 12
                y += 16
            }
            canvas.fill(x: x, y: y - 9, width: 10, height: 10, colour, alpha: alpha)
            if outlined { canvas.stroke(x: x, y: y - 9, width: 10, height: 10, colour) }
            canvas.text(label, x: x + 14, y: y, size: 9.5)
            x += width
        }
        try canvas.writePNG(to: url)
    }
}

import Foundation
import Vigil

/// The confusion matrices of baseline and candidate on one scenario and their difference, side
/// by side in one PNG. Rows are true classes, columns predicted classes.
/// - Baseline and candidate: each cell shaded by its share of the row (the fraction of the true
///   class's samples predicted as the column's class), so classes of different sizes compare,
///   and labelled with its count.
/// - Difference (candidate − baseline counts): blue where the candidate does better (more on the
///   diagonal, fewer off it), vermillion where it does worse, shaded by the size of the change.
public struct ConfusionHeatMaps {
    public var title: String
    public var classes: [String]
    public var baseline: [[Int]]
    public var candidate: [[Int]]
    public var modelNames: (baseline: String, candidate: String)

    /// Beyond this many classes the cells are too small to read; the report leaves the maps out.
    public static let maximumClasses = 40

    public init(title: String, classes: [String], baseline: [[Int]], candidate: [[Int]],
                modelNames: (baseline: String, candidate: String)) {
        self.title = title
        self.classes = classes
        self.baseline = baseline
        self.candidate = candidate
        self.modelNames = modelNames
    }

    var cell: Double { min(48, max(10, (300 / Double(max(classes.count, 1))).rounded(.down))) }
    var labelsRotated: Bool { classes.count > 6 }

    public func render(to url: URL) throws {
        let n = classes.count, cell = cell
        let measure = Canvas(width: 1, height: 1)
        let labels = classes.map { $0.count > 14 ? String($0.prefix(13)) + "…" : $0 }
        let labelWidth = (labels.map { measure.textWidth($0, size: 9.5) }.max() ?? 0) + 10
        let columnLabelHeight = labelsRotated ? labelWidth : 16
        let grid = Double(n) * cell
        let panelWidth = labelWidth + grid + 28
        let top = 58 + columnLabelHeight
        let canvas = Canvas(width: Int(12 + 3 * panelWidth), height: Int(top + grid + 34))
        canvas.text(title, x: 12, y: 20, size: 13, bold: true)
        canvas.text("rows: true class · columns: predicted class", x: 12, y: 36, size: 10.5, .grey)
        let differences = zip(candidate, baseline).map { zip($0, $1).map { $0 - $1 } }
        let largestChange = max(1, differences.joined().map(abs).max() ?? 1)
        let panels = [("baseline \(modelNames.baseline)", 0), ("candidate \(modelNames.candidate)", 1),
                      ("difference (candidate − baseline)", 2)]
        for (name, index) in panels {
            let left = 12 + Double(index) * panelWidth + labelWidth
            canvas.text(name, x: left, y: 54, size: 10.5, bold: true)
            for (i, label) in labels.enumerated() {
                let middle = Double(i) * cell + cell / 2
                canvas.text(label, x: left - 5, y: top + middle + 3.5, size: 9.5, align: .right)
                if labelsRotated {
                    canvas.verticalText(label, x: left + middle + 3.5, y: top - 4 - measure.textWidth(label, size: 9.5) / 2, size: 9.5)
                } else {
                    canvas.text(label, x: left + middle, y: top - 5, size: 9.5, align: .centre)
                }
            }
            for row in 0..<n {
                let total = max(1, baseline[row].reduce(0, +)), candidateTotal = max(1, candidate[row].reduce(0, +))
                for column in 0..<n {
                    let x = left + Double(column) * cell, y = top + Double(row) * cell
                    let (colour, strength, label): (Colour, Double, String)
                    switch index {
                    case 0, 1:
                        let count = index == 0 ? baseline[row][column] : candidate[row][column]
                        (colour, strength, label) = (.blue, Double(count) / Double(index == 0 ? total : candidateTotal), "\(count)")
                    default:
                        let change = differences[row][column]
                        let better = row == column ? change > 0 : change < 0
                        (colour, strength, label) = (better ? .blue : .vermillion, Double(abs(change)) / Double(largestChange),
                                                     change == 0 ? "" : change > 0 ? "+\(change)" : "−\(-change)")
                    }
                    canvas.fill(x: x, y: y, width: cell, height: cell, colour, alpha: 0.85 * strength)
                    canvas.stroke(x: x, y: y, width: cell, height: cell, .lightGrey, lineWidth: 0.5)
                    if cell >= 22, !label.isEmpty {
                        canvas.text(label, x: x + cell / 2, y: y + cell / 2 + 4, size: cell >= 36 ? 11 : 9,
                                    strength > 0.55 ? .white : .black, align: .centre)
                    }
                }
            }
            canvas.stroke(x: left, y: top, width: grid, height: grid, .grey)
        }
        try canvas.writePNG(to: url)
    }
}

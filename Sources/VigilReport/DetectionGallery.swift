import Foundation
import Vigil

/// A detection scenario's worst images, one PNG per row: the image as the models received it
/// (the scenario re-applied with the run's seed), baseline on the left and candidate on the
/// right, with the golden set's boxes and the models' detections at the operating point drawn in
/// styles that differ in colour (Okabe–Ito) and in line pattern, so they stay apart with
/// colour-blindness and in greyscale:
/// - true positive detection: solid blue, with its score (and class, when there are several);
/// - false positive detection: thick solid vermillion, with its score;
/// - missed object: thick dashed orange;
/// - found object: thin dashed bluish green;
/// - crowd region: thin dashed grey.
/// Rows are the candidate's worst images first: most misses plus false positives, then the
/// highest false-positive score. A NEW badge marks rows where the candidate misses objects the
/// baseline found or has false positives the baseline did not.
public struct DetectionGallery: Sendable {
    public struct Row: Sendable {
        public var sample: Sample
        public var baseline: (outcome: DetectionOutcome, match: ImageMatch)
        public var candidate: (outcome: DetectionOutcome, match: ImageMatch)

        /// The candidate misses an object the baseline found, or makes more false positives.
        public var isNew: Bool {
            let newMiss = candidate.match.missed.indices.contains { candidate.match.missed[$0] && !baseline.match.missed[$0] }
            return newMiss || candidate.match.falsePositives > baseline.match.falsePositives
        }
    }

    public var classes: [String]
    public var modelNames: (baseline: String, candidate: String)

    static let panel = (width: 460, height: 330)
    static let width = 2 * panel.width + 48
    static let rowHeight = panel.height + 40

    /// The candidate's worst `limit` images (those with at least one miss or false positive).
    public static func worst(samples: [Sample], baseline: [DetectionOutcome], baselineMatches: [ImageMatch],
                             candidate: [DetectionOutcome], candidateMatches: [ImageMatch], limit: Int) -> [Row] {
        func badness(_ i: Int) -> (Int, Double) {
            let m = candidateMatches[i]
            let fpScore = zip(candidate[i].detections, m.statuses).filter { $0.1 == .falsePositive }.map(\.0.score).max() ?? -.infinity
            return (m.misses + m.falsePositives, fpScore)
        }
        return samples.indices
            .filter { badness($0).0 > 0 }
            .sorted { a, b in
                let x = badness(a), y = badness(b)
                if x.0 != y.0 { return x.0 > y.0 }
                if x.1 != y.1 { return x.1 > y.1 }
                return samples[a].id < samples[b].id
            }
            .prefix(limit)
            .map { Row(sample: samples[$0], baseline: (baseline[$0], baselineMatches[$0]), candidate: (candidate[$0], candidateMatches[$0])) }
    }

    /// The PNG of one row (rank is 1-based): its caption and the baseline and candidate panels
    /// on `image`, the scenario image of the row's sample.
    public func renderRow(_ row: Row, rank: Int, image picture: Vigil.Image, to url: URL) throws {
        let canvas = Canvas(width: Self.width, height: Self.rowHeight)
        let caption = "#\(rank) \(row.sample.id)"
        canvas.text(caption, x: 12, y: 14, size: 11, bold: true)
        if row.isNew {
            let left = 12 + canvas.textWidth(caption, size: 11, bold: true) + 10
            canvas.fill(x: left, y: 3, width: 40, height: 15, .vermillion)
            canvas.text("NEW", x: left + 20, y: 14, size: 10, .white, bold: true, align: .centre)
        }
        for (column, side) in [(0, row.baseline), (1, row.candidate)].map({ ($0.0, $0.1) }) {
            let x = 12 + column * (Self.panel.width + 24)
            let name = column == 0 ? "baseline \(modelNames.baseline)" : "candidate \(modelNames.candidate)"
            let counts = "\(side.match.truePositives) found · \(side.match.misses) missed · \(side.match.falsePositives) false positive\(side.match.falsePositives == 1 ? "" : "s")"
            canvas.text("\(name): \(counts)", x: Double(x), y: 30, size: 10.5, column == 1 && row.isNew ? .vermillion : .black)
            try drawPanel(picture, outcome: side.outcome, match: side.match, on: canvas, x: x, y: 36)
        }
        try canvas.writePNG(to: url)
    }

    /// The PNG of the legend: the box styles and what they mean.
    public static func renderLegend(to url: URL) throws {
        let canvas = Canvas(width: width, height: 24)
        var x = 12.0
        let items: [(String, Colour, Double, Bool)] = [
            ("true positive (score)", .blue, 2, false), ("false positive (score)", .vermillion, 3.5, false),
            ("missed object", .orange, 3.5, true), ("found object", .bluishGreen, 1.5, true), ("crowd region", .grey, 1.5, true),
        ]
        for (label, colour, line, dashed) in items {
            canvas.stroke(x: x, y: 5, width: 22, height: 13, colour, lineWidth: line, dashed: dashed)
            canvas.text(label, x: x + 28, y: 16, size: 10.5)
            x += 28 + canvas.textWidth(label, size: 10.5) + 22
        }
        try canvas.writePNG(to: url)
    }

    private func drawPanel(_ image: Vigil.Image, outcome: DetectionOutcome, match: ImageMatch, on canvas: Canvas, x: Int, y: Int) throws {
        let (w, h) = Self.fit(image.width, image.height)
        let left = x + (Self.panel.width - w) / 2, top = y + (Self.panel.height - h) / 2
        canvas.fill(x: Double(x), y: Double(y), width: Double(Self.panel.width), height: Double(Self.panel.height), .lightGrey)
        try canvas.draw(image, x: left, y: top, width: w, height: h)
        let scale = Double(w) / Double(image.width)
        func rect(_ box: Box) -> (Double, Double, Double, Double) {
            (Double(left) + box.x * scale, Double(top) + box.y * scale, box.width * scale, box.height * scale)
        }
        // Ground truth first, detections on top; misses last of the truth so they stay visible.
        for (t, truth) in match.truth.enumerated() where !match.missed[t] {
            let r = rect(truth.box)
            canvas.stroke(x: r.0, y: r.1, width: r.2, height: r.3, truth.isCrowd ? .grey : .bluishGreen, lineWidth: 1.5, dashed: true)
        }
        for (t, truth) in match.truth.enumerated() where match.missed[t] {
            let r = rect(truth.box)
            canvas.stroke(x: r.0, y: r.1, width: r.2, height: r.3, .orange, lineWidth: 3.5, dashed: true)
        }
        for (d, detection) in outcome.detections.enumerated() {
            let status = match.statuses[d]
            guard status == .truePositive || status == .falsePositive else { continue }
            let r = rect(detection.box)
            let colour: Colour = status == .truePositive ? .blue : .vermillion
            canvas.stroke(x: r.0, y: r.1, width: r.2, height: r.3, colour, lineWidth: status == .truePositive ? 2 : 3.5)
            // With several classes the label names the class too.
            let label = classes.count > 1 && classes.indices.contains(detection.classIndex)
                ? "\(classes[detection.classIndex]) \(Self.score(detection.score))" : Self.score(detection.score)
            let labelWidth = canvas.textWidth(label, size: 9.5) + 6
            let labelY = max(Double(y), r.1 - 13)
            canvas.fill(x: r.0, y: labelY, width: labelWidth, height: 13, colour)
            canvas.text(label, x: r.0 + 3, y: labelY + 10, size: 9.5, .white)
        }
    }

    /// Scores as detectors give them: whole numbers (cascade neighbour counts) without
    /// decimals, probabilities with two.
    static func score(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e6 ? String(Int(value)) : String(format: "%.2f", value)
    }

    /// The image's size scaled to fit a panel (never enlarged beyond 4×).
    static func fit(_ width: Int, _ height: Int) -> (Int, Int) {
        let scale = min(Double(panel.width) / Double(width), Double(panel.height) / Double(height), 4)
        return (max(1, Int(Double(width) * scale)), max(1, Int(Double(height) * scale)))
    }
}

import Foundation
import Vigil

/// A PNG grid of a model's worst misclassifications on one scenario: most confident mistakes
/// first, each tile the image exactly as the model received it (the scenario re-applied with the
/// run's seed), enlarged, with true and predicted class and confidence. On the candidate's
/// gallery, tiles the baseline got right carry a NEW badge.
public struct FailureGallery {
    public struct Tile {
        public var sample: Sample
        public var outcome: Outcome
        /// True on the candidate's gallery when the baseline classified this sample correctly.
        public var isNew: Bool
    }

    public var title: String
    public var subtitle: String
    public var tiles: [Tile]
    public var classes: [String]

    static let columns = 8
    static let imageSide = 112
    static let cell = (width: 128, height: 170)
    static let header = 56

    /// The worst `limit` failures of `outcomes` (by confidence, ties by sample id).
    public static func worst(_ outcomes: [Outcome], samples: [String: Sample], baseline: [String: Outcome]?,
                             limit: Int) -> [Tile] {
        outcomes.filter { !$0.correct }
            .sorted { $0.confidence != $1.confidence ? $0.confidence > $1.confidence : $0.sampleID < $1.sampleID }
            .prefix(limit)
            .map { outcome in
                Tile(sample: samples[outcome.sampleID]!, outcome: outcome,
                     isNew: baseline?[outcome.sampleID]?.correct ?? false)
            }
    }

    /// Draws the gallery. `image(sample)` must return the scenario's input image for a sample.
    public func render(to url: URL, image: (Sample) throws -> Vigil.Image) throws {
        let rows = max(1, (tiles.count + Self.columns - 1) / Self.columns)
        let width = Self.columns * Self.cell.width + 16
        let height = Self.header + rows * Self.cell.height + 8
        let canvas = Canvas(width: width, height: height)
        canvas.text(title, x: 8, y: 22, size: 15, bold: true)
        canvas.text(subtitle, x: 8, y: 42, size: 11, .grey)
        for (index, tile) in tiles.enumerated() {
            let x = 8 + (index % Self.columns) * Self.cell.width
            let y = Self.header + (index / Self.columns) * Self.cell.height
            try drawTile(tile, rank: index + 1, on: canvas, x: x, y: y, image: image(tile.sample))
        }
        try canvas.writePNG(to: url)
    }

    private func drawTile(_ tile: Tile, rank: Int, on canvas: Canvas, x: Int, y: Int, image: Vigil.Image) throws {
        let side = Self.imageSide
        // Largest integer enlargement that fits, so every source pixel becomes an equal square.
        let factor = max(1, min(side / max(image.width, 1), side / max(image.height, 1)))
        let (w, h) = image.width * factor <= side && image.height * factor <= side
            ? (image.width * factor, image.height * factor)
            : Canvas.fit(image.width, image.height, in: side)
        let left = x + (side - w) / 2 + 4, top = y + (side - h) / 2 + 4
        canvas.fill(x: Double(x + 4), y: Double(y + 4), width: Double(side), height: Double(side), .lightGrey)
        try canvas.draw(image, x: left, y: top, width: w, height: h)
        canvas.stroke(x: Double(x + 4), y: Double(y + 4), width: Double(side), height: Double(side),
                      tile.isNew ? .vermillion : .grey, lineWidth: tile.isNew ? 3 : 1)
        if tile.isNew {
            let right = Double(x + 4 + side), topY = Double(y + 4)
            canvas.triangle((right - 46, topY), (right, topY), (right, topY + 46), .vermillion)
            canvas.text("NEW", x: right - 3, y: topY + 15, size: 10, .white, bold: true, align: .right)
        }
        let label = classes[tile.outcome.label], predicted = classes[tile.outcome.predicted]
        let textY = Double(y + side + 20)
        canvas.text("true \(label) → \(predicted)", x: Double(x + 4), y: textY, size: 12, bold: true)
        canvas.text(String(format: "confidence %.3f", tile.outcome.confidence), x: Double(x + 4), y: textY + 15, size: 10.5)
        canvas.text("#\(rank) \(tile.sample.id)", x: Double(x + 4), y: textY + 30, size: 10, .grey)
    }
}

import Foundation
import Vigil

/// A contact sheet: one image under every transform at every severity, one row per transform
/// (the clean image first, then severities 1 to 5), labelled with the transform's name, group
/// and each severity's parameters, so people can see what a scenario does before gating on it.
///
/// ```swift
/// try ScenarioSheet(image: photo, seed: 1).render(to: URL(fileURLWithPath: "sheet.png"))
/// ```
public struct ScenarioSheet {
    public var image: Vigil.Image
    public var transforms: [Transform]
    public var seed: UInt64
    /// The sample id entering each image's seed, as in `vigil corrupt`.
    public var sampleID: String
    /// Side of the box each image is fitted into, in pixels.
    public var tileSide: Int
    /// The image's annotated boxes, for box-aware transforms.
    public var objects: [Box]

    /// Every transform that accepts the image's size (ImageNet-C corruptions need 32 pixels);
    /// box-aware ones (`object-occlusion`) only when `objects` are given.
    public init(image: Vigil.Image, seed: UInt64, sampleID: String = "sheet", tileSide: Int = 150,
                transforms: [Transform] = Transform.all, objects: [Box] = []) {
        self.image = image
        self.seed = seed
        self.sampleID = sampleID
        self.tileSide = tileSide
        self.objects = objects
        self.transforms = transforms.filter {
            image.width >= $0.minimumSide && image.height >= $0.minimumSide && (!$0.needsObjects || !objects.isEmpty)
        }
    }

    static let labelWidth = 150
    static let header = 46
    static let captionHeight = 30

    public func render(to url: URL) throws {
        let (w, h) = Canvas.fit(image.width, image.height, in: tileSide)
        let column = tileSide + 8
        let row = h + Self.captionHeight + 10
        let width = Self.labelWidth + 6 * column + 8
        let height = Self.header + transforms.count * row + 8
        let canvas = Canvas(width: width, height: height)
        canvas.text("Vigil scenarios at severities 1–5", x: 8, y: 20, size: 15, bold: true)
        canvas.text("\(image.width)×\(image.height) input · seed \(seed) · sample id \(sampleID) · parameters under each image",
                    x: 8, y: 38, size: 11, .grey)
        for (index, transform) in transforms.enumerated() {
            let top = Self.header + index * row
            if index % 2 == 1 {
                canvas.fill(x: 0, y: Double(top - 4), width: Double(width), height: Double(row), .lightGrey, alpha: 0.5)
            }
            canvas.text(transform.name, x: 8, y: Double(top + h / 2), size: 12, bold: true)
            canvas.text(transform.group.rawValue + (transform.isImageNetC ? " · ImageNet-C" : " · Vigil"),
                        x: 8, y: Double(top + h / 2 + 16), size: 10, .grey)
            for severity in 0...5 {
                let x = Self.labelWidth + severity * column + (tileSide - w) / 2
                let shown: Vigil.Image
                if severity == 0 {
                    shown = image
                } else {
                    let scenario = Scenario(transform, severity: severity)
                    shown = try scenario.apply(to: image, seed: Seeds.sample(run: seed, scenario: scenario, sampleID: sampleID),
                                               objects: objects)
                }
                try canvas.draw(shown, x: x, y: top, width: w, height: h)
                let centre = Double(Self.labelWidth + severity * column + tileSide / 2)
                canvas.text(severity == 0 ? "clean" : "\(severity)", x: centre, y: Double(top + h + 13), size: 10, bold: true, align: .centre)
                if severity > 0 {
                    canvas.text(Self.shorten(transform.parameters(severity: severity), to: 30), x: centre,
                                y: Double(top + h + 25), size: 8, .grey, align: .centre)
                }
            }
        }
        try canvas.writePNG(to: url)
    }

    /// Keeps captions inside their column: the leading " · "-separated parts that fit, else
    /// the text cut with an ellipsis.
    static func shorten(_ text: String, to length: Int) -> String {
        guard text.count > length else { return text }
        var kept = ""
        for part in text.components(separatedBy: " · ") {
            let next = kept.isEmpty ? part : kept + " · " + part
            guard next.count <= length else { break }
            kept = next
        }
        return kept.isEmpty ? String(text.prefix(length - 1)) + "…" : kept
    }
}

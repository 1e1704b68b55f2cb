import Foundation
import Yams

/// Builds detection golden sets from the formats people already have, and writes them back
/// out, so golden sets can come from other tools and go to them.
///
/// ```swift
/// let set = try GoldenSetImport.coco(annotations: URL(fileURLWithPath: "instances_val.json"),
///                                    images: URL(fileURLWithPath: "val2017"),
///                                    output: URL(fileURLWithPath: "GoldenSets/coco-val"))
/// try GoldenSetExport.coco(set).write(to: URL(fileURLWithPath: "gt.json"))
/// ```
///
/// Imports copy the images into `output/images/` (keeping their relative paths), hash them, read
/// each image's size from the file itself, and validate the result exactly as `GoldenSet.load`
/// does (boxes inside the image, known classes, unique ids). The output folder must not exist
/// or be empty, so an import never mixes with older files.
public enum GoldenSetImport {
    /// A COCO annotations file (`images`, `annotations` with `bbox` and `iscrowd`, `categories`)
    /// and the folder its `file_name`s are relative to. Classes are the categories' names in
    /// ascending id order; sample ids are the file names without their extension. An image whose
    /// size in the file differs from the one COCO lists is refused.
    public static func coco(annotations: URL, images: URL, output: URL, name: String? = nil, version: String = "1.0.0") throws -> GoldenSet {
        let shown = DisplayPath.of(annotations)
        let truth = try COCOGroundTruth.load(annotations, displayPath: shown)
        let categories = truth.categories.sorted { $0.id < $1.id }
        guard Set(categories.map(\.name)).count == categories.count else {
            throw InputError("\(shown): two categories share a name; Vigil's classes are names, so they must be unique")
        }
        let className = Dictionary(uniqueKeysWithValues: categories.map { ($0.id, $0.name) })
        let labelIndices = Dictionary(uniqueKeysWithValues: categories.enumerated().map { ($1.name, $0) })
        var byImage: [Int: [COCOGroundTruth.Annotation]] = [:]
        for annotation in truth.annotations { byImage[annotation.imageID, default: []].append(annotation) }
        try prepareOutput(output)
        try writeStaged(to: output) { staging in
        var samples: [Sample] = []
        var seenFiles = Set<String>()
        for image in truth.images.sorted(by: { $0.id < $1.id }) {
            guard let file = image.fileName, !file.isEmpty else {
                throw InputError("\(shown): image id \(image.id) has no file_name")
            }
            guard seenFiles.insert(file).inserted else {
                throw InputError("\(shown): file_name '\(file)' appears twice in 'images'")
            }
            let copied = try copyImage(images.appendingPathComponent(file), relative: file, into: staging)
            if let w = image.width, let h = image.height, (w, h) != (copied.width, copied.height) {
                throw InputError("\(shown): image id \(image.id) ('\(file)') is listed as \(w)×\(h) but the file is \(copied.width)×\(copied.height)")
            }
            let objects = (byImage[image.id] ?? []).sorted { $0.id < $1.id }.map {
                GroundTruthObject(className: className[$0.categoryID]!, box: $0.bbox, isCrowd: $0.isCrowd)
            }
            let sample = Sample(id: sampleID(file), path: copied.path, sha256: copied.sha256, width: copied.width,
                                height: copied.height, objects: objects)
            // Boxes are checked here, against the file's real size, so that a problem names the
            // COCO file (the manifest is only written once everything checks out).
            try GoldenSet.checkDetectionSample(sample, classes: categories.map(\.name), labelIndices: labelIndices, manifest: shown)
            samples.append(sample)
        }
        try writeManifest(samples: samples, classes: categories.map(\.name), into: staging,
                          name: name ?? output.lastPathComponent, version: version,
                          description: "Imported from COCO annotations \(annotations.lastPathComponent)")
        }
        return try GoldenSet.load(output)
    }

    /// A YOLO data set: `DIR/images/**` and `DIR/labels/**` with one `STEM.txt` per image (one
    /// line per object: `class cx cy w h`, the class an index and the box normalised to 0–1),
    /// class names from `DIR/classes.txt` (one per line) or `names` in `DIR/data.yaml`. An image
    /// without a label file has no objects.
    public static func yolo(_ folder: URL, output: URL, name: String? = nil, version: String = "1.0.0") throws -> GoldenSet {
        let classes = try yoloClasses(folder)
        let imagesFolder = folder.appendingPathComponent("images"), labelsFolder = folder.appendingPathComponent("labels")
        guard FileManager.default.fileExists(atPath: imagesFolder.path) else {
            throw InputError("\(DisplayPath.of(folder)): no images/ folder (a YOLO data set has images/ and labels/)")
        }
        let files = imageFiles(in: imagesFolder)
        guard !files.isEmpty else { throw InputError("\(DisplayPath.of(imagesFolder)): no images") }
        try prepareOutput(output)
        try writeStaged(to: output) { staging in
        var samples: [Sample] = []
        for relative in files {
            let copied = try copyImage(imagesFolder.appendingPathComponent(relative), relative: relative, into: staging)
            let labelURL = labelsFolder.appendingPathComponent((relative as NSString).deletingPathExtension + ".txt")
            var objects: [GroundTruthObject] = []
            if let text = try? String(contentsOf: labelURL, encoding: .utf8) {
                let shown = DisplayPath.of(labelURL)
                for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                    let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
                    if fields.isEmpty { continue }
                    objects.append(try yoloObject(fields, classes: classes, width: copied.width, height: copied.height,
                                                  where: "\(shown):\(index + 1)"))
                }
            }
            samples.append(Sample(id: sampleID(relative), path: copied.path, sha256: copied.sha256, width: copied.width,
                                  height: copied.height, objects: objects))
        }
        try writeManifest(samples: samples, classes: classes, into: staging, name: name ?? output.lastPathComponent,
                          version: version, description: "Imported from the YOLO data set \(folder.lastPathComponent)")
        }
        return try GoldenSet.load(output)
    }

    static func yoloClasses(_ folder: URL) throws -> [String] {
        let list = folder.appendingPathComponent("classes.txt")
        if let text = try? String(contentsOf: list, encoding: .utf8) {
            let names = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !names.isEmpty else { throw InputError("\(DisplayPath.of(list)): no class names") }
            return names
        }
        let data = folder.appendingPathComponent("data.yaml")
        if let text = try? String(contentsOf: data, encoding: .utf8) {
            let document = try? Yams.load(yaml: text) as? [String: Any]
            if let names = document?["names"] as? [String] { return names }
            if let names = document?["names"] as? [Int: String] {
                return (0..<names.count).map { names[$0] ?? "\($0)" }
            }
            throw InputError("\(DisplayPath.of(data)): no 'names' list of class names")
        }
        throw InputError("\(DisplayPath.of(folder)): no classes.txt or data.yaml naming the classes")
    }

    /// One label line: class index and a normalised centre box, converted to pixels. Coordinates
    /// a rounding error outside 0–1 are clamped; others are refused.
    static func yoloObject(_ fields: [Substring], classes: [String], width: Int, height: Int, where location: String) throws -> GroundTruthObject {
        let values = fields.dropFirst().compactMap { Double($0) }
        guard fields.count == 5, let k = Int(fields[0]), values.count == 4 else {
            throw InputError("\(location): expected 'class cx cy w h' (a class index and four numbers), found '\(fields.joined(separator: " "))'")
        }
        guard classes.indices.contains(k) else {
            throw InputError("\(location): class \(k) is not in the class list (0…\(classes.count - 1))")
        }
        let (cx, cy, w, h) = (values[0], values[1], values[2], values[3])
        guard w > 0, h > 0 else { throw InputError("\(location): the box has zero or negative size") }
        let tolerance = 1e-6
        let x0 = cx - w / 2, y0 = cy - h / 2, x1 = cx + w / 2, y1 = cy + h / 2
        guard x0 >= -tolerance, y0 >= -tolerance, x1 <= 1 + tolerance, y1 <= 1 + tolerance else {
            throw InputError("\(location): the box reaches outside the image (normalised x \(Formatting.number(x0))…\(Formatting.number(x1)), y \(Formatting.number(y0))…\(Formatting.number(y1)))")
        }
        let left = max(0, x0) * Double(width), top = max(0, y0) * Double(height)
        let right = min(1, x1) * Double(width), bottom = min(1, y1) * Double(height)
        return GroundTruthObject(className: classes[k], box: Box(x: left, y: top, width: right - left, height: bottom - top))
    }

    static func sampleID(_ relativePath: String) -> String { (relativePath as NSString).deletingPathExtension }

    static func imageFiles(in folder: URL) -> [String] {
        allFiles(in: folder).filter { ScenarioExport.imageExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
    }

    /// The output folder must not exist or be empty, so an import never mixes with older files.
    static func prepareOutput(_ output: URL) throws {
        if let contents = try? FileManager.default.contentsOfDirectory(atPath: output.path), !contents.isEmpty {
            throw InputError("\(DisplayPath.of(output)): exists and is not empty; choose a new folder for the golden set")
        }
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: output.path, isDirectory: &isFolder), !isFolder.boolValue {
            throw InputError("\(DisplayPath.of(output)): exists and is a file; choose a new folder for the golden set")
        }
    }

    /// Runs `body` to write a golden set into a hidden folder beside `output`, then renames it
    /// to `output` (absent or empty, see `prepareOutput`); see `StagedFolder`.
    static func writeStaged(to output: URL, _ body: (URL) throws -> Void) throws {
        try StagedFolder.write(output, shown: DisplayPath.of(output), creating: "the folder", writing: "the golden set", body)
    }

    /// Copies an image into `output/images/RELATIVE`, decoding it for its size (which also
    /// refuses files that are not 8-bit grey or colour images).
    static func copyImage(_ source: URL, relative: String, into output: URL) throws -> (path: String, sha256: String, width: Int, height: Int) {
        guard FileManager.default.fileExists(atPath: source.path) else {
            throw InputError("\(DisplayPath.of(source)): image not found")
        }
        let image = try Image(contentsOf: source)
        let path = "images/" + relative
        try GoldenSet.checkRelativePath(path, manifest: DisplayPath.of(source))
        let destination = output.appendingPathComponent(path)
        do {
            try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: source, to: destination)
        } catch {
            throw InputError("\(DisplayPath.of(destination)): cannot copy the image (\(FileProblem.describe(error)))")
        }
        return (path, try SHA256.hex(ofFile: destination), image.width, image.height)
    }

    /// Writes the manifest and reads it back, so the imported set passes the same checks as any.
    static func writeManifest(samples: [Sample], classes: [String], into output: URL, name: String, version: String,
                              description: String) throws {
        var seen = Set<String>()
        for sample in samples where !seen.insert(sample.id).inserted {
            throw InputError("two images would get sample id '\(sample.id)' (the same name with another extension); rename one")
        }
        let manifest = GoldenSetManifest(name: name, version: version, task: .detection, description: description,
                                         classes: classes, samples: samples)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(manifest).write(to: output.appendingPathComponent("manifest.json"))
        _ = try GoldenSet.load(output)
    }
}

/// Writes golden sets in other tools' formats.
public enum GoldenSetExport {
    /// A detection golden set as COCO ground truth: images with ids 1… in manifest order
    /// (`file_name` the sample's path), categories with ids 1… in class order, annotations with
    /// the boxes, `area` = width × height and `iscrowd`. These are the ids Vigil's predictions
    /// files accept besides sample ids.
    public static func coco(_ goldenSet: GoldenSet) throws -> COCOGroundTruth {
        guard goldenSet.task == .detection else {
            throw InputError("golden set '\(goldenSet.name)' is for \(goldenSet.task.rawValue); COCO export is for detection golden sets")
        }
        var images: [COCOGroundTruth.Image] = [], annotations: [COCOGroundTruth.Annotation] = []
        for (index, sample) in goldenSet.samples.enumerated() {
            images.append(.init(id: index + 1, width: sample.width, height: sample.height, fileName: sample.path))
            for object in sample.objects ?? [] {
                annotations.append(.init(id: annotations.count + 1, imageID: index + 1,
                                         categoryID: goldenSet.classIndex(of: object.className)! + 1, bbox: object.box,
                                         area: object.box.width * object.box.height, isCrowd: object.isCrowd))
            }
        }
        return COCOGroundTruth(images: images, annotations: annotations,
                               categories: goldenSet.classes.enumerated().map { .init(id: $0.offset + 1, name: $0.element) })
    }
}

extension COCOGroundTruth {
    /// Writes `{"images": …, "annotations": …, "categories": …}`.
    public func write(to url: URL) throws {
        struct File: Encodable {
            var images: [COCOGroundTruth.Image]
            var annotations: [COCOGroundTruth.Annotation]
            var categories: [COCOGroundTruth.Category]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            try encoder.encode(File(images: images, annotations: annotations, categories: categories)).write(to: url)
        } catch {
            throw InputError("\(DisplayPath.of(url)): cannot write (\(FileProblem.describe(error)))")
        }
    }
}

import CSV
import Foundation

/// Builds classification golden sets from what people already have: a folder with a subfolder
/// per class (torchvision's `ImageFolder`), or a CSV file of `path,label` rows.
///
/// ```swift
/// let set = try GoldenSetImport.imageFolder(URL(fileURLWithPath: "val"), output: URL(fileURLWithPath: "GoldenSets/val"))
/// ```
///
/// Nothing is written until everything checks out: every image is decoded (8-bit grey or colour,
/// as runs need), every label and path is checked, and only then are the files copied into a
/// temporary folder beside the output, which is renamed to the output when the manifest written
/// there loads as a golden set.
extension GoldenSetImport {
    /// Image file extensions of torchvision's `IMG_EXTENSIONS` (compared case-insensitively).
    public static let imageFolderExtensions: Set<String> = ["jpg", "jpeg", "png", "ppm", "bmp", "pgm", "tif", "tiff", "webp"]

    /// What an import found besides the samples, for the caller to show.
    public struct Report: Sendable {
        public var goldenSet: GoldenSet
        /// Files that were skipped because they are not images (relative paths).
        public var skipped: [String]
    }

    /// torchvision's `ImageFolder` layout: `DIR/CLASS/**/FILE`. Classes are the subfolders'
    /// names sorted (torchvision's class indices), or `classes` in the given order (a model's
    /// order), which must name every subfolder once. Files under each class are taken in sorted
    /// order, recursively; files without an image extension are skipped and reported. Sample
    /// ids are `CLASS/PATH-WITHOUT-EXTENSION`; images are copied to `images/CLASS/…`.
    public static func imageFolder(_ folder: URL, output: URL, classes order: [String]? = nil, name: String? = nil,
                                   version: String = "1.0.0") throws -> Report {
        let shown = DisplayPath.of(folder)
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw InputError("\(shown): no such folder")
        }
        let subfolders = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: [.isDirectoryKey],
                                                                     options: [.skipsHiddenFiles])
            .filter { (try? $0.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true }
            .map(\.lastPathComponent).sorted()
        guard !subfolders.isEmpty else {
            throw InputError("\(shown): no class subfolders (an ImageFolder has one folder per class: \(shown)/CLASS/image.jpg)")
        }
        let classes = try order.map { order in
            guard Set(order).count == order.count else { throw InputError("--classes lists a class twice") }
            let unknown = order.filter { !subfolders.contains($0) }, unlisted = subfolders.filter { !order.contains($0) }
            if let first = unknown.first {
                throw InputError("\(shown): class '\(first)' of --classes has no subfolder" + Suggestion.hint(for: first, in: subfolders))
            }
            if !unlisted.isEmpty {
                throw InputError("\(shown): subfolder\(unlisted.count == 1 ? "" : "s") \(unlisted.map { "'\($0)'" }.joined(separator: ", ")) not in --classes; list every class")
            }
            return order
        } ?? subfolders
        var planned: [PlannedSample] = [], skipped: [String] = []
        for className in subfolders {
            let classFolder = folder.appendingPathComponent(className)
            var found = 0
            for relative in allFiles(in: classFolder) {
                let path = "\(className)/\(relative)"
                guard imageFolderExtensions.contains((relative as NSString).pathExtension.lowercased()) else {
                    skipped.append(path)
                    continue
                }
                planned.append(PlannedSample(id: sampleID(path), source: classFolder.appendingPathComponent(relative),
                                             path: "images/" + path, label: className, tags: [:]))
                found += 1
            }
            if found == 0 {
                throw InputError("\(DisplayPath.of(classFolder)): no images (extensions \(imageFolderExtensions.sorted().joined(separator: ", ")))")
            }
        }
        let set = try write(planned, classes: classes, output: output, name: name ?? output.lastPathComponent, version: version,
                            description: "Imported from the image folder \(folder.lastPathComponent)")
        return Report(goldenSet: set, skipped: skipped)
    }

    /// A CSV file with a header row: `path` (relative to `images`) and `label` columns, and any
    /// other columns as tags (empty cells are left out). Classes are the labels sorted, or
    /// `classes` in the given order (then every label must be one of them). Images are copied
    /// to `images/PATH`; sample ids are the paths without extension.
    public static func csv(_ file: URL, images: URL, output: URL, classes order: [String]? = nil, name: String? = nil,
                           version: String = "1.0.0") throws -> Report {
        let shown = DisplayPath.of(file)
        guard let text = try? String(contentsOf: file, encoding: .utf8) else {
            throw InputError("\(shown): cannot be read (missing file or not UTF-8 text)")
        }
        let reader: CSVReader
        do {
            reader = try CSVReader(string: text, hasHeaderRow: true)
        } catch {
            throw InputError("\(shown): no header row (the first line names the columns: path,label[,tag…])")
        }
        let header = (reader.headerRow ?? []).map { $0.trimmingCharacters(in: .whitespaces) }
        for column in ["path", "label"] where !header.contains(column) {
            throw InputError("\(shown): no '\(column)' column (the header is \(header.joined(separator: ",")); needed: path,label)")
        }
        guard Set(header).count == header.count else { throw InputError("\(shown): the header names a column twice") }
        let pathColumn = header.firstIndex(of: "path")!, labelColumn = header.firstIndex(of: "label")!
        var planned: [PlannedSample] = []
        var seen = Set<String>()
        var row = 1
        while let fields = reader.next() {
            row += 1
            if fields.count == 1, fields[0].trimmingCharacters(in: .whitespaces).isEmpty { continue }
            let at = "\(shown): row \(row)"
            guard fields.count == header.count else {
                throw InputError("\(at) has \(fields.count) field\(fields.count == 1 ? "" : "s"), the header \(header.count)")
            }
            let path = fields[pathColumn].trimmingCharacters(in: .whitespaces)
            let label = fields[labelColumn].trimmingCharacters(in: .whitespaces)
            guard !path.isEmpty else { throw InputError("\(at): empty path") }
            guard !label.isEmpty else { throw InputError("\(at): empty label for '\(path)'") }
            try GoldenSet.checkRelativePath(path, manifest: at)
            guard seen.insert(path).inserted else { throw InputError("\(at): '\(path)' is listed twice") }
            var tags: [String: String] = [:]
            for (index, column) in header.enumerated() where index != pathColumn && index != labelColumn && !fields[index].isEmpty {
                tags[column] = fields[index]
            }
            planned.append(PlannedSample(id: sampleID(path), source: images.appendingPathComponent(path), path: "images/" + path,
                                         label: label, tags: tags))
        }
        if let error = reader.error { throw InputError("\(shown): not readable as CSV after row \(row) (\(error))") }
        guard !planned.isEmpty else { throw InputError("\(shown): no rows after the header") }
        let labels = Set(planned.map(\.label))
        let classes: [String]
        if let order {
            guard Set(order).count == order.count else { throw InputError("--classes lists a class twice") }
            if let stray = planned.first(where: { !order.contains($0.label) }) {
                throw InputError("\(shown): label '\(stray.label)' of '\(stray.source.lastPathComponent)' is not in --classes" + Suggestion.hint(for: stray.label, in: order))
            }
            classes = order
        } else {
            classes = labels.sorted()
        }
        let set = try write(planned, classes: classes, output: output, name: name ?? output.lastPathComponent, version: version,
                            description: "Imported from \(file.lastPathComponent)")
        return Report(goldenSet: set, skipped: [])
    }

    struct PlannedSample {
        var id: String
        var source: URL
        var path: String
        var label: String
        var tags: [String: String]
    }

    /// Regular files under `folder`, relative, sorted, hidden files skipped.
    static func allFiles(in folder: URL) -> [String] {
        let root = folder.standardizedFileURL.path
        var found: [String] = []
        let walker = FileManager.default.enumerator(at: folder.standardizedFileURL, includingPropertiesForKeys: [.isRegularFileKey],
                                                    options: [.skipsHiddenFiles])
        while let url = walker?.nextObject() as? URL {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            found.append(String(url.standardizedFileURL.path.dropFirst(root.count + 1)))
        }
        return found.sorted()
    }

    /// Checks every sample (ids, files, decoding) before anything is written, then writes the
    /// set into a temporary folder beside `output` and renames it into place.
    static func write(_ planned: [PlannedSample], classes: [String], output: URL, name: String, version: String,
                      description: String) throws -> GoldenSet {
        try GoldenSetImport.prepareOutput(output)
        var ids = Set<String>()
        var samples: [Sample] = []
        for item in planned {
            guard ids.insert(item.id).inserted else {
                throw InputError("two images would get sample id '\(item.id)' (the same name with another extension); rename one")
            }
            guard FileManager.default.fileExists(atPath: item.source.path) else {
                throw InputError("\(DisplayPath.of(item.source)): image not found")
            }
            _ = try Image(contentsOf: item.source)
            samples.append(Sample(id: item.id, path: item.path, sha256: try SHA256.hex(ofFile: item.source), label: item.label, tags: item.tags))
        }
        let manifest = GoldenSetManifest(name: name, version: version, task: .classification, description: description,
                                         classes: classes, samples: samples)
        try GoldenSetImport.writeStaged(to: output) { staging in
            for (item, sample) in zip(planned, samples) {
                let destination = staging.appendingPathComponent(sample.path)
                try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
                try FileManager.default.copyItem(at: item.source, to: destination)
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(manifest).write(to: staging.appendingPathComponent("manifest.json"))
            let check = try GoldenSet.load(staging)
            guard check.verify().isValid else { throw InputError("\(DisplayPath.of(output)): the copies do not match their sources") }
        }
        return try GoldenSet.load(output)
    }
}

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One labelled image of a golden set: a class label (classification) or a list of objects
/// with boxes and the image's size (detection).
public struct Sample: Sendable, Codable, Hashable {
    /// Unique within the golden set; stable across versions so outcomes can be compared.
    public var id: String
    /// Relative to the golden set's folder, with `/` separators.
    public var path: String
    public var sha256: String
    /// Classification: a class name from the golden set's `classes`; nil in detection sets.
    public var label: String?
    /// Detection: the image's size in pixels, against which boxes are checked; nil in
    /// classification sets.
    public var width: Int?
    public var height: Int?
    /// Detection: the annotated objects (possibly none: images without objects measure false
    /// positives); nil in classification sets.
    public var objects: [GroundTruthObject]?
    /// Free-form attributes for slicing (`lighting: night`, `device: cam-b`).
    public var tags: [String: String]

    /// A classification sample.
    public init(id: String, path: String, sha256: String, label: String, tags: [String: String] = [:]) {
        self.id = id
        self.path = path
        self.sha256 = sha256
        self.label = label
        self.tags = tags
    }

    /// A detection sample.
    public init(id: String, path: String, sha256: String, width: Int, height: Int, objects: [GroundTruthObject],
                tags: [String: String] = [:]) {
        self.id = id
        self.path = path
        self.sha256 = sha256
        self.width = width
        self.height = height
        self.objects = objects
        self.tags = tags
    }

    enum CodingKeys: String, CodingKey { case id, path, sha256, label, width, height, objects, tags }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        path = try container.decode(String.self, forKey: .path)
        sha256 = try container.decode(String.self, forKey: .sha256)
        label = try container.decodeIfPresent(String.self, forKey: .label)
        width = try container.decodeIfPresent(Int.self, forKey: .width)
        height = try container.decodeIfPresent(Int.self, forKey: .height)
        objects = try container.decodeIfPresent([GroundTruthObject].self, forKey: .objects)
        tags = try container.decodeIfPresent([String: String].self, forKey: .tags) ?? [:]
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(path, forKey: .path)
        try container.encode(sha256, forKey: .sha256)
        try container.encodeIfPresent(label, forKey: .label)
        try container.encodeIfPresent(width, forKey: .width)
        try container.encodeIfPresent(height, forKey: .height)
        try container.encodeIfPresent(objects, forKey: .objects)
        if !tags.isEmpty { try container.encode(tags, forKey: .tags) }
    }
}

/// An annotated object of a detection sample.
public struct GroundTruthObject: Sendable, Codable, Hashable {
    /// A class name from the golden set's `classes`.
    public var className: String
    /// `[x, y, width, height]` in pixels, x and y of the top-left corner (COCO's convention).
    public var box: Box
    /// A region of many objects (COCO's `iscrowd`): detections on it are neither rewarded nor
    /// counted as false positives, and missing it is no miss.
    public var isCrowd: Bool
    /// Free-form attributes of this object (`occluded: yes`, `size: small`).
    public var tags: [String: String]

    public init(className: String, box: Box, isCrowd: Bool = false, tags: [String: String] = [:]) {
        self.className = className
        self.box = box
        self.isCrowd = isCrowd
        self.tags = tags
    }

    enum CodingKeys: String, CodingKey { case className = "class", box, isCrowd = "iscrowd", tags }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        className = try container.decode(String.self, forKey: .className)
        box = try container.decode(Box.self, forKey: .box)
        isCrowd = try container.decodeIfPresent(Bool.self, forKey: .isCrowd) ?? false
        tags = try container.decodeIfPresent([String: String].self, forKey: .tags) ?? [:]
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(className, forKey: .className)
        try container.encode(box, forKey: .box)
        if isCrowd { try container.encode(true, forKey: .isCrowd) }
        if !tags.isEmpty { try container.encode(tags, forKey: .tags) }
    }
}

/// The machine learning task a golden set or model is for.
public enum VisionTask: String, Sendable, Codable, CaseIterable {
    case classification
    case detection
}

/// The `manifest.json` of a golden set (format `vigil-golden-set/1`, see GoldenSets/README.md).
public struct GoldenSetManifest: Sendable, Codable, Hashable {
    public static let format = "vigil-golden-set/1"

    public var format: String
    public var name: String
    public var version: String
    public var task: VisionTask
    public var description: String?
    public var classes: [String]
    public var samples: [Sample]
    /// Glob patterns (fnmatch, `*` also crossing `/`) of files in the folder that are not
    /// samples: a labels CSV, notes, a model. Verification does not report them as unlisted.
    public var ignore: [String]?

    public init(format: String = GoldenSetManifest.format, name: String, version: String, task: VisionTask,
                description: String? = nil, classes: [String], samples: [Sample], ignore: [String]? = nil) {
        self.format = format
        self.name = name
        self.version = version
        self.task = task
        self.description = description
        self.classes = classes
        self.samples = samples
        self.ignore = ignore
    }
}

/// A versioned, hashed set of labelled images that models are evaluated on.
///
/// ```swift
/// let digits = try GoldenSet.load(URL(fileURLWithPath: "GoldenSets/digits"))
/// let report = digits.verify()          // recomputes every file's sha256
/// guard report.isValid else { report.problems.forEach { print($0) } }
/// ```
public struct GoldenSet: Sendable {
    /// Files at the top of the folder that describe the set rather than belong to it.
    public static let metadataFiles: Set<String> = ["manifest.json", "README.md", "PROVENANCE.md", "LICENSE", "LICENSE.md"]

    public let root: URL
    public let manifest: GoldenSetManifest
    /// sha256 over the manifest's content in a canonical form (see `canonicalText`): it changes
    /// when any image, label, tag, class or the name/version changes, and not when the JSON is
    /// merely reformatted. Image bytes enter through their sha256, which `verify()` checks.
    public let identity: String

    private let labelIndices: [String: Int]

    public var name: String { manifest.name }
    public var version: String { manifest.version }
    public var task: VisionTask { manifest.task }
    public var classes: [String] { manifest.classes }
    public var samples: [Sample] { manifest.samples }

    /// Reads and validates `manifest.json` in `folder`. Every problem is an `InputError` naming
    /// the manifest: unknown format, duplicate ids, unknown labels, absolute paths or paths that
    /// leave the folder.
    public static func load(_ folder: URL) throws -> GoldenSet {
        let manifestURL = folder.appendingPathComponent("manifest.json")
        let where_ = manifestURL.path
        guard FileManager.default.fileExists(atPath: folder.path) else {
            throw InputError("\(folder.path): golden set folder does not exist")
        }
        guard let data = FileManager.default.contents(atPath: manifestURL.path) else {
            throw InputError("\(where_): missing; a golden set folder needs a manifest.json (see GoldenSets/README.md)")
        }
        // The manifest is what the identity hashes: a link to one elsewhere would let the
        // folder's content change without its files changing.
        let realManifest = manifestURL.resolvingSymlinksInPath().path
        guard realManifest.hasPrefix(folder.resolvingSymlinksInPath().path + "/") else {
            throw InputError("\(where_): leads outside the golden set folder (a symbolic link to \(realManifest)); copy the manifest into the folder")
        }
        try rejectUnknownKeys(data, manifest: where_)
        let manifest: GoldenSetManifest
        do {
            manifest = try JSONDecoder().decode(GoldenSetManifest.self, from: data)
        } catch let error as DecodingError {
            throw InputError("\(where_): \(JSONProblem.describe(error))")
        }
        guard manifest.format == GoldenSetManifest.format else {
            throw InputError("\(where_): format '\(manifest.format)' is not supported (expected '\(GoldenSetManifest.format)')")
        }
        guard !manifest.classes.isEmpty else { throw InputError("\(where_): 'classes' is empty") }
        guard Set(manifest.classes).count == manifest.classes.count else {
            throw InputError("\(where_): 'classes' lists a class twice")
        }
        guard !manifest.samples.isEmpty else { throw InputError("\(where_): 'samples' is empty") }
        let labelIndices = Dictionary(uniqueKeysWithValues: manifest.classes.enumerated().map { ($1, $0) })
        var seenIDs = Set<String>(), seenPaths = Set<String>()
        for sample in manifest.samples {
            guard seenIDs.insert(sample.id).inserted else {
                throw InputError("\(where_): sample id '\(sample.id)' appears twice")
            }
            try checkRelativePath(sample.path, manifest: where_)
            guard seenPaths.insert(sample.path).inserted else {
                throw InputError("\(where_): path '\(sample.path)' appears twice")
            }
            switch manifest.task {
            case .classification: try checkClassificationSample(sample, classes: manifest.classes, labelIndices: labelIndices, manifest: where_)
            case .detection: try checkDetectionSample(sample, classes: manifest.classes, labelIndices: labelIndices, manifest: where_)
            }
            guard sample.sha256.count == 64, sample.sha256.allSatisfy(\.isHexDigit) else {
                throw InputError("\(where_): sample '\(sample.id)' has an invalid sha256 '\(sample.sha256)'")
            }
        }
        return GoldenSet(root: folder.standardizedFileURL, manifest: manifest,
                         identity: SHA256.hex(of: canonicalText(manifest)), labelIndices: labelIndices)
    }

    /// `labelIndices` is `classes` by name, for lookups; `classes` keeps their order for hints.
    static func checkClassificationSample(_ sample: Sample, classes: [String], labelIndices: [String: Int], manifest: String) throws {
        guard let label = sample.label else {
            throw InputError("\(manifest): sample '\(sample.id)' has no 'label' (this golden set's task is classification)")
        }
        for (key, present) in [("objects", sample.objects != nil), ("width", sample.width != nil), ("height", sample.height != nil)] where present {
            throw InputError("\(manifest): sample '\(sample.id)' has '\(key)', which belongs to detection golden sets; this one's task is classification")
        }
        guard labelIndices[label] != nil else {
            throw InputError("\(manifest): sample '\(sample.id)' has label '\(label)', which is not in 'classes'"
                             + Suggestion.hint(for: label, in: classes))
        }
    }

    /// Objects of known classes with finite boxes of positive size inside the image.
    static func checkDetectionSample(_ sample: Sample, classes: [String], labelIndices: [String: Int], manifest: String) throws {
        let id = sample.id
        if sample.label != nil {
            throw InputError("\(manifest): sample '\(id)' has a 'label'; detection samples list 'objects' (class and box each) instead")
        }
        guard let width = sample.width, let height = sample.height else {
            throw InputError("\(manifest): sample '\(id)' needs 'width' and 'height' (the image's size in pixels), against which its boxes are checked")
        }
        guard width > 0, height > 0 else {
            throw InputError("\(manifest): sample '\(id)' has size \(width)×\(height); width and height must be positive")
        }
        guard let objects = sample.objects else {
            throw InputError("\(manifest): sample '\(id)' has no 'objects' (write \"objects\": [] for an image without any)")
        }
        for (index, object) in objects.enumerated() {
            let name = "sample '\(id)' objects[\(index)]"
            guard labelIndices[object.className] != nil else {
                throw InputError("\(manifest): \(name) has class '\(object.className)', which is not in 'classes'"
                                 + Suggestion.hint(for: object.className, in: classes))
            }
            let b = object.box
            let shown = "[\(Formatting.number(b.x)), \(Formatting.number(b.y)), \(Formatting.number(b.width)), \(Formatting.number(b.height))]"
            guard b.isFinite else { throw InputError("\(manifest): \(name) box \(shown) has a value that is not finite") }
            guard b.width > 0, b.height > 0 else {
                throw InputError("\(manifest): \(name) box \(shown) has zero or negative size (boxes are [x, y, width, height])")
            }
            // Boxes may touch the border; a small tolerance absorbs rounding in converted annotations.
            let tolerance = 1e-6
            guard b.x >= -tolerance, b.y >= -tolerance, b.x + b.width <= Double(width) + tolerance,
                  b.y + b.height <= Double(height) + tolerance else {
                throw InputError("\(manifest): \(name) box \(shown) reaches outside the \(width)×\(height) image "
                                 + "(it spans x \(Formatting.number(b.x))…\(Formatting.number(b.x + b.width)), y \(Formatting.number(b.y))…\(Formatting.number(b.y + b.height)))")
            }
        }
    }

    /// The task a golden set's manifest declares, read without loading the samples; nil when
    /// the manifest cannot be read (loading it then reports why).
    public static func peekTask(_ folder: URL) -> VisionTask? {
        struct Header: Decodable { var task: VisionTask }
        guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent("manifest.json").path) else { return nil }
        return try? JSONDecoder().decode(Header.self, from: data).task
    }

    /// JSONDecoder ignores keys it does not know; a misspelt `tags` would silently drop data.
    /// Labels written as JSON numbers get a hint instead of a type error: class names are text.
    /// The keys are read through Decodable with keys named at run time (`ManifestKeys`), not
    /// JSONSerialization, whose dictionary per sample made this pass the run's memory peak
    /// (30 MB at 10 000 samples).
    static func rejectUnknownKeys(_ data: Data, manifest: String) throws {
        guard let top = try? JSONDecoder().decode(ManifestKeys.self, from: data) else { return }
        let topKeys = ["format", "name", "version", "task", "description", "classes", "samples", "ignore"]
        for key in top.keys.sorted() where !topKeys.contains(key) {
            throw InputError("\(manifest): unknown key '\(key)'" + Suggestion.hint(for: key, in: topKeys))
        }
        let sampleKeys = ["id", "path", "sha256", "label", "width", "height", "objects", "tags"]
        let objectKeys = ["class", "box", "iscrowd", "tags"]
        for (index, sample) in top.samples.enumerated() {
            for key in sample.keys.sorted() where !sampleKeys.contains(key) {
                throw InputError("\(manifest): samples[\(index)] has unknown key '\(key)'" + Suggestion.hint(for: key, in: sampleKeys))
            }
            if let number = sample.numericLabel {
                let id = sample.id.map { " ('\($0)')" } ?? ""
                throw InputError("\(manifest): samples[\(index)]\(id) has label \(number), a number; class names are text: write it as a string: \"\(number)\"")
            }
            for (objectIndex, keys) in sample.objectKeys.enumerated() {
                for key in keys.sorted() where !objectKeys.contains(key) {
                    throw InputError("\(manifest): samples[\(index)].objects[\(objectIndex)] has unknown key '\(key)'"
                                     + Suggestion.hint(for: key, in: objectKeys))
                }
            }
        }
    }

    /// Relative, inside the folder, no empty or `.`/`..` segments, no backslashes.
    static func checkRelativePath(_ path: String, manifest: String) throws {
        if path.hasPrefix("/") || path.hasPrefix("~") {
            throw InputError("\(manifest): path '\(path)' is absolute; sample paths must be relative to the golden set folder")
        }
        if path.contains("\\") {
            throw InputError("\(manifest): path '\(path)' uses '\\'; use '/' as the separator")
        }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        if parts.contains(where: { $0 == ".." }) {
            throw InputError("\(manifest): path '\(path)' leaves the golden set folder")
        }
        if parts.contains(where: { $0.isEmpty || $0 == "." }) {
            throw InputError("\(manifest): path '\(path)' has an empty or '.' segment")
        }
    }

    /// The text the identity hashes: a header line per field, then one tab-separated line per
    /// sample (id, path, sha256, label, tags as k=v joined by ','), sorted by id. Detection
    /// samples have the image size in place of the label, and after the tags one field per
    /// object: class, box numbers, crowd flag and tags, separated by spaces.
    public static func canonicalText(_ manifest: GoldenSetManifest) -> String {
        var lines = [
            "format\t\(manifest.format)",
            "name\t\(manifest.name)",
            "version\t\(manifest.version)",
            "task\t\(manifest.task.rawValue)",
            "classes\t\(manifest.classes.joined(separator: "\t"))",
        ]
        for sample in manifest.samples.sorted(by: { $0.id < $1.id }) {
            func text(_ tags: [String: String]) -> String {
                tags.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            }
            switch manifest.task {
            case .classification:
                lines.append([sample.id, sample.path, sample.sha256.lowercased(), sample.label ?? "", text(sample.tags)].joined(separator: "\t"))
            case .detection:
                let size = "\(sample.width ?? 0)x\(sample.height ?? 0)"
                let objects = (sample.objects ?? []).map { o in
                    let b = o.box
                    return [o.className, "\(b.x)", "\(b.y)", "\(b.width)", "\(b.height)", o.isCrowd ? "crowd" : "-", text(o.tags)]
                        .joined(separator: " ")
                }
                lines.append(([sample.id, sample.path, sample.sha256.lowercased(), size, text(sample.tags)] + objects).joined(separator: "\t"))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public func url(of sample: Sample) -> URL {
        // Saying it is a file keeps Foundation from asking the file system (an lstat per call).
        root.appendingPathComponent(sample.path, isDirectory: false)
    }

    /// Index of a class name in `classes` (the sample's label for classification).
    public func classIndex(of name: String) -> Int? {
        labelIndices[name]
    }

    /// Index of a classification sample's label in `classes`.
    public func labelIndex(of sample: Sample) -> Int {
        labelIndices[sample.label!]!
    }

    /// Recomputes every listed file's sha256 and looks for files that are not listed.
    public func verify() -> GoldenSetVerification {
        var missing: [String] = [], changed: [GoldenSetVerification.Change] = []
        var outside: [GoldenSetVerification.Outside] = [], damaged: [GoldenSetVerification.Damaged] = []
        let base = root.resolvingSymlinksInPath().path
        for sample in samples {
            // One open per file: a file that cannot be opened is missing; one whose real path
            // leaves the folder (through a symbolic link) is refused unread. The bytes read for
            // the hash are also checked as an image (a JPEG cut short matches its hash if it was
            // cut before it was listed).
            let actual: String
            do {
                actual = try SHA256.hex(ofFile: url(of: sample), inside: base) { bytes in
                    if let problem = Image.structuralProblem(bytes) { damaged.append(.init(path: sample.path, problem: problem)) }
                }
            } catch let error as SHA256.LeavesFolder {
                outside.append(.init(path: sample.path, target: error.target))
                continue
            } catch {
                missing.append(sample.path)
                continue
            }
            if actual != sample.sha256.lowercased() {
                changed.append(.init(path: sample.path, expected: sample.sha256.lowercased(), actual: actual))
            }
        }
        let listed = Set(samples.map(\.path))
        let extra = filesOnDisk().filter { !listed.contains($0) && !Self.metadataFiles.contains($0) && !isIgnored($0) }
        return GoldenSetVerification(name: name, root: root.path, sampleCount: samples.count,
                                     missing: missing, changed: changed, extra: extra.sorted(), outside: outside, damaged: damaged)
    }

    /// Whether a file of the folder matches one of the manifest's `ignore` patterns.
    public func isIgnored(_ relativePath: String) -> Bool {
        (manifest.ignore ?? []).contains { fnmatch($0, relativePath, 0) == 0 }
    }

    /// Regular files under the folder, relative paths, hidden files skipped. One directory read
    /// per folder and no `stat` per file (the entry's type comes with its name); a symbolic
    /// link counts as the file it resolves to when that is a regular file inside the folder.
    func filesOnDisk() -> [String] {
        let base = root.resolvingSymlinksInPath().path
        var files: Set<String> = []
        func walk(_ relative: String) {
            let folder = relative.isEmpty ? base : base + "/" + relative
            guard let directory = opendir(folder) else { return }
            defer { closedir(directory) }
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                guard !name.hasPrefix(".") else { continue }
                let path = relative.isEmpty ? name : relative + "/" + name
                var type = entry.pointee.d_type
                if type == UInt8(DT_UNKNOWN) {
                    // File systems that do not report types (rare): ask.
                    var info = stat()
                    guard lstat(base + "/" + path, &info) == 0 else { continue }
                    type = (info.st_mode & S_IFMT) == S_IFDIR ? UInt8(DT_DIR)
                        : (info.st_mode & S_IFMT) == S_IFREG ? UInt8(DT_REG)
                        : (info.st_mode & S_IFMT) == S_IFLNK ? UInt8(DT_LNK) : UInt8(DT_UNKNOWN)
                }
                switch Int32(type) {
                case Int32(DT_DIR):
                    walk(path)
                case Int32(DT_REG):
                    files.insert(path)
                case Int32(DT_LNK):
                    let target = URL(fileURLWithPath: base + "/" + path).resolvingSymlinksInPath().path
                    var info = stat()
                    if target.hasPrefix(base + "/"), stat(target, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG {
                        files.insert(String(target.dropFirst(base.count + 1)))
                    }
                default:
                    break
                }
            }
        }
        walk("")
        return Array(files)
    }
}

/// What `GoldenSet.verify()` found.
public struct GoldenSetVerification: Sendable, Codable {
    public struct Change: Sendable, Codable, Hashable {
        public var path: String
        public var expected: String
        public var actual: String
    }

    /// A listed file whose real path is outside the folder, and that path.
    public struct Outside: Sendable, Codable, Hashable {
        public var path: String
        public var target: String
    }

    public var name: String
    public var root: String
    public var sampleCount: Int
    public var missing: [String]
    public var changed: [Change]
    public var extra: [String]
    public var outside: [Outside] = []
    /// Listed images whose bytes are not a readable image, and why.
    public var damaged: [Damaged] = []

    enum CodingKeys: String, CodingKey { case name, root, sampleCount = "sample_count", missing, changed, extra, outside, damaged }

    public struct Damaged: Sendable, Codable, Hashable {
        public var path: String
        public var problem: String
    }

    public var isValid: Bool { missing.isEmpty && changed.isEmpty && extra.isEmpty && outside.isEmpty && damaged.isEmpty }

    /// One line per problem, prefixed by the file's path.
    public var problems: [String] {
        outside.map { "\(root)/\($0.path): leads outside the golden set folder (a symbolic link to \($0.target)); copy the file into the folder" }
            + damaged.map { "\(root)/\($0.path): \($0.problem)" }
            + missing.map { "\(root)/\($0): missing" }
            + changed.map { "\(root)/\($0.path): changed (manifest sha256 \($0.expected.prefix(12))…, file \($0.actual.prefix(12))…)" }
            + extra.map { "\(root)/\($0): not listed in manifest.json" }
    }

    /// The one-line reason a run refuses this golden set.
    public var refusal: String {
        let first = problems.first ?? ""
        let more = problems.count > 1 ? " (and \(problems.count - 1) more problems; run `vigil golden verify \(root)`)" : ""
        return "golden set '\(name)' failed verification: \(first)\(more)"
    }
}

/// Turns `DecodingError`s into one readable line.
enum JSONProblem {
    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return keys.isEmpty ? "top level" : String(keys.drop(while: { $0 == "." }))
        }
        switch error {
        case let .keyNotFound(key, context):
            let at = context.codingPath.isEmpty ? "" : " in \(path(context))"
            return "missing key '\(key.stringValue)'\(at)"
        case let .typeMismatch(type, context):
            return "\(path(context)): expected \(type)"
        case let .valueNotFound(type, context):
            return "\(path(context)): expected \(type), found null"
        case let .dataCorrupted(context):
            if let underlying = context.underlyingError as NSError? {
                return "not valid JSON (\(underlying.localizedDescription))"
            }
            return "\(path(context)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}

/// A JSON object key named at run time.
private struct NamedKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// The keys a manifest uses, for `GoldenSet.rejectUnknownKeys`. Parts of another shape (a
/// sample that is not an object, say) leave their keys unread: the manifest's own decoding
/// reports those.
private struct ManifestKeys: Decodable {
    var keys: [String]
    var samples: [SampleKeys]

    struct SampleKeys: Decodable {
        var keys: [String]
        var id: String?
        /// The label as written, when it is a JSON number rather than text.
        var numericLabel: String?
        var objectKeys: [[String]]

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: NamedKey.self)
            keys = container.allKeys.map(\.stringValue)
            id = try? container.decode(String.self, forKey: NamedKey("id"))
            if (try? container.decode(String.self, forKey: NamedKey("label"))) == nil,
               let number = try? container.decode(Double.self, forKey: NamedKey("label")) {
                numericLabel = Formatting.number(number)
            }
            objectKeys = (try? container.decode([ObjectKeys].self, forKey: NamedKey("objects")))?.map(\.keys) ?? []
        }
    }

    struct ObjectKeys: Decodable {
        var keys: [String]
        init(from decoder: any Decoder) throws {
            keys = try decoder.container(keyedBy: NamedKey.self).allKeys.map(\.stringValue)
        }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: NamedKey.self)
        keys = container.allKeys.map(\.stringValue)
        samples = (try? container.decode([SampleKeys].self, forKey: NamedKey("samples"))) ?? []
    }
}

import Foundation

/// One labelled image of a golden set.
public struct Sample: Sendable, Codable, Hashable {
    /// Unique within the golden set; stable across versions so outcomes can be compared.
    public var id: String
    /// Relative to the golden set's folder, with `/` separators.
    public var path: String
    public var sha256: String
    /// A class name from the golden set's `classes`.
    public var label: String
    /// Free-form attributes for slicing (`lighting: night`, `device: cam-b`).
    public var tags: [String: String]

    public init(id: String, path: String, sha256: String, label: String, tags: [String: String] = [:]) {
        self.id = id
        self.path = path
        self.sha256 = sha256
        self.label = label
        self.tags = tags
    }

    enum CodingKeys: String, CodingKey { case id, path, sha256, label, tags }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        path = try container.decode(String.self, forKey: .path)
        sha256 = try container.decode(String.self, forKey: .sha256)
        label = try container.decode(String.self, forKey: .label)
        tags = try container.decodeIfPresent([String: String].self, forKey: .tags) ?? [:]
    }
}

/// The machine learning task a golden set or model is for.
public enum VisionTask: String, Sendable, Codable, CaseIterable {
    case classification
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

    public init(format: String = GoldenSetManifest.format, name: String, version: String, task: VisionTask,
                description: String? = nil, classes: [String], samples: [Sample]) {
        self.format = format
        self.name = name
        self.version = version
        self.task = task
        self.description = description
        self.classes = classes
        self.samples = samples
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
            guard labelIndices[sample.label] != nil else {
                throw InputError("\(where_): sample '\(sample.id)' has label '\(sample.label)', which is not in 'classes'"
                                 + Suggestion.hint(for: sample.label, in: manifest.classes))
            }
            guard sample.sha256.count == 64, sample.sha256.allSatisfy(\.isHexDigit) else {
                throw InputError("\(where_): sample '\(sample.id)' has an invalid sha256 '\(sample.sha256)'")
            }
        }
        return GoldenSet(root: folder.standardizedFileURL, manifest: manifest,
                         identity: SHA256.hex(of: canonicalText(manifest)), labelIndices: labelIndices)
    }

    /// JSONDecoder ignores keys it does not know; a misspelt `tags` would silently drop data.
    static func rejectUnknownKeys(_ data: Data, manifest: String) throws {
        guard let top = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return }
        let topKeys = ["format", "name", "version", "task", "description", "classes", "samples"]
        for key in top.keys.sorted() where !topKeys.contains(key) {
            throw InputError("\(manifest): unknown key '\(key)'" + Suggestion.hint(for: key, in: topKeys))
        }
        let sampleKeys = ["id", "path", "sha256", "label", "tags"]
        for (index, sample) in ((top["samples"] as? [[String: Any]]) ?? []).enumerated() {
            for key in sample.keys.sorted() where !sampleKeys.contains(key) {
                throw InputError("\(manifest): samples[\(index)] has unknown key '\(key)'" + Suggestion.hint(for: key, in: sampleKeys))
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
    /// sample (id, path, sha256, label, tags as k=v joined by ','), sorted by id.
    public static func canonicalText(_ manifest: GoldenSetManifest) -> String {
        var lines = [
            "format\t\(manifest.format)",
            "name\t\(manifest.name)",
            "version\t\(manifest.version)",
            "task\t\(manifest.task.rawValue)",
            "classes\t\(manifest.classes.joined(separator: "\t"))",
        ]
        for sample in manifest.samples.sorted(by: { $0.id < $1.id }) {
            let tags = sample.tags.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            lines.append([sample.id, sample.path, sample.sha256, sample.label, tags].joined(separator: "\t"))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public func url(of sample: Sample) -> URL {
        root.appendingPathComponent(sample.path)
    }

    /// Index of the sample's label in `classes`.
    public func labelIndex(of sample: Sample) -> Int {
        labelIndices[sample.label]!
    }

    /// Recomputes every listed file's sha256 and looks for files that are not listed.
    public func verify() -> GoldenSetVerification {
        var missing: [String] = [], changed: [GoldenSetVerification.Change] = []
        for sample in samples {
            let url = url(of: sample)
            guard FileManager.default.fileExists(atPath: url.path) else {
                missing.append(sample.path)
                continue
            }
            guard let actual = try? SHA256.hex(ofFile: url) else {
                missing.append(sample.path)
                continue
            }
            if actual != sample.sha256.lowercased() {
                changed.append(.init(path: sample.path, expected: sample.sha256.lowercased(), actual: actual))
            }
        }
        let listed = Set(samples.map(\.path))
        let extra = filesOnDisk().filter { !listed.contains($0) && !Self.metadataFiles.contains($0) }
        return GoldenSetVerification(name: name, root: root.path, sampleCount: samples.count,
                                     missing: missing, changed: changed, extra: extra.sorted())
    }

    /// Regular files under the folder, relative paths, hidden files skipped.
    private func filesOnDisk() -> [String] {
        let base = root.resolvingSymlinksInPath().path
        guard let walker = FileManager.default.enumerator(
            at: root.resolvingSymlinksInPath(), includingPropertiesForKeys: [.isRegularFileKey],
            options: [.skipsHiddenFiles]) else { return [] }
        var files: [String] = []
        for case let url as URL in walker {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            let path = url.resolvingSymlinksInPath().path
            guard path.hasPrefix(base + "/") else { continue }
            files.append(String(path.dropFirst(base.count + 1)))
        }
        return files
    }
}

/// What `GoldenSet.verify()` found.
public struct GoldenSetVerification: Sendable, Codable {
    public struct Change: Sendable, Codable, Hashable {
        public var path: String
        public var expected: String
        public var actual: String
    }

    public var name: String
    public var root: String
    public var sampleCount: Int
    public var missing: [String]
    public var changed: [Change]
    public var extra: [String]

    public var isValid: Bool { missing.isEmpty && changed.isEmpty && extra.isEmpty }

    /// One line per problem, prefixed by the file's path.
    public var problems: [String] {
        missing.map { "\(root)/\($0): missing" }
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

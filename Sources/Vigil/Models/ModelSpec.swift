import Foundation

/// Everything a backend needs to run a model, read from a YAML file beside the model: the
/// keys every model has (`name`, `task`, `format`, `classes`) and the section of its format,
/// which the format reads itself (see `ModelFormat`), so a new format never touches this type.
///
/// A classifier through OpenCV DNN (`format: onnx`, see `ONNXSpec`):
/// ```yaml
/// name: mnist-cnn
/// task: classification
/// format: onnx
/// file: mnist_cnn.onnx
/// sha256: eb378a84…
/// input: {width: 28, height: 28, color: gray, resize: stretch, scale: 0.00392156862745098,
///         mean: [0.1307], std: [0.3081]}   # see ModelSpec.Input
/// output:
///   kind: logits          # logits (softmax is applied) | probabilities | detections
/// classes: ["0", "1", …]
/// ```
///
/// The other formats: an OpenCV cascade classifier (`format: cascade`, see `CascadeSpec`),
/// detections made elsewhere (`format: predictions`, see `PredictionsFileSpec`), and models
/// served over the Open Inference Protocol (`format: kserve-v2`, see `KServeSpec`).
public struct ModelSpec: Sendable {
    public var name: String
    public var task: VisionTask
    /// The `format:` value; `Backends.format(named:)` gives its reader and factory.
    public var format: String
    public var classes: [String]
    /// Where the spec was read from (absolute), so relative paths in it can be resolved.
    public var specPath: String
    /// What the format read from its section.
    public var settings: any ModelSettings

    public init(name: String, task: VisionTask, format: String, classes: [String], specPath: String, settings: any ModelSettings) {
        self.name = name
        self.task = task
        self.format = format
        self.classes = classes
        self.specPath = specPath
        self.settings = settings
    }

    public var folder: URL { URL(fileURLWithPath: specPath).deletingLastPathComponent() }

    /// The spec's path as messages show it (relative to the working directory when inside it).
    public var shownPath: String { DisplayPath.of(URL(fileURLWithPath: specPath)) }

    /// sha256 of the model's bytes, where the format knows them (files; a served model's pin).
    public var sha256: String? { settings.sha256 }
    /// The model file, for formats that have one (nil: a served model).
    public var modelFileURL: URL? { settings.modelFile.map { $0.url(in: self) } }

    /// How images become the model's input, for formats that preprocess pixels.
    public var input: Input? {
        get { (settings as? any PreprocessingSettings)?.input }
        set {
            guard let newValue, var preprocessing = settings as? any PreprocessingSettings else { return }
            preprocessing.input = newValue
            settings = preprocessing
        }
    }

    /// The settings as the format's own type (a format's backend reads its section this way).
    public func settings<Settings: ModelSettings>(as type: Settings.Type) -> Settings {
        guard let settings = settings as? Settings else {
            preconditionFailure("model spec '\(name)' has \(Swift.type(of: self.settings)) settings, not \(Settings.self)")
        }
        return settings
    }

    /// Identity of what this spec computes, independent of where the files live: the model's
    /// sha256 plus every field that changes its outputs (input handling, output decoding,
    /// classes). Used with the backend's version to key stored outcomes. The fields are in the
    /// order they had before formats read their own sections, so identities did not change.
    public var computationKey: String {
        (["format=\(format)", "sha256=\(sha256 ?? "")", "task=\(task.rawValue)"] + settings.computationFields
            + ["classes=\(classes)"]).joined(separator: ";")
    }

    /// The keys every spec has; the format's own keys come from `ModelFormat.keys`.
    static let commonKeys = ["name", "task", "format", "classes"]

    /// Reads and checks a spec. Paths in messages are shown as given (`displayPath`).
    public static func load(_ url: URL, displayPath: String? = nil) throws -> ModelSpec {
        let shown = displayPath ?? url.path
        let document = try YAMLValue.load(url, displayPath: shown)
        let top = try document.mapping("the model spec", allowed: nil)
        let task = VisionTask(rawValue: try top.required("task").choice("task", from: VisionTask.allCases.map(\.rawValue)))!
        let formatValue = try top.required("format")
        let formats = Backends.formats
        let formatName = try formatValue.choice("format", from: formats.map(\.name))
        let format = formats.first { $0.name == formatName }!
        guard format.tasks.contains(task) else {
            let others = formats.filter { $0.tasks.contains(task) }.map(\.name)
            throw formatValue.error("format '\(format.name)' is for \(format.tasks.map(\.rawValue).sorted().joined(separator: " and ")) models; "
                                    + "\(task.rawValue) models use \(others.joined(separator: ", "))")
        }
        // Keys of other formats are refused by name, not ignored.
        let allowed = commonKeys + format.keys
        for (key, value) in top.entries where !allowed.contains(key) {
            let owners = formats.filter { $0.keys.contains(key) }.map(\.name)
            if !owners.isEmpty {
                throw value.error("'\(key)' belongs to format\(owners.count == 1 ? "" : "s") \(owners.joined(separator: ", ")), not to \(format.name)")
            }
            throw value.error("unknown key '\(key)' in the model spec" + Suggestion.hint(for: key, in: allowed))
        }
        let classes = try top.required("classes").strings("classes")
        guard !classes.isEmpty, Set(classes).count == classes.count else {
            throw try top.required("classes").error("classes must list each class once")
        }
        let name = try top.required("name").string("name")
        let specPath = url.standardizedFileURL.path
        let section = ModelSpecSection(mapping: top, task: task, classes: classes, specPath: specPath)
        return ModelSpec(name: name, task: task, format: format.name, classes: classes, specPath: specPath,
                         settings: try format.settings(from: section))
    }
}

/// What a format read from its section of a model spec.
public protocol ModelSettings: Sendable {
    /// sha256 of the model's bytes, when the format has them.
    var sha256: String? { get }
    /// The model file beside the spec, for formats that have one (nil: a served model).
    var modelFile: ModelFile? { get }
    /// Every setting that changes the model's outputs, as `key=value` texts in a fixed order;
    /// part of the model's identity (`ModelSpec.computationKey`).
    var computationFields: [String] { get }
}

extension ModelSettings {
    public var modelFile: ModelFile? { nil }
}

/// Settings of a format whose backend turns pixels into tensors with `ModelSpec.Input`.
public protocol PreprocessingSettings: ModelSettings {
    var input: ModelSpec.Input { get set }
}

/// A model file beside the spec: `file` (relative to the spec's folder) and its `sha256`.
public struct ModelFile: Sendable, Hashable {
    public var path: String
    public var sha256: String?

    /// Reads `file` and `sha256`; `sha256` is required unless `hashOptional`.
    static func parse(_ section: ModelSpecSection, hashOptional: Bool = false) throws -> ModelFile {
        let fileValue = try section.mapping.required("file")
        let file = try fileValue.string("file")
        guard !file.hasPrefix("/") else { throw fileValue.error("file must be relative to the spec's folder") }
        return ModelFile(path: file, sha256: try section.sha256(required: !hashOptional))
    }

    public func url(in spec: ModelSpec) -> URL { spec.folder.appendingPathComponent(path) }

    /// Checks that the file exists and has the spec's sha256. `shown` names it in messages.
    func check(in spec: ModelSpec, shown: String) throws {
        let url = url(in: spec)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw InputError("\(shown): model file not found (named by \(spec.specPath))")
        }
        guard let expected = sha256 else { return }
        let actual = try SHA256.hex(ofFile: url)
        guard actual == expected else {
            throw InputError("\(shown): sha256 is \(actual), but the model spec says \(expected); "
                             + "the file changed — if that is intended, update sha256 in \(spec.specPath)")
        }
    }
}

/// A model spec's top-level keys as a format reads them, with errors that name the file and
/// line. Formats outside Vigil read their keys through the public accessors.
public struct ModelSpecSection {
    let mapping: YAMLMapping
    public let task: VisionTask
    public let classes: [String]
    public let specPath: String

    public var folder: URL { URL(fileURLWithPath: specPath).deletingLastPathComponent() }

    public func has(_ key: String) -> Bool { mapping[key] != nil }

    public func string(_ key: String) throws -> String? { try mapping[key]?.string(key) }

    public func int(_ key: String, in range: ClosedRange<Int>) throws -> Int? { try mapping[key]?.int(key, in: range) }

    public func double(_ key: String) throws -> Double? { try mapping[key]?.double(key) }

    public func bool(_ key: String) throws -> Bool? {
        guard let value = mapping[key] else { return nil }
        guard let flag = value.node.bool else { throw value.error("\(key) must be true or false") }
        return flag
    }

    /// An error about `key` (or the spec, when the key is absent), naming the file and line.
    public func error(_ key: String, _ message: String) -> InputError {
        (mapping[key] ?? mapping.owner).error(message)
    }

    /// `sha256`, lower-cased and checked to be 64 hexadecimal digits.
    func sha256(required: Bool) throws -> String? {
        guard let value = mapping["sha256"] else {
            if required { _ = try mapping.required("sha256") }
            return nil
        }
        let text = try value.string("sha256").lowercased()
        guard text.count == 64, text.allSatisfy(\.isHexDigit) else { throw value.error("sha256 must be 64 hexadecimal digits") }
        return text
    }

    /// Refuses `key` when present, saying why.
    func refuse(_ key: String, _ reason: String) throws {
        if let value = mapping[key] { throw value.error("'\(key)' \(reason)") }
    }
}

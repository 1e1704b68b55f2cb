import Foundation

/// Detections made elsewhere (PyTorch, TensorRT, a service), read from COCO results files, so
/// that models Vigil cannot run are gated the same way as those it can.
///
/// A results file holds one entry per detection, keyed by golden-set sample:
/// ```json
/// [{"image_id": "group-01", "category_id": 1, "bbox": [12.5, 30, 40, 52], "score": 0.93}, …]
/// ```
/// - `image_id` is the sample's id (a string), or the integer id Vigil's COCO export gives the
///   sample (its position in the manifest, from 1);
/// - `category_id` is the class's position in the spec's `classes`, from 1 (as in the export);
/// - `bbox` is `[x, y, width, height]` in the image's pixels; `score` any finite number.
///
/// COCO's format cannot say "this image was processed and nothing was found", so a sample
/// without any entry is an error, not silently zero detections. Files that need to say it use
/// the object form, listing every processed image:
/// `{"image_ids": ["group-01", …], "detections": [ …as above… ]}`.
///
/// The spec's `file` holds the results on the clean images; results on a scenario's images
/// (exported with `vigil corrupt`) go in `scenario_files`, keyed by scenario id. A suite
/// scenario without a results file is refused before the run starts.
public struct PredictionsFileSpec: ModelSettings, Hashable {
    /// The clean images' results file, and its sha256 when the spec pins it.
    public var file: ModelFile
    /// Results files of scenario images, by scenario id.
    public var scenarioFiles: [String: String]
    public var postprocessing: DetectionPostprocessing

    public var sha256: String? { file.sha256 }
    public var modelFile: ModelFile? { file }
    public var computationFields: [String] { ["postprocess=\(postprocessing.key)"] }
}

struct PredictionsFileFormat: ModelFormat {
    let name = "predictions"
    let tasks: Set<VisionTask> = [.detection]
    let keys = ["file", "sha256", "scenario_files", "postprocess"]

    func settings(from section: ModelSpecSection) throws -> any ModelSettings {
        var scenarioFiles: [String: String] = [:]
        if let files = section.mapping["scenario_files"] {
            for (scenario, value) in try files.mapping("scenario_files", allowed: nil).entries {
                do { _ = try Scenario(id: scenario) } catch let error as InputError { throw value.error(error.message) }
                let path = try value.string("the results file of '\(scenario)'")
                guard !path.hasPrefix("/") else { throw value.error("results files must be relative to the spec's folder") }
                scenarioFiles[scenario] = path
            }
        }
        return PredictionsFileSpec(file: try ModelFile.parse(section, hashOptional: true), scenarioFiles: scenarioFiles,
                                   postprocessing: try DetectionPostprocessing.parse(section, defaults: DetectionPostprocessing())!)
    }

    func backend(for spec: ModelSpec, displayPath: String?) async throws -> any InferenceBackend {
        try PredictionsFileBackend(spec: spec)
    }
}

public struct PredictionsFileBackend: InferenceBackend {
    public static let version = "predictions-file/1"

    public var footprint: ModelFootprint {
        ModelFootprint(sizeNote: "predictions read from a file: no model to measure", memoryNote: "predictions read from a file: no model to measure")
    }

    public let spec: ModelSpec
    public let identity: String
    public var classes: [String] { spec.classes }
    public var maxBatchSize: Int { Int.max }
    /// Per scenario id, per sample id, the detections (for samples listed without any: empty).
    let results: [String: [String: [Detection]]]
    /// Per scenario id, the file's path as shown in messages.
    let files: [String: String]

    let postprocessing: DetectionPostprocessing

    public init(spec: ModelSpec) throws {
        var section = spec.settings(as: PredictionsFileSpec.self)
        postprocessing = section.postprocessing
        var files = ["clean": section.file.path]
        for (scenario, path) in section.scenarioFiles { files[scenario] = path }
        var hashes: [String] = []
        var results: [String: [String: [Detection]]] = [:]
        var shown: [String: String] = [:]
        for (scenario, path) in files.sorted(by: { $0.key < $1.key }) {
            let url = spec.folder.appendingPathComponent(path)
            let display = DisplayPath.of(url)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw InputError("\(display): results file not found (named by \(spec.specPath) for scenario '\(scenario)')")
            }
            let hash = try SHA256.hex(ofFile: url)
            if scenario == "clean", let expected = section.sha256, expected != hash {
                throw InputError("\(display): sha256 is \(hash), but the model spec says \(expected); the file changed — if that is intended, update sha256 in \(spec.specPath)")
            }
            hashes.append("\(scenario)=\(hash)")
            results[scenario] = try Self.read(url, displayPath: display, classes: spec.classes)
            shown[scenario] = display
        }
        var resolved = spec
        if section.file.sha256 == nil {
            section.file.sha256 = String(hashes.first { $0.hasPrefix("clean=") }!.dropFirst("clean=".count))
            resolved.settings = section
        }
        self.spec = resolved
        self.results = results
        self.files = shown
        identity = SHA256.hex(of: "\(Self.version)|\(resolved.computationKey)|\(hashes.joined(separator: ","))")
    }

    /// One entry of a results file: like `COCODetection`, with the image named by sample id or
    /// by the export's integer id.
    struct Entry: Decodable, Sendable {
        enum ImageID: Hashable, Sendable { case sample(String), index(Int) }
        var imageID: ImageID
        var categoryID: Int
        var bbox: Box
        var score: Double

        enum CodingKeys: String, CodingKey { case imageID = "image_id", categoryID = "category_id", bbox, score }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            if let text = try? c.decode(String.self, forKey: .imageID) {
                imageID = .sample(text)
            } else {
                imageID = .index(try c.decode(Int.self, forKey: .imageID))
            }
            categoryID = try c.decode(Int.self, forKey: .categoryID)
            bbox = try c.decode(Box.self, forKey: .bbox)
            score = try c.decode(Double.self, forKey: .score)
        }
    }

    struct ObjectForm: Decodable {
        var imageIDs: [Entry.ImageID]
        var detections: [Entry]

        enum CodingKeys: String, CodingKey { case imageIDs = "image_ids", detections }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            var ids = try c.nestedUnkeyedContainer(forKey: .imageIDs)
            var parsed: [Entry.ImageID] = []
            while !ids.isAtEnd {
                if let text = try? ids.decode(String.self) { parsed.append(.sample(text)) } else { parsed.append(.index(try ids.decode(Int.self))) }
            }
            imageIDs = parsed
            detections = try c.decode([Entry].self, forKey: .detections)
        }
    }

    /// Parsed entries, still keyed as the file keys them (checked against the golden set by
    /// `prepared(for:scenarios:sampleIndices:)`). Integer ids are kept as "#N" until the golden set resolves them.
    static func read(_ url: URL, displayPath: String, classes: [String]) throws -> [String: [Detection]] {
        let data = try JSONInput.read(url, displayPath: displayPath)
        let isObject = data.first(where: { !($0 == 32 || $0 == 9 || $0 == 10 || $0 == 13) }) == UInt8(ascii: "{")
        var listed: [Entry.ImageID] = []
        let entries: [Entry]
        if isObject {
            let form = try JSONInput.decode(ObjectForm.self, from: data, displayPath: displayPath)
            listed = form.imageIDs
            entries = form.detections
        } else {
            entries = try JSONInput.decodeArray(Entry.self, from: data, displayPath: displayPath)
        }
        func key(_ id: Entry.ImageID) -> String {
            switch id {
            case .sample(let text): text
            case .index(let n): "#\(n)"
            }
        }
        var byImage: [String: [Detection]] = [:]
        for id in listed { byImage[key(id), default: []] = byImage[key(id)] ?? [] }
        for (index, entry) in entries.enumerated() {
            let name = "detection \(index) (image_id \(key(entry.imageID)))"
            guard entry.score.isFinite else { throw InputError("\(displayPath): \(name): score is \(entry.score); scores must be finite numbers") }
            guard (1...classes.count).contains(entry.categoryID) else {
                throw InputError("\(displayPath): \(name): category_id \(entry.categoryID) is not a class of the model spec "
                                 + "(1…\(classes.count) for \(classes.prefix(5).joined(separator: ", "))\(classes.count > 5 ? ", …" : ""), in the spec's order)")
            }
            try COCOGroundTruth.check(entry.bbox, name, displayPath)
            byImage[key(entry.imageID), default: []].append(Detection(classIndex: entry.categoryID - 1, box: entry.bbox, score: entry.score))
        }
        return byImage
    }

    /// Refuses results that do not fit the run: a suite scenario without a results file, an
    /// image id that is not a sample of the golden set (a file for another golden set), and a
    /// sample of a scenario without any entry.
    public func prepared(for goldenSet: GoldenSet, scenarios: [Scenario], sampleIndices: [[Int]]) throws -> any InferenceBackend {
        var resolved: [String: [String: [Detection]]] = [:]
        for (scenario, byKey) in results {
            let shown = files[scenario]!
            var bySample: [String: [Detection]] = [:]
            let ids = Set(goldenSet.samples.map(\.id))
            for (key, detections) in byKey {
                let id: String
                if key.hasPrefix("#"), let n = Int(key.dropFirst()), !ids.contains(key) {
                    guard (1...goldenSet.samples.count).contains(n) else {
                        throw InputError("\(shown): image_id \(n) is not a sample of golden set '\(goldenSet.name)' (integer ids are manifest positions 1…\(goldenSet.samples.count)); is this file for another golden set?")
                    }
                    id = goldenSet.samples[n - 1].id
                } else {
                    guard ids.contains(key) else {
                        throw InputError("\(shown): image_id '\(key)' is not a sample of golden set '\(goldenSet.name)'"
                                         + Suggestion.hint(for: key, in: Array(ids).sorted()) + "; is this file for another golden set?")
                    }
                    id = key
                }
                bySample[id, default: []] += detections
            }
            resolved[scenario] = bySample
        }
        for (index, scenario) in scenarios.enumerated() {
            guard let bySample = resolved[scenario.id] else {
                let listed = results.keys.sorted().joined(separator: ", ")
                throw InputError("\(spec.specPath): predictions model '\(spec.name)' has no results file for scenario '\(scenario.id)' (it has: \(listed)). "
                                 + "Export the scenario's images with `vigil corrupt \(DisplayPath.of(goldenSet.root)) --scenario \(scenario.id) -o DIR`, run the detector on them and add the results under scenario_files")
            }
            let missing = sampleIndices[index].map { goldenSet.samples[$0].id }.filter { bySample[$0] == nil }
            if let first = missing.first {
                throw InputError("\(files[scenario.id]!): no detections for \(missing.count) of \(sampleIndices[index].count) images of scenario '\(scenario.id)' (e.g. '\(first)'); "
                                 + "if the detector found nothing there, list every processed image: {\"image_ids\": [...], \"detections\": [...]}")
            }
        }
        var checked = self
        checked.resolvedResults = resolved
        return checked
    }

    /// The results with sample ids resolved; set by `prepared(for:scenarios:sampleIndices:)`.
    var resolvedResults: [String: [String: [Detection]]]?

    public func makeWorker() throws -> any InferenceWorker {
        guard let resolvedResults else {
            preconditionFailure("PredictionsFileBackend.prepared(for:scenarios:sampleIndices:) resolves the results before a run")
        }
        return PredictionsFileWorker(results: resolvedResults, postprocessing: postprocessing, name: spec.name)
    }
}

final class PredictionsFileWorker: InferenceWorker {
    let results: [String: [String: [Detection]]]
    let postprocessing: DetectionPostprocessing
    let name: String

    init(results: [String: [String: [Detection]]], postprocessing: DetectionPostprocessing, name: String) {
        self.results = results
        self.postprocessing = postprocessing
        self.name = name
    }

    /// Latency is not known for detections made elsewhere: it is NaN, and the latency metrics
    /// of this model are undefined.
    func predict(_ inputs: [ModelInput]) throws -> [Prediction] {
        try inputs.map { item in
            guard let detections = results[item.scenarioID]?[item.sampleID] else {
                throw InputError("\(name): no results for sample '\(item.sampleID)' under scenario '\(item.scenarioID)'")
            }
            return Prediction(detections: DetectionFiltering.apply(postprocessing, to: detections), latencyMs: .nan)
        }
    }
}

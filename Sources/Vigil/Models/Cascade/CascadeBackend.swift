import CVBridge
import Foundation

/// The `format: cascade` section of a model spec: an OpenCV Haar or LBP cascade (XML) beside the
/// spec, its detection settings, and the post-processing of its boxes.
///
/// ```yaml
/// format: cascade
/// file: haarcascade_frontalface_default.xml
/// sha256: …
/// cascade: {scale_factor: 1.1, min_neighbors: 1, min_size: 24}
/// classes: [face]          # exactly one
/// ```
public struct CascadeSpec: ModelSettings, Hashable {
    public var file: ModelFile
    public var cascade: CascadeSettings
    public var postprocessing: DetectionPostprocessing

    public var sha256: String? { file.sha256 }
    public var modelFile: ModelFile? { file }
    public var computationFields: [String] { ["cascade=\(cascade.key)", "postprocess=\(postprocessing.key)"] }
}

struct CascadeFormat: ModelFormat {
    let name = "cascade"
    let tasks: Set<VisionTask> = [.detection]
    let keys = ["file", "sha256", "cascade", "postprocess"]

    func settings(from section: ModelSpecSection) throws -> any ModelSettings {
        guard section.classes.count == 1 else {
            throw section.error("classes", "a cascade detects one class; list exactly one")
        }
        return CascadeSpec(file: try ModelFile.parse(section), cascade: try CascadeSettings.parse(try section.mapping.required("cascade")),
                           postprocessing: try DetectionPostprocessing.parse(section, defaults: DetectionPostprocessing())!)
    }

    func backend(for spec: ModelSpec, displayPath: String?) async throws -> any InferenceBackend {
        try CascadeBackend(spec: spec, displayPath: displayPath)
    }
}

/// Runs an OpenCV cascade classifier (Haar or LBP XML) as a detector of the spec's one class.
///
/// Cascades have no probabilities; each box's score is the number of raw detection windows
/// OpenCV grouped into it (`detectMultiScale`'s `numDetections`), documented in
/// `CascadeSettings`. The image is converted to grey (and histogram-equalised unless the spec
/// says not to) inside the bridge; boxes are in the image's own pixels.
public struct CascadeBackend: InferenceBackend {
    /// Bumped whenever this backend's code changes what it computes.
    public static let version = "opencv-cascade/1"

    public let spec: ModelSpec
    public let identity: String
    public var classes: [String] { spec.classes }
    /// Cascades take one image per call.
    public var maxBatchSize: Int { 1 }
    let displayPath: String
    let settings: cvb_cascade_settings
    let postprocessing: DetectionPostprocessing
    let modelURL: URL

    public var footprint: ModelFootprint {
        let (size, note) = ModelFootprint.fileSize(modelURL)
        return ModelFootprint(sizeMB: size, sizeNote: note, memoryNote: "OpenCV's cascade classifier does not account its memory")
    }

    public init(spec: ModelSpec, displayPath: String? = nil) throws {
        let section = spec.settings(as: CascadeSpec.self)
        let cascade = section.cascade
        self.spec = spec
        postprocessing = section.postprocessing
        modelURL = section.file.url(in: spec)
        let shown = displayPath ?? DisplayPath.of(modelURL)
        self.displayPath = shown
        try section.file.check(in: spec, shown: shown)
        identity = Backends.identity(version: Self.version, spec: spec)
        let handle = try Self.load(modelURL, displayPath: shown)
        cvb_cascade_free(handle)
        var s = cvb_cascade_settings()
        s.scale_factor = cascade.scaleFactor
        s.min_neighbors = Int32(cascade.minNeighbors)
        s.min_size = Int32(cascade.minSize)
        s.max_size = Int32(cascade.maxSize)
        s.equalize_histogram = cascade.equalizeHistogram ? 1 : 0
        settings = s
    }

    static func load(_ url: URL, displayPath: String) throws -> OpaquePointer {
        try Bridge.call(displayPath) { error in cvb_cascade_load(url.path, error) }
    }

    public func makeWorker() throws -> any InferenceWorker {
        CascadeWorker(cascade: try Self.load(modelURL, displayPath: displayPath), settings: settings,
                      postprocessing: postprocessing, name: spec.name)
    }
}

/// One cascade classifier; used by one thread at a time.
final class CascadeWorker: InferenceWorker {
    private let cascade: OpaquePointer
    private var settings: cvb_cascade_settings
    private let postprocessing: DetectionPostprocessing
    private let name: String
    private var buffer = [cvb_detection](repeating: cvb_detection(), count: 256)

    init(cascade: OpaquePointer, settings: cvb_cascade_settings, postprocessing: DetectionPostprocessing, name: String) {
        self.cascade = cascade
        self.settings = settings
        self.postprocessing = postprocessing
        self.name = name
    }

    deinit { cvb_cascade_free(cascade) }

    func predict(_ inputs: [ModelInput]) throws -> [Prediction] {
        try inputs.map { item in
            var count = 0
            let start = DispatchTime.now().uptimeNanoseconds
            while true {
                let capacity = buffer.count
                try Bridge.check("\(name): cascade detection") { error in
                    cvb_cascade_detect(cascade, item.image.pointer, &settings, &buffer, capacity, &count, error)
                }
                if count <= capacity { break }
                buffer = [cvb_detection](repeating: cvb_detection(), count: count)
            }
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            let detections = buffer.prefix(count).map {
                Detection(classIndex: Int($0.class_index), box: Box(x: $0.x, y: $0.y, width: $0.width, height: $0.height), score: $0.score)
            }
            return Prediction(detections: DetectionFiltering.apply(postprocessing, to: detections), latencyMs: elapsed)
        }
    }
}

/// How a cascade classifier is run (OpenCV's `detectMultiScale` parameters).
///
/// ```yaml
/// cascade:
///   scale_factor: 1.1         # image shrink between scales (> 1)
///   min_neighbors: 1          # raw windows an object needs; each box's score is its count
///   min_size: 24              # smallest object side in pixels (default: the cascade's window)
///   max_size: 0               # largest object side (0: no limit)
///   equalize_histogram: true  # cv::equalizeHist on the grey image first (default true)
/// ```
/// Cascades give no probabilities: a box's score is the number of raw detection windows OpenCV
/// grouped into it. A low `min_neighbors` keeps weak boxes so that precision–recall curves
/// (AP) have a range of scores; the suite's `score_threshold` then sets the operating point, so
/// `score_threshold: 3` reports what `min_neighbors: 3` would detect.
public struct CascadeSettings: Sendable, Hashable, Codable {
    public var scaleFactor: Double
    public var minNeighbors: Int
    public var minSize: Int
    public var maxSize: Int
    public var equalizeHistogram: Bool

    var key: String { "\(scaleFactor),\(minNeighbors),\(minSize),\(maxSize),\(equalizeHistogram)" }

    static func parse(_ value: YAMLValue) throws -> CascadeSettings {
        let m = try value.mapping("cascade", allowed: ["scale_factor", "min_neighbors", "min_size", "max_size", "equalize_histogram"])
        let scale = try m["scale_factor"]?.double("scale_factor") ?? 1.1
        guard scale > 1, scale <= 4 else { throw try m.required("scale_factor").error("scale_factor must be above 1 (and at most 4), e.g. 1.1") }
        let equalize: Bool
        if let flag = m["equalize_histogram"] {
            guard let bool = flag.node.bool else { throw flag.error("equalize_histogram must be true or false") }
            equalize = bool
        } else {
            equalize = true
        }
        return CascadeSettings(scaleFactor: scale,
                               minNeighbors: try m["min_neighbors"]?.int("min_neighbors", in: 0...1000) ?? 1,
                               minSize: try m["min_size"]?.int("min_size", in: 0...100_000) ?? 0,
                               maxSize: try m["max_size"]?.int("max_size", in: 0...100_000) ?? 0,
                               equalizeHistogram: equalize)
    }
}


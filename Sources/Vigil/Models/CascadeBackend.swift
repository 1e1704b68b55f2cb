import CVBridge
import Foundation

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

    public init(spec: ModelSpec, displayPath: String? = nil) throws {
        guard let cascade = spec.cascade else { preconditionFailure("a cascade spec has cascade settings") }
        self.spec = spec
        let shown = displayPath ?? spec.modelURL.path
        self.displayPath = shown
        try Backends.checkFile(spec, shown: shown)
        identity = Backends.identity(version: Self.version, spec: spec)
        let handle = try Self.load(spec.modelURL, displayPath: shown)
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
        CascadeWorker(cascade: try Self.load(spec.modelURL, displayPath: displayPath), settings: settings,
                      postprocessing: spec.postprocessing ?? DetectionPostprocessing(), name: spec.name)
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

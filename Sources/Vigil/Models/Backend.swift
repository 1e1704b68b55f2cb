import Foundation
import Synchronization

/// What a model says about one image: class probabilities (classifiers) or detections
/// (detectors).
public struct Prediction: Sendable, Hashable {
    /// Classifiers: one probability per class, in the model spec's class order. Empty for
    /// detectors.
    public var probabilities: [Float]
    /// Detectors: boxes in the image's pixels after the shared post-processing. Empty for
    /// classifiers.
    public var detections: [Detection]
    /// Wall time of the inference call that produced this prediction, divided by the number of
    /// images in its batch (preprocessing excluded; for served models the request's round trip,
    /// network and server included).
    public var latencyMs: Double

    public init(probabilities: [Float], latencyMs: Double) {
        self.probabilities = probabilities
        detections = []
        self.latencyMs = latencyMs
    }

    public init(detections: [Detection], latencyMs: Double) {
        probabilities = []
        self.detections = detections
        self.latencyMs = latencyMs
    }
}

/// One image for a model, with what identifies it: the golden-set sample and the scenario it
/// was made under (a predictions file looks its detections up by these).
public struct ModelInput {
    public var image: Image
    public var sampleID: String
    public var scenarioID: String

    public init(image: Image, sampleID: String = "", scenarioID: String = "clean") {
        self.image = image
        self.sampleID = sampleID
        self.scenarioID = scenarioID
    }
}

/// Turns images into predictions. Baseline and candidate go through the same backend code, so
/// their pre- and post-processing can never differ.
///
/// A backend is a description that can be shared; the work happens in workers. Each worker owns
/// its own model instance (an OpenCV `Net` must not be used by two threads at once), and a run
/// creates one worker per thread.
public protocol InferenceBackend: Sendable {
    /// The spec the backend was made from.
    var spec: ModelSpec { get }
    /// Names what this backend computes: a change to the model bytes, the preprocessing, the
    /// decoding or the backend's own code changes it. Stored outcomes are reused only under an
    /// identical identity.
    var identity: String { get }
    var classes: [String] { get }
    /// The largest batch the model accepts (1 for graphs with a fixed batch dimension).
    var maxBatchSize: Int { get }
    func makeWorker() throws -> any InferenceWorker
    /// Checks the backend against a run's golden set and scenarios (their samples by manifest
    /// index) and returns the backend to run. Models that compute their outputs need nothing
    /// (the default returns the backend itself); a predictions file must cover every sample.
    func prepared(for goldenSet: GoldenSet, scenarios: [Scenario], sampleIndices: [[Int]]) throws -> any InferenceBackend
    /// What the model declares about itself (tensor names, types and shapes; opsets, a
    /// server's platform), one line each, for `vigil model check`.
    var interface: [String] { get }
    /// The checks creating the backend passed, one line each, for `vigil model check`.
    var checks: [String] { get }
    /// What the model costs to ship and to hold in memory, where the format can know it.
    var footprint: ModelFootprint { get }
}

extension InferenceBackend {
    public var interface: [String] { [] }
    public var checks: [String] { [] }
    public var footprint: ModelFootprint {
        ModelFootprint(sizeNote: "format \(spec.format) does not report it", memoryNote: "format \(spec.format) does not report it")
    }

    public func prepared(for goldenSet: GoldenSet, scenarios: [Scenario], sampleIndices: [[Int]]) throws -> any InferenceBackend {
        self
    }
}

/// A model instance used by one task at a time. Asynchronous, so that a worker waiting on a
/// model server leaves its thread to the others.
public protocol InferenceWorker: AnyObject {
    func predict(_ inputs: [ModelInput]) async throws -> [Prediction]
}

extension InferenceWorker {
    /// Predicts images that need no sample or scenario to be looked up by.
    public func predict(_ images: [Image]) async throws -> [Prediction] {
        try await predict(images.map { ModelInput(image: $0) })
    }
}

/// A model format: reads its own section of a model spec and makes the backend that runs it.
/// Formats are registered with `Backends.register`; `ModelSpec` knows only the keys every
/// model has, so adding a format touches nothing outside its folder but the registration.
///
/// ```swift
/// struct TensorRTFormat: ModelFormat {
///     let name = "tensorrt"
///     let tasks: Set<VisionTask> = [.classification]
///     let keys = ["engine", "sha256", "input", "output"]
///     func settings(from section: ModelSpecSection) throws -> any ModelSettings { … }
///     func backend(for spec: ModelSpec, displayPath: String?) async throws -> any InferenceBackend { … }
/// }
/// Backends.register(TensorRTFormat())
/// ```
public protocol ModelFormat: Sendable {
    /// The spec's `format:` value.
    var name: String { get }
    var tasks: Set<VisionTask> { get }
    /// The spec's top-level keys this format reads, beyond `name`, `task`, `format` and
    /// `classes`; any other key is refused when the spec is read.
    var keys: [String] { get }
    /// Reads and checks the format's keys (their values only; files and servers are checked by
    /// `backend(for:displayPath:)`).
    func settings(from section: ModelSpecSection) throws -> any ModelSettings
    /// Makes the backend, checking the model itself: files and hashes, graph shapes, servers.
    func backend(for spec: ModelSpec, displayPath: String?) async throws -> any InferenceBackend
}

/// The registered model formats, and the backend a spec's format makes: OpenCV DNN for ONNX
/// models, OpenCV's cascade classifier for cascades, a results-file reader for predictions, an
/// Open Inference Protocol client for served models. Every backend checks its model on
/// creation, so problems surface before any image is processed.
public enum Backends {
    private static let registry = Mutex<[any ModelFormat]>([
        ONNXFormat(), CascadeFormat(), PredictionsFileFormat(), KServeV2Format(),
    ])

    public static var formats: [any ModelFormat] { registry.withLock { $0 } }

    /// Adds a format, or replaces the one of the same name.
    public static func register(_ format: any ModelFormat) {
        registry.withLock { formats in
            formats.removeAll { $0.name == format.name }
            formats.append(format)
        }
    }

    public static func format(named name: String) -> (any ModelFormat)? {
        formats.first { $0.name == name }
    }

    public static func make(_ spec: ModelSpec, displayPath: String? = nil) async throws -> any InferenceBackend {
        guard let format = format(named: spec.format) else {
            throw InputError("\(spec.specPath): format '\(spec.format)' is not registered")
        }
        return try await format.backend(for: spec, displayPath: displayPath)
    }

    /// A backend's identity for a spec: its own version, OpenCV's, and what the spec computes.
    static func identity(version: String, spec: ModelSpec) -> String {
        SHA256.hex(of: "\(version)|opencv=\(OpenCV.version)|\(spec.computationKey)")
    }
}

/// Turns logits into probabilities (computed in double precision, max-subtracted).
public func softmax(_ logits: ArraySlice<Float>) -> [Float] {
    guard let top = logits.max() else { return [] }
    let exps = logits.map { Foundation.exp(Double($0) - Double(top)) }
    let total = exps.reduce(0, +)
    return exps.map { Float($0 / total) }
}

/// The KPI sheet's "model size" and "memory footprint": the metrics `model_size_mb` (the model
/// file on disk) and `model_memory_mb` (what the runtime holds for one image at the spec's input
/// size: weights plus intermediate blobs, by the runtime's own accounting). MB are 2^20 bytes,
/// as model zoos count them. A value a format cannot know is nil, with the reason in its note.
public struct ModelFootprint: Sendable, Hashable, Codable {
    public var sizeMB: Double?
    public var memoryMB: Double?
    /// Of `memoryMB`: the weights and the intermediate blobs.
    public var weightsMB: Double?
    public var blobsMB: Double?
    /// Why a value is nil.
    public var sizeNote: String?
    public var memoryNote: String?

    enum CodingKeys: String, CodingKey {
        case sizeMB = "size_mb", memoryMB = "memory_mb", weightsMB = "weights_mb", blobsMB = "blobs_mb",
             sizeNote = "size_note", memoryNote = "memory_note"
    }

    public init(sizeMB: Double? = nil, weightsMB: Double? = nil, blobsMB: Double? = nil,
                sizeNote: String? = nil, memoryNote: String? = nil) {
        self.sizeMB = sizeMB
        self.weightsMB = weightsMB
        self.blobsMB = blobsMB
        memoryMB = weightsMB.flatMap { w in blobsMB.map { w + $0 } }
        self.sizeNote = sizeMB == nil ? sizeNote : nil
        self.memoryNote = memoryMB == nil ? memoryNote : nil
    }

    static let bytesPerMB = 1_048_576.0

    /// The size of the file at `url` in MB (nil with a note when it cannot be read).
    static func fileSize(_ url: URL) -> (Double?, String?) {
        guard let bytes = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? NSNumber else {
            return (nil, "cannot read the size of \(url.lastPathComponent)")
        }
        return (bytes.doubleValue / bytesPerMB, nil)
    }

    /// One line for terminals and reports: "4.2 MB file · 11.3 MB in memory (4.1 weights + 7.2 blobs)".
    public var summary: String {
        let size = sizeMB.map { String(format: "%.1f MB file", $0) } ?? "file size unknown (\(sizeNote ?? "not reported"))"
        let memory = memoryMB.map { total in
            String(format: "%.1f MB in memory", total)
                + (weightsMB.flatMap { w in blobsMB.map { String(format: " (%.1f weights + %.1f blobs)", w, $0) } } ?? "")
        } ?? "memory unknown (\(memoryNote ?? "not reported"))"
        return "\(size) · \(memory)"
    }
}

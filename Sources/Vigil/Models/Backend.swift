import Foundation

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
    /// images in its batch (preprocessing excluded).
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
}

extension InferenceBackend {
    public func prepared(for goldenSet: GoldenSet, scenarios: [Scenario], sampleIndices: [[Int]]) throws -> any InferenceBackend {
        self
    }
}

/// A single-threaded model instance.
public protocol InferenceWorker: AnyObject {
    func predict(_ inputs: [ModelInput]) throws -> [Prediction]
}

extension InferenceWorker {
    /// Predicts images that need no sample or scenario to be looked up by.
    public func predict(_ images: [Image]) throws -> [Prediction] {
        try predict(images.map { ModelInput(image: $0) })
    }
}

/// Makes the backend a spec's format calls for: OpenCV DNN for ONNX models, OpenCV's cascade
/// classifier for cascades, a results-file reader for predictions. Every backend checks its
/// model on creation, so problems surface before any image is processed.
public enum Backends {
    public static func make(_ spec: ModelSpec, displayPath: String? = nil) throws -> any InferenceBackend {
        switch spec.format {
        case .onnx: try OpenCVDNNBackend(spec: spec, displayPath: displayPath)
        case .cascade: try CascadeBackend(spec: spec, displayPath: displayPath)
        case .predictions: try PredictionsFileBackend(spec: spec)
        }
    }

    /// A backend's identity for a spec: its own version, OpenCV's, and what the spec computes.
    static func identity(version: String, spec: ModelSpec) -> String {
        SHA256.hex(of: "\(version)|opencv=\(OpenCV.version)|\(spec.computationKey)")
    }

    /// Checks that the file the spec names exists and has the spec's sha256.
    static func checkFile(_ spec: ModelSpec, shown: String) throws {
        let url = spec.modelURL
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw InputError("\(shown): model file not found (named by \(spec.specPath))")
        }
        guard let expected = spec.sha256 else { return }
        let actual = try SHA256.hex(ofFile: url)
        guard actual == expected else {
            throw InputError("\(shown): sha256 is \(actual), but the model spec says \(expected); "
                             + "the file changed — if that is intended, update sha256 in \(spec.specPath)")
        }
    }
}

/// Turns logits into probabilities (computed in double precision, max-subtracted).
public func softmax(_ logits: ArraySlice<Float>) -> [Float] {
    guard let top = logits.max() else { return [] }
    let exps = logits.map { Foundation.exp(Double($0) - Double(top)) }
    let total = exps.reduce(0, +)
    return exps.map { Float($0 / total) }
}

import Foundation

/// What a classifier says about one image.
public struct Prediction: Sendable, Hashable {
    /// One probability per class, in the model spec's class order.
    public var probabilities: [Float]
    /// Wall time of the inference call that produced this prediction, divided by the number of
    /// images in its batch (preprocessing excluded).
    public var latencyMs: Double

    public init(probabilities: [Float], latencyMs: Double) {
        self.probabilities = probabilities
        self.latencyMs = latencyMs
    }
}

/// Turns images into predictions. Baseline and candidate go through the same backend code, so
/// their pre- and post-processing can never differ.
///
/// A backend is a description that can be shared; the work happens in workers. Each worker owns
/// its own model instance (an OpenCV `Net` must not be used by two threads at once), and a run
/// creates one worker per thread.
public protocol InferenceBackend: Sendable {
    /// Names what this backend computes: a change to the model bytes, the preprocessing, the
    /// decoding or the backend's own code changes it. Stored outcomes are reused only under an
    /// identical identity.
    var identity: String { get }
    var classes: [String] { get }
    /// The largest batch the model accepts (1 for graphs with a fixed batch dimension).
    var maxBatchSize: Int { get }
    func makeWorker() throws -> any InferenceWorker
}

/// A single-threaded model instance.
public protocol InferenceWorker: AnyObject {
    func predict(_ images: [Image]) throws -> [Prediction]
}

/// Turns logits into probabilities (computed in double precision, max-subtracted).
public func softmax(_ logits: ArraySlice<Float>) -> [Float] {
    guard let top = logits.max() else { return [] }
    let exps = logits.map { Foundation.exp(Double($0) - Double(top)) }
    let total = exps.reduce(0, +)
    return exps.map { Float($0 / total) }
}

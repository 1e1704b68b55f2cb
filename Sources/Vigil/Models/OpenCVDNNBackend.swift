import CVBridge
import Foundation

/// Runs ONNX classifiers with OpenCV's DNN module on the CPU.
///
/// Creating the backend checks the model thoroughly, so that problems surface before any image
/// is processed, each as one `InputError` line naming the file: the file is missing, its sha256
/// differs from the spec, OpenCV cannot import the graph (the unsupported operator is named when
/// OpenCV says which), the graph rejects the spec's input size, or it produces a different
/// number of outputs than the spec has classes.
public struct OpenCVDNNBackend: InferenceBackend {
    /// Bumped whenever this backend's code changes what it computes.
    public static let version = "opencv-dnn/1"

    public let spec: ModelSpec
    public let identity: String
    public let maxBatchSize: Int
    /// Where the model is named in messages (path as the user gave it).
    let displayPath: String

    public var classes: [String] { spec.classes }

    public init(spec: ModelSpec, displayPath: String? = nil) throws {
        self.spec = spec
        let shown = displayPath ?? spec.modelURL.path
        self.displayPath = shown
        let url = spec.modelURL
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw InputError("\(shown): model file not found (named by \(spec.specPath))")
        }
        let actual = try SHA256.hex(ofFile: url)
        guard actual == spec.sha256 else {
            throw InputError("\(shown): sha256 is \(actual), but the model spec says \(spec.sha256); "
                             + "the file changed — if that is intended, update sha256 in \(spec.specPath)")
        }
        identity = SHA256.hex(of: "\(Self.version)|opencv=\(OpenCV.version)|\(spec.computationKey)")

        let net = try Self.load(url, displayPath: shown)
        defer { cvb_net_free(net) }
        let one = try Self.dryRun(net, spec: spec, batch: 1, displayPath: shown)
        guard one == spec.classes.count else {
            throw InputError("\(shown): the model outputs \(one) values per image, but the spec lists "
                             + "\(spec.classes.count) classes")
        }
        // Graphs exported with a fixed batch dimension of 1 reject larger batches; run those one
        // image at a time rather than failing.
        maxBatchSize = (try? Self.dryRun(net, spec: spec, batch: 2, displayPath: shown)) == one ? Int.max : 1
    }

    public func makeWorker() throws -> any InferenceWorker {
        OpenCVDNNWorker(net: try Self.load(spec.modelURL, displayPath: displayPath), spec: spec)
    }

    static func load(_ url: URL, displayPath: String) throws -> OpaquePointer {
        var error = cvb_error()
        if let net = cvb_net_load_onnx(url.path, &error) { return net }
        let message = Bridge.message(error)
        if let op = failingOperator(in: message) {
            throw InputError("\(displayPath): OpenCV \(OpenCV.version) cannot import this ONNX model's "
                             + "'\(op)' operator: \(message)")
        }
        throw InputError("\(displayPath): OpenCV \(OpenCV.version) cannot load this ONNX model: \(message)")
    }

    /// Picks the operator name out of OpenCV's importer messages, which come in two shapes:
    /// `Can't create layer "x" of type "Op"` (an operator OpenCV does not have) and
    /// `Node [Op@ai.onnx]:(...) parse error: ...` (an operator used in a form it does not support).
    static func failingOperator(in message: String) -> String? {
        for pattern in [#"of type "([A-Za-z0-9_]+)""#, #"Node \[([A-Za-z0-9_]+)@"#] {
            if let match = message.firstMatch(of: try! Regex(pattern)),
               let name = match.output[1].substring {
                return String(name)
            }
        }
        return nil
    }

    /// Forwards zeros of the spec's input shape; returns the output count per image.
    static func dryRun(_ net: OpaquePointer, spec: ModelSpec, batch: Int, displayPath: String) throws -> Int {
        let shape = inputShape(spec, batch: batch)
        let input = [Float](repeating: 0, count: shape.reduce(1, *))
        let capacity = batch * max(spec.classes.count, 1) * 64
        var output = [Float](repeating: 0, count: capacity)
        var perSample = 0
        var error = cvb_error()
        let status = shape.map(Int32.init).withUnsafeBufferPointer { shapeBuffer in
            cvb_net_forward(net, input, shapeBuffer.baseAddress, &output, capacity, &perSample, &error)
        }
        if status != 0 {
            if perSample > 0 { return perSample }
            let dims = shape.map(String.init).joined(separator: "x")
            throw InputError("\(displayPath): the network rejects a \(dims) input (the spec's input "
                             + "size and layout): \(Bridge.message(error))")
        }
        return perSample
    }

    static func inputShape(_ spec: ModelSpec, batch: Int) -> [Int] {
        let i = spec.input
        return i.layout == .nchw ? [batch, i.channels, i.height, i.width] : [batch, i.height, i.width, i.channels]
    }
}

/// One OpenCV network plus reusable buffers; used by one thread at a time.
final class OpenCVDNNWorker: InferenceWorker {
    private let net: OpaquePointer
    private let spec: ModelSpec
    private let preprocessing: cvb_preprocess
    private let perImage: Int

    init(net: OpaquePointer, spec: ModelSpec) {
        self.net = net
        self.spec = spec
        preprocessing = spec.preprocessing
        perImage = spec.input.width * spec.input.height * spec.input.channels
    }

    deinit { cvb_net_free(net) }

    func predict(_ images: [Image]) throws -> [Prediction] {
        guard !images.isEmpty else { return [] }
        var tensor = [Float](repeating: 0, count: images.count * perImage)
        try tensor.withUnsafeMutableBufferPointer { buffer in
            for (index, image) in images.enumerated() {
                var p = preprocessing
                try Bridge.check("preprocessing for \(spec.name)") { error in
                    cvb_preprocess_image(image.pointer, &p, buffer.baseAddress! + index * perImage, perImage, error)
                }
            }
        }
        let classes = spec.classes.count
        let shape = OpenCVDNNBackend.inputShape(spec, batch: images.count).map(Int32.init)
        var output = [Float](repeating: 0, count: images.count * classes)
        var perSample = 0
        var error = cvb_error()
        let start = DispatchTime.now().uptimeNanoseconds
        let status = cvb_net_forward(net, tensor, shape, &output, output.count, &perSample, &error)
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        guard status == 0 else {
            throw InputError("\(spec.name): inference failed: \(Bridge.message(error))")
        }
        guard perSample == classes else {
            throw InputError("\(spec.name): the model produced \(perSample) values per image, expected \(classes)")
        }
        let latency = elapsed / Double(images.count)
        return (0..<images.count).map { index in
            let row = output[(index * classes)..<((index + 1) * classes)]
            let probabilities = spec.outputKind == .logits ? softmax(row) : Array(row)
            return Prediction(probabilities: probabilities, latencyMs: latency)
        }
    }
}

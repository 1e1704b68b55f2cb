import CVBridge
import Foundation

/// Runs ONNX classifiers and detectors with OpenCV's DNN module on the CPU.
///
/// Creating the backend checks the model thoroughly, so that problems surface before any image
/// is processed, each as one `InputError` line naming the file: the file is missing, its sha256
/// differs from the spec, OpenCV cannot import the graph (the unsupported operator is named when
/// OpenCV says which), the graph rejects the spec's input size, a classifier produces a different
/// number of outputs than the spec has classes, or a detector's output shapes do not fit its
/// decoder (both shapes are named).
public struct OpenCVDNNBackend: InferenceBackend {
    /// Bumped whenever this backend's code changes what it computes.
    public static let version = "opencv-dnn/1"

    public let spec: ModelSpec
    public let identity: String
    public let maxBatchSize: Int
    /// Where the model is named in messages (path as the user gave it).
    let displayPath: String
    let input: ModelSpec.Input

    public var classes: [String] { spec.classes }

    public init(spec: ModelSpec, displayPath: String? = nil) throws {
        guard let input = spec.input else { preconditionFailure("an ONNX spec has an input section") }
        self.spec = spec
        self.input = input
        let shown = displayPath ?? spec.modelURL.path
        self.displayPath = shown
        try Backends.checkFile(spec, shown: shown)
        identity = Backends.identity(version: Self.version, spec: spec)

        let net = try Self.load(spec.modelURL, displayPath: shown)
        defer { cvb_net_free(net) }
        if let decoding = spec.decoding {
            let shapes = try Self.outputShapes(net, input: input, batch: 1, displayPath: shown)
            do {
                try decoding.check(shapes: shapes, classes: spec.classes.count, inputWidth: input.width, inputHeight: input.height)
            } catch let error as InputError {
                throw InputError("\(shown): \(error.message)")
            }
            // Graphs exported with a fixed batch dimension of 1 reject larger batches, or (with a
            // batch size baked into reshapes) mix the images' rows; run those one image at a time.
            let two = try? Self.outputShapes(net, input: input, batch: 2, displayPath: shown)
            maxBatchSize = two == shapes ? Int.max : 1
        } else {
            let one = try Self.dryRun(net, input: input, batch: 1, classes: spec.classes.count, displayPath: shown)
            guard one == spec.classes.count else {
                throw InputError("\(shown): the model outputs \(one) values per image, but the spec lists "
                                 + "\(spec.classes.count) classes")
            }
            maxBatchSize = (try? Self.dryRun(net, input: input, batch: 2, classes: spec.classes.count, displayPath: shown)) == one ? Int.max : 1
        }
    }

    public func makeWorker() throws -> any InferenceWorker {
        let net = try Self.load(spec.modelURL, displayPath: displayPath)
        if spec.decoding != nil { return OpenCVDNNDetectionWorker(net: net, spec: spec, input: input) }
        return OpenCVDNNWorker(net: net, spec: spec, input: input)
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
    static func dryRun(_ net: OpaquePointer, input: ModelSpec.Input, batch: Int, classes: Int, displayPath: String) throws -> Int {
        let shape = inputShape(input, batch: batch)
        let tensor = [Float](repeating: 0, count: shape.reduce(1, *))
        let capacity = batch * max(classes, 1) * 64
        var output = [Float](repeating: 0, count: capacity)
        var perSample = 0
        var error = cvb_error()
        let status = shape.map(Int32.init).withUnsafeBufferPointer { shapeBuffer in
            cvb_net_forward(net, tensor, shapeBuffer.baseAddress, &output, capacity, &perSample, &error)
        }
        if status != 0 {
            if perSample > 0 { return perSample }
            throw rejected(shape, error, displayPath)
        }
        return perSample
    }

    /// Forwards zeros; returns every output's shape without the batch dimension. Throws when an
    /// output does not have one entry per image of the batch.
    static func outputShapes(_ net: OpaquePointer, input: ModelSpec.Input, batch: Int, displayPath: String) throws -> [[Int]] {
        let shape = inputShape(input, batch: batch)
        let tensor = [Float](repeating: 0, count: shape.reduce(1, *))
        let forward = try Self.forwardAll(net, tensor: tensor, shape: shape, displayPath: displayPath)
        return try forward.shapes.map { dims in
            guard dims.first == batch else {
                throw InputError("\(displayPath): an output of shape \(dims.map(String.init).joined(separator: "×")) does not have one entry per image of a batch of \(batch)")
            }
            return Array(dims.dropFirst())
        }
    }

    static func rejected(_ shape: [Int], _ error: cvb_error, _ displayPath: String) -> InputError {
        let dims = shape.map(String.init).joined(separator: "x")
        return InputError("\(displayPath): the network rejects a \(dims) input (the spec's input "
                          + "size and layout): \(Bridge.message(error))")
    }

    /// Every output of a forward pass, with its full shape (batch first).
    static func forwardAll(_ net: OpaquePointer, tensor: [Float], shape: [Int], displayPath: String,
                           capacityHint: Int = 1 << 16) throws -> (shapes: [[Int]], values: [Float]) {
        let maxOutputs = 8
        var capacity = capacityHint
        while true {
            var output = [Float](repeating: 0, count: capacity)
            var shapes = [Int32](repeating: 0, count: maxOutputs * 8)
            var count: Int32 = 0
            var total = 0
            var error = cvb_error()
            let status = shape.map(Int32.init).withUnsafeBufferPointer { shapeBuffer in
                cvb_net_forward_outputs(net, tensor, shapeBuffer.baseAddress, &output, capacity, &shapes, Int32(maxOutputs),
                                        &count, &total, &error)
            }
            if status != 0 {
                if total > capacity {
                    capacity = total
                    continue
                }
                throw rejected(shape, error, displayPath)
            }
            let dims = (0..<Int(count)).map { k in
                (0..<Int(shapes[k * 8])).map { Int(shapes[k * 8 + 1 + $0]) }
            }
            output.removeLast(output.count - total)
            return (dims, output)
        }
    }

    static func inputShape(_ input: ModelSpec.Input, batch: Int) -> [Int] {
        input.layout == .nchw ? [batch, input.channels, input.height, input.width] : [batch, input.height, input.width, input.channels]
    }

    /// The input tensor of a batch, preprocessed as the spec says.
    static func tensor(_ inputs: [ModelInput], input: ModelSpec.Input, modelName: String) throws -> [Float] {
        let perImage = input.width * input.height * input.channels
        var tensor = [Float](repeating: 0, count: inputs.count * perImage)
        let preprocessing = input.preprocessing
        try tensor.withUnsafeMutableBufferPointer { buffer in
            for (index, item) in inputs.enumerated() {
                var p = preprocessing
                try Bridge.check("preprocessing for \(modelName)") { error in
                    cvb_preprocess_image(item.image.pointer, &p, buffer.baseAddress! + index * perImage, perImage, error)
                }
            }
        }
        return tensor
    }
}

/// One OpenCV network for a classifier; used by one thread at a time.
final class OpenCVDNNWorker: InferenceWorker {
    private let net: OpaquePointer
    private let spec: ModelSpec
    private let input: ModelSpec.Input

    init(net: OpaquePointer, spec: ModelSpec, input: ModelSpec.Input) {
        self.net = net
        self.spec = spec
        self.input = input
    }

    deinit { cvb_net_free(net) }

    func predict(_ inputs: [ModelInput]) throws -> [Prediction] {
        guard !inputs.isEmpty else { return [] }
        let tensor = try OpenCVDNNBackend.tensor(inputs, input: input, modelName: spec.name)
        let classes = spec.classes.count
        let shape = OpenCVDNNBackend.inputShape(input, batch: inputs.count).map(Int32.init)
        var output = [Float](repeating: 0, count: inputs.count * classes)
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
        let latency = elapsed / Double(inputs.count)
        return (0..<inputs.count).map { index in
            let row = output[(index * classes)..<((index + 1) * classes)]
            let probabilities = spec.outputKind == .logits ? softmax(row) : Array(row)
            return Prediction(probabilities: probabilities, latencyMs: latency)
        }
    }
}

/// One OpenCV network for a detector: forward, decode, map boxes back to each image, filter.
final class OpenCVDNNDetectionWorker: InferenceWorker {
    private let net: OpaquePointer
    private let spec: ModelSpec
    private let input: ModelSpec.Input
    private let decoding: DetectionDecoding
    private let postprocessing: DetectionPostprocessing
    private var capacityHint = 1 << 16

    init(net: OpaquePointer, spec: ModelSpec, input: ModelSpec.Input) {
        self.net = net
        self.spec = spec
        self.input = input
        decoding = spec.decoding!
        postprocessing = spec.postprocessing!
    }

    deinit { cvb_net_free(net) }

    func predict(_ inputs: [ModelInput]) throws -> [Prediction] {
        guard !inputs.isEmpty else { return [] }
        let tensor = try OpenCVDNNBackend.tensor(inputs, input: input, modelName: spec.name)
        let shape = OpenCVDNNBackend.inputShape(input, batch: inputs.count)
        let start = DispatchTime.now().uptimeNanoseconds
        let forward = try OpenCVDNNBackend.forwardAll(net, tensor: tensor, shape: shape, displayPath: spec.name,
                                                      capacityHint: capacityHint)
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        capacityHint = max(capacityHint, forward.values.count)
        let batch = inputs.count
        guard forward.shapes.allSatisfy({ $0.first == batch }) else {
            throw InputError("\(spec.name): the model's outputs \(forward.shapes) do not have one entry per image of a batch of \(batch)")
        }
        let latency = elapsed / Double(batch)
        let minScore = postprocessing.minScore ?? -Double.infinity
        return inputs.enumerated().map { index, item in
            var offset = 0
            let tensors = forward.shapes.map { dims -> DetectionDecoding.Tensor in
                let perImage = dims.dropFirst().reduce(1, *)
                let start = offset + index * perImage
                offset += perImage * batch
                return DetectionDecoding.Tensor(shape: Array(dims.dropFirst()), values: forward.values[start..<(start + perImage)])
            }
            let mapping = input.mapping(imageWidth: item.image.width, imageHeight: item.image.height)
            let decoded = decoding.decode(tensors, classes: spec.classes.count, inputWidth: input.width,
                                          inputHeight: input.height, minScore: minScore)
            let inImage = decoded.compactMap { detection in
                mapping.toImage(detection.box).map { Detection(classIndex: detection.classIndex, box: $0, score: detection.score) }
            }
            return Prediction(detections: DetectionFiltering.apply(postprocessing, to: inImage), latencyMs: latency)
        }
    }
}

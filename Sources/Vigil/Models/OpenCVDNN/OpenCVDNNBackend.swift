import CVBridge
import Foundation

/// The `format: onnx` section of a model spec: an ONNX graph beside the spec, how images become
/// its input (`ModelSpec.Input`), how its output is read (`ModelOutput`), and for detectors the
/// post-processing of their boxes.
///
/// ```yaml
/// format: onnx
/// file: model.onnx        # relative to the spec's folder
/// sha256: …               # of the file; required
/// input: {…}
/// output: {kind: logits}
/// postprocess: {…}        # detectors only
/// ```
public struct ONNXSpec: PreprocessingSettings, Hashable {
    public var file: ModelFile
    public var input: ModelSpec.Input
    public var output: ModelOutput
    public var postprocessing: DetectionPostprocessing?

    public var sha256: String? { file.sha256 }
    public var modelFile: ModelFile? { file }

    public var computationFields: [String] {
        input.key + output.computationFields + (postprocessing.map { ["postprocess=\($0.key)"] } ?? [])
    }
}

struct ONNXFormat: ModelFormat {
    let name = "onnx"
    let tasks: Set<VisionTask> = [.classification, .detection]
    let keys = ["file", "sha256", "input", "output", "postprocess"]

    func settings(from section: ModelSpecSection) throws -> any ModelSettings {
        ONNXSpec(file: try ModelFile.parse(section), input: try ModelSpec.parseInput(section.mapping.required("input")),
                 output: try ModelOutput.parse(section),
                 postprocessing: try DetectionPostprocessing.parse(section, defaults: .networkDefaults))
    }

    func backend(for spec: ModelSpec, displayPath: String?) async throws -> any InferenceBackend {
        try OpenCVDNNBackend(spec: spec, displayPath: displayPath)
    }
}

/// Runs ONNX classifiers and detectors with OpenCV's DNN module on the CPU.
///
/// Creating the backend checks the model thoroughly, so that problems surface before any image
/// is processed, each as one `InputError` line naming the file: the file is missing, its sha256
/// differs from the spec, OpenCV cannot import the graph (the unsupported operator is named when
/// OpenCV says which, with the served-model route for graphs it cannot run), the graph declares
/// an input shape the spec's input does not have, the graph rejects the spec's input size, a
/// classifier produces a different number of outputs than the spec has classes, or a detector's
/// output shapes do not fit its decoder (both shapes are named).
public struct OpenCVDNNBackend: InferenceBackend {
    /// Bumped whenever this backend's code changes what it computes (2: center-crop sizes and
    /// offsets follow torchvision's arithmetic).
    public static let version = "opencv-dnn/2"

    public let spec: ModelSpec
    public let identity: String
    public let maxBatchSize: Int
    /// Where the model is named in messages (path as the user gave it).
    let displayPath: String
    let settings: ONNXSpec
    var input: ModelSpec.Input { settings.input }
    let modelURL: URL
    /// What the file declares (nil when it cannot be read as an ONNX model beyond what OpenCV
    /// needed to load it).
    public let graph: ONNXGraph?
    public let checks: [String]
    public let footprint: ModelFootprint

    public var classes: [String] { spec.classes }

    public var interface: [String] {
        guard let graph else { return ["(the file's declarations could not be read)"] }
        let opsets = graph.opsets.sorted { $0.key < $1.key }.map { "\($0.key.isEmpty ? "ai.onnx" : $0.key) \($0.value)" }
        var lines = ["graph: opset \(opsets.joined(separator: ", ")) · \(graph.operators.count) nodes"
                     + (graph.producer.isEmpty ? "" : " · made by \(graph.producer)")]
        lines += graph.inputs.map { "input  \($0.summary)" }
        lines += graph.outputs.map { output in
            "output \(output.summary)" + (graph.producingOperators[output.name].map { " ← \($0)" } ?? "")
        }
        return lines
    }

    public init(spec: ModelSpec, displayPath: String? = nil) throws {
        let settings = spec.settings(as: ONNXSpec.self)
        self.spec = spec
        self.settings = settings
        modelURL = settings.file.url(in: spec)
        let shown = displayPath ?? DisplayPath.of(modelURL)
        self.displayPath = shown
        try settings.file.check(in: spec, shown: shown)
        var checks = [settings.file.sha256.map { "model file found, sha256 \($0.prefix(12))… matches" } ?? "model file found"]
        identity = Backends.identity(version: Self.version, spec: spec)

        let net = try Self.load(modelURL, displayPath: shown)
        defer { cvb_net_free(net) }
        checks.append("OpenCV \(OpenCV.version) imports the graph")
        graph = try? ONNXGraph.read(modelURL)
        let input = settings.input
        if let graph {
            try Self.checkDeclaredInput(graph, input: input, displayPath: shown)
            if let declared = graph.inputs.first?.shape {
                checks.append("the graph's declared input [\(declared.map(\.description).joined(separator: ", "))] takes the spec's "
                              + input.shape(batch: 1).map(String.init).joined(separator: "×"))
            }
        }
        if let decoding = settings.output.decoding {
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
            checks.append("output shapes \(shapes.map { $0.map(String.init).joined(separator: "×") }.joined(separator: ", ")) fit decoder \(decoding.decoder.rawValue)")
        } else {
            let one = try Self.dryRun(net, input: input, batch: 1, classes: spec.classes.count, displayPath: shown)
            guard one == spec.classes.count else {
                throw InputError("\(shown): the model outputs \(one) values per image, but the spec lists "
                                 + "\(spec.classes.count) classes")
            }
            maxBatchSize = (try? Self.dryRun(net, input: input, batch: 2, classes: spec.classes.count, displayPath: shown)) == one ? Int.max : 1
            checks.append("\(one) outputs per image for \(spec.classes.count) classes")
        }
        checks.append(maxBatchSize == 1 ? "batches: one image per forward pass (the graph does not run larger batches in OpenCV)"
                                        : "batches: several images per forward pass")
        self.checks = checks
        footprint = Self.footprint(net, file: modelURL, input: input)
    }

    /// The file's size, and OpenCV's accounting of weights and blobs for one image of the spec's
    /// input size (`Net::getMemoryConsumption`).
    static func footprint(_ net: OpaquePointer, file: URL, input: ModelSpec.Input) -> ModelFootprint {
        let (size, sizeNote) = ModelFootprint.fileSize(file)
        var weights = 0, blobs = 0
        var error = cvb_error()
        let shape = input.shape(batch: 1).map(Int32.init)
        guard cvb_net_memory(net, shape, &weights, &blobs, &error) == 0 else {
            return ModelFootprint(sizeMB: size, sizeNote: sizeNote, memoryNote: "OpenCV could not account it: \(Bridge.message(error))")
        }
        return ModelFootprint(sizeMB: size, weightsMB: Double(weights) / ModelFootprint.bytesPerMB,
                              blobsMB: Double(blobs) / ModelFootprint.bytesPerMB, sizeNote: sizeNote)
    }

    public func makeWorker() throws -> any InferenceWorker {
        let net = try Self.load(modelURL, displayPath: displayPath)
        if let decoding = settings.output.decoding {
            return OpenCVDNNDetectionWorker(net: net, spec: spec, input: input, decoding: decoding,
                                            postprocessing: settings.postprocessing ?? .networkDefaults)
        }
        return OpenCVDNNWorker(net: net, spec: spec, input: input,
                               reader: ClassifierOutputReader(kind: settings.output.kind, classes: spec.classes.count, model: spec.shownPath))
    }

    /// Refuses a spec whose input the graph's declared input does not take: a static channel
    /// count, height or width (or a batch size other than 1 is fine: batches are split).
    static func checkDeclaredInput(_ graph: ONNXGraph, input: ModelSpec.Input, displayPath: String) throws {
        guard graph.inputs.count == 1, let declared = graph.inputs[0].shape, declared.count == 4 else { return }
        let wanted = input.shape(batch: 1)
        let mismatched = (1..<4).contains { axis in declared[axis].size.map { $0 != wanted[axis] } ?? false }
        guard mismatched else { return }
        let graphShape = declared.map(\.description).joined(separator: "×")
        let specShape = wanted.map(String.init).joined(separator: "×")
        throw InputError("\(displayPath): the graph's input '\(graph.inputs[0].name)' is \(graphShape) (\(input.layout.rawValue)), but the spec's input is \(specShape) "
                         + "(width \(input.width), height \(input.height), color \(input.color.rawValue)); make the spec's input section match the graph")
    }

    static func load(_ url: URL, displayPath: String) throws -> OpaquePointer {
        var error = cvb_error()
        if let net = cvb_net_load_onnx(url.path, &error) { return net }
        let message = Bridge.message(error)
        if let op = failingOperator(in: message) {
            throw InputError("\(displayPath): OpenCV \(OpenCV.version) cannot import this ONNX model's "
                             + "'\(op)' operator: \(message) — serve it with onnxruntime behind a KServe v2 server and use format: kserve-v2 (see README, Served models)")
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
        let shape = input.shape(batch: batch)
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
        let shape = input.shape(batch: batch)
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
        let dims = shape.map(String.init).joined(separator: "×")
        var reason = Bridge.message(error)
        // OpenCV's failed shape checks are C++ assertions ("srcMat.dims == 2 && srcMat.cols ==
        // weights.cols && …", hundreds of characters) that say nothing a spec's author can act on.
        if reason.contains("==") || reason.contains("&&") || reason.count > 160 {
            reason = "a layer's shape check failed; the graph was built for another input size or layout"
        }
        return InputError("\(displayPath): the network rejects a \(dims) input (the spec's input size and layout): \(reason)")
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
}

/// One OpenCV network for a classifier; used by one thread at a time.
final class OpenCVDNNWorker: InferenceWorker {
    private let net: OpaquePointer
    private let spec: ModelSpec
    private let input: ModelSpec.Input
    private var reader: ClassifierOutputReader

    init(net: OpaquePointer, spec: ModelSpec, input: ModelSpec.Input, reader: ClassifierOutputReader) {
        self.net = net
        self.spec = spec
        self.input = input
        self.reader = reader
    }

    deinit { cvb_net_free(net) }

    func predict(_ inputs: [ModelInput]) throws -> [Prediction] {
        guard !inputs.isEmpty else { return [] }
        let tensor = try input.tensor(inputs.map(\.image), model: spec.name)
        let classes = spec.classes.count
        let shape = input.shape(batch: inputs.count).map(Int32.init)
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
        return try reader.probabilities(output, for: inputs).map { Prediction(probabilities: $0, latencyMs: latency) }
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

    init(net: OpaquePointer, spec: ModelSpec, input: ModelSpec.Input, decoding: DetectionDecoding,
         postprocessing: DetectionPostprocessing) {
        self.net = net
        self.spec = spec
        self.input = input
        self.decoding = decoding
        self.postprocessing = postprocessing
    }

    deinit { cvb_net_free(net) }

    func predict(_ inputs: [ModelInput]) throws -> [Prediction] {
        guard !inputs.isEmpty else { return [] }
        let tensor = try input.tensor(inputs.map(\.image), model: spec.name)
        let shape = input.shape(batch: inputs.count)
        let start = DispatchTime.now().uptimeNanoseconds
        let forward = try OpenCVDNNBackend.forwardAll(net, tensor: tensor, shape: shape, displayPath: spec.name,
                                                      capacityHint: capacityHint)
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        capacityHint = max(capacityHint, forward.values.count)
        let batch = inputs.count
        guard forward.shapes.allSatisfy({ $0.first == batch }) else {
            throw InputError("\(spec.name): the model's outputs \(forward.shapes) do not have one entry per image of a batch of \(batch)")
        }
        try DetectionDecoding.checkFinite(forward.values, shapes: forward.shapes, inputs: inputs, model: spec.shownPath)
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

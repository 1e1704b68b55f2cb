import Foundation
import NIOCore

/// The `format: kserve-v2` section of a model spec: a model served over the Open Inference
/// Protocol (Triton, KServe, Seldon MLServer, TorchServe in KServe mode, OpenVINO Model Server),
/// often on GPUs. Vigil preprocesses the images with the same code as for local ONNX models
/// (`input:`), sends FP32 tensors, and reads the outputs with the same decoding (`output:`).
///
/// ```yaml
/// format: kserve-v2
/// url: ${KSERVE_URL:-http://127.0.0.1:8080}   # ${VAR} and ${VAR:-default} are expanded
/// model: resnet50
/// model_version: "3"          # optional
/// sha256: …                   # optional: the file the server serves, recorded and keyed
/// input_tensor: input         # optional: for servers whose metadata lists no tensors
/// output_tensor: logits       # optional (classifiers: the one output read)
/// concurrency: 4              # requests in flight at most (default 4)
/// max_batch_size: 8           # images per request at most (default: the server's, else 8)
/// timeout: 60                 # seconds per request (default 60)
/// retries: 3                  # on connection errors and 5xx, with backoff (default 3)
/// binary: true                # binary tensor data extension (default); false: JSON only
/// input: {…}                  # as for ONNX models
/// output: {kind: logits}
/// ```
///
/// What "the same model" means for a served model: outcomes are reused only under the same
/// identity, which covers the model's name and version, the server's metadata (platform,
/// versions, tensor names, types and shapes), the pinned `sha256` when given, and everything
/// in the spec that changes the outputs (preprocessing, decoding, classes). The URL is not part
/// of it: the same model served elsewhere is the same model. Without a `sha256` pin, a server
/// that swaps the weights behind the same name and metadata is not noticed; pin it when the
/// file is known.
public struct KServeSpec: PreprocessingSettings, ClassifierOutputSettings, Hashable {
    /// The server's base URL, environment variables expanded.
    public var url: String
    public var model: String
    public var modelVersion: String?
    public var sha256: String?
    public var inputTensor: String?
    public var outputTensor: String?
    public var concurrency: Int
    public var maxBatchSize: Int?
    public var timeoutSeconds: Int
    public var retries: Int
    public var binary: Bool
    public var input: ModelSpec.Input
    public var output: ModelOutput
    public var postprocessing: DetectionPostprocessing?

    /// Fields that change outputs; not the URL, concurrency, batching, timeouts or encoding.
    public var computationFields: [String] {
        ["served=\(model)", "version=\(modelVersion ?? "-")"] + input.key + output.computationFields
            + (postprocessing.map { ["postprocess=\($0.key)"] } ?? [])
    }
}

struct KServeV2Format: ModelFormat {
    let name = "kserve-v2"
    let tasks: Set<VisionTask> = [.classification, .detection]
    let keys = ["url", "model", "model_version", "sha256", "input_tensor", "output_tensor", "concurrency", "max_batch_size",
                "timeout", "retries", "binary", "input", "output", "postprocess"]

    func settings(from section: ModelSpecSection) throws -> any ModelSettings {
        guard let rawURL = try section.string("url") else { throw section.error("url", "the model spec is missing 'url' (e.g. http://127.0.0.1:8080)") }
        let url = try Self.expand(rawURL, section: section)
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
            throw section.error("url", "url '\(url)' is not an http(s) URL like http://127.0.0.1:8080")
        }
        guard let model = try section.string("model"), !model.isEmpty else {
            throw section.error("model", "the model spec is missing 'model' (the served model's name)")
        }
        return KServeSpec(
            url: url.hasSuffix("/") ? String(url.dropLast()) : url, model: model,
            modelVersion: try section.string("model_version"), sha256: try section.sha256(required: false),
            inputTensor: try section.string("input_tensor"), outputTensor: try section.string("output_tensor"),
            concurrency: try section.int("concurrency", in: 1...256) ?? 4,
            maxBatchSize: try section.int("max_batch_size", in: 1...4096),
            timeoutSeconds: try section.int("timeout", in: 1...3600) ?? 60,
            retries: try section.int("retries", in: 0...10) ?? 3,
            binary: try section.bool("binary") ?? true,
            input: try ModelSpec.parseInput(section.mapping.required("input")),
            output: try ModelOutput.parse(section),
            postprocessing: try DetectionPostprocessing.parse(section, defaults: .networkDefaults))
    }

    /// `${NAME}` and `${NAME:-default}` from the environment; an unset variable without a
    /// default is an error naming it.
    static func expand(_ text: String, section: ModelSpecSection) throws -> String {
        var result = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            result += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                throw section.error("url", "url has '${' without a closing '}'")
            }
            let expression = rest[start.upperBound..<end]
            let parts = expression.split(separator: ":-", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0])
            if let value = ProcessInfo.processInfo.environment[name], !value.isEmpty {
                result += value
            } else if parts.count == 2 {
                result += parts[1]
            } else {
                throw section.error("url", "url uses ${\(name)}, which is not set (write ${\(name):-http://…} for a default)")
            }
            rest = rest[rest.index(after: end)...]
        }
        return result + rest
    }

    func backend(for spec: ModelSpec, displayPath: String?) async throws -> any InferenceBackend {
        try await KServeBackend(spec: spec)
    }
}

/// Runs a model served over the Open Inference Protocol.
///
/// Creating the backend asks the server for the model's metadata and readiness, checks its
/// tensors against the spec (input shape against the spec's input, both named; a classifier's
/// output size against its classes) and sends one probe request, so an unreachable server, an
/// unknown or unready model and a spec that does not fit fail before any image is processed.
/// Workers split their batch into requests of at most `maxBatchSize` images and keep up to
/// `concurrency` requests in flight (shared by all workers). Latency is per request (network
/// and server included) divided by its images.
public struct KServeBackend: InferenceBackend {
    public static let version = "kserve-v2/1"

    public var footprint: ModelFootprint {
        ModelFootprint(sizeNote: "a served model: its file is on the server", memoryNote: "a served model: its memory is the server's")
    }

    public let spec: ModelSpec
    public let identity: String
    public var classes: [String] { spec.classes }
    /// Workers take any batch and split it themselves into requests of `requestBatch`.
    public var maxBatchSize: Int { Int.max }
    public let checks: [String]
    public let interface: [String]

    let settings: KServeSpec
    let client: KServeClient
    let inputName: String
    /// The outputs requested, in the order the decoding reads them.
    let outputNames: [String]
    let requestBatch: Int
    let binary: Bool
    let limiter: RequestLimiter

    public init(spec: ModelSpec) async throws {
        let settings = spec.settings(as: KServeSpec.self)
        let client = KServeClient(baseURL: settings.url, model: settings.model, version: settings.modelVersion,
                                  timeout: .seconds(Int64(settings.timeoutSeconds)), retries: settings.retries)
        let metadata = try await client.metadata()
        let input = settings.input
        var checks = ["\(client.shown) is ready"]
        var interface = ["server model \(metadata.name)" + (metadata.platform.map { $0.isEmpty ? "" : ", platform \($0)" } ?? "")
                         + (metadata.versions.map { $0.isEmpty ? "" : ", versions \($0.joined(separator: ", "))" } ?? "")]
        interface += (metadata.inputs ?? []).map { "input  \($0.name): \($0.datatype) \($0.shape)" }
        interface += (metadata.outputs ?? []).map { "output \($0.name): \($0.datatype) \($0.shape)" }

        // The input tensor: named by the spec, else the metadata's only input.
        let inputs = metadata.inputs ?? []
        let declaredInput: KServeClient.TensorMetadata?
        if let name = settings.inputTensor {
            declaredInput = inputs.first { $0.name == name }
            if declaredInput == nil, !inputs.isEmpty {
                throw InputError("\(client.shown): the server's model has no input '\(name)' (its inputs: \(inputs.map(\.name).joined(separator: ", "))); fix input_tensor in \(spec.shownPath)")
            }
            inputName = name
        } else {
            guard inputs.count == 1 else {
                throw InputError("\(client.shown): the metadata lists \(inputs.isEmpty ? "no inputs" : "\(inputs.count) inputs (\(inputs.map(\.name).joined(separator: ", ")))"); name the one to feed with input_tensor in \(spec.shownPath)")
            }
            declaredInput = inputs[0]
            inputName = inputs[0].name
        }
        let wanted = input.shape(batch: 1)
        var serverBatch: Int?
        if let declared = declaredInput {
            guard declared.datatype == "FP32" else {
                throw InputError("\(client.shown): input '\(declared.name)' is \(declared.datatype); Vigil sends FP32 tensors")
            }
            let fits = declared.shape.count == 4 && (1..<4).allSatisfy { declared.shape[$0] < 0 || declared.shape[$0] == wanted[$0] }
            guard fits else {
                throw InputError("\(client.shown): the server's input '\(declared.name)' is \(Self.shape(declared.shape)), but the spec's input is \(Self.shape(wanted)) "
                                 + "(\(input.layout.rawValue), width \(input.width), height \(input.height), color \(input.color.rawValue)); make the spec's input section match the model")
            }
            if declared.shape[0] > 0 { serverBatch = declared.shape[0] }
            checks.append("the server's input '\(declared.name)' \(Self.shape(declared.shape)) takes the spec's \(Self.shape(wanted))")
        }

        // The outputs: classifiers read one (named, or the only one); detectors read all.
        let outputs = metadata.outputs ?? []
        if let name = settings.outputTensor {
            if !outputs.isEmpty, !outputs.contains(where: { $0.name == name }) {
                throw InputError("\(client.shown): the server's model has no output '\(name)' (its outputs: \(outputs.map(\.name).joined(separator: ", "))); fix output_tensor in \(spec.shownPath)")
            }
            outputNames = [name]
        } else if settings.output.decoding != nil {
            outputNames = outputs.map(\.name)
        } else {
            guard outputs.count == 1 else {
                throw InputError("\(client.shown): the metadata lists \(outputs.isEmpty ? "no outputs" : "\(outputs.count) outputs (\(outputs.map(\.name).joined(separator: ", ")))"); name the class scores with output_tensor in \(spec.shownPath)")
            }
            outputNames = [outputs[0].name]
        }
        requestBatch = min(settings.maxBatchSize ?? serverBatch ?? 8, serverBatch ?? Int.max)

        // One probe request: the encoding the server accepts, and the output's shape.
        let probe = [Float](repeating: 0, count: wanted.reduce(1, *))
        var binary = settings.binary
        var tensors: [KServeClient.Tensor]
        do {
            tensors = try await client.infer(input: inputName, shape: wanted, values: probe, outputs: outputNames, binary: binary)
        } catch let refused as KServeClient.InferenceRefused where binary && (400..<500).contains(refused.status) {
            // Servers without the binary extension refuse such requests; JSON is the fallback.
            do {
                tensors = try await client.infer(input: inputName, shape: wanted, values: probe, outputs: outputNames, binary: false)
                binary = false
                checks.append("binary tensors refused (\(refused.status): \(refused.message)); JSON is used")
            } catch let json as KServeClient.InferenceRefused {
                throw InputError("\(client.shown): the server refuses a \(Self.shape(wanted)) input (\(json.status): \(json.message))")
            }
        } catch let refused as KServeClient.InferenceRefused {
            throw InputError("\(client.shown): the server refuses a \(Self.shape(wanted)) input (\(refused.status): \(refused.message))")
        }
        self.binary = binary
        if binary { checks.append("binary tensor data extension for requests and responses") }
        if let decoding = settings.output.decoding {
            let shapes = tensors.map { Array($0.shape.dropFirst()) }
            do {
                try decoding.check(shapes: shapes, classes: spec.classes.count, inputWidth: input.width, inputHeight: input.height)
            } catch let error as InputError {
                throw InputError("\(client.shown): \(error.message)")
            }
            checks.append("output shapes \(shapes.map { $0.map(String.init).joined(separator: "×") }.joined(separator: ", ")) fit decoder \(decoding.decoder.rawValue)")
        } else {
            let scoresName = outputNames[0]
            guard let scores = tensors.first(where: { $0.name == scoresName }) ?? tensors.first else {
                throw InputError("\(client.shown): the probe response has no outputs")
            }
            let perImage = scores.values.count
            guard perImage == spec.classes.count else {
                throw InputError("\(client.shown): the model outputs \(perImage) values per image (shape \(scores.shape)), but \(spec.shownPath) lists \(spec.classes.count) classes")
            }
            checks.append("\(perImage) outputs per image for \(spec.classes.count) classes")
        }
        checks.append("requests of at most \(requestBatch) image\(requestBatch == 1 ? "" : "s"), \(settings.concurrency) in flight")

        self.spec = spec
        self.settings = settings
        self.client = client
        self.checks = checks
        self.interface = interface
        limiter = RequestLimiter(limit: settings.concurrency)
        // The server's metadata names what it serves; the URL is not part of the identity.
        let served = (try? String(decoding: Self.canonicalEncoder.encode(metadata), as: UTF8.self)) ?? ""
        identity = Backends.identity(version: "\(Self.version)|metadata=\(served)", spec: spec)
    }

    static let canonicalEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    static func shape(_ dims: [Int]) -> String {
        dims.map { $0 < 0 ? "?" : "\($0)" }.joined(separator: "×")
    }

    public func makeWorker() throws -> any InferenceWorker {
        KServeWorker(backend: self)
    }
}

/// Sends one worker's batches to the server, in requests of the backend's batch size, several
/// at a time within the backend's shared limit.
final class KServeWorker: InferenceWorker {
    let backend: KServeBackend
    private var reader: ClassifierOutputReader

    init(backend: KServeBackend) {
        self.backend = backend
        reader = ClassifierOutputReader(kind: backend.settings.output.kind, classes: backend.spec.classes.count,
                                        model: backend.spec.shownPath)
    }

    struct Reply: Sendable {
        var tensors: [KServeClient.Tensor]
        var latencyMs: Double
    }

    func predict(_ inputs: [ModelInput]) async throws -> [Prediction] {
        guard !inputs.isEmpty else { return [] }
        let backend = self.backend
        let input = backend.settings.input
        let chunks = stride(from: 0, to: inputs.count, by: backend.requestBatch).map { $0..<min($0 + backend.requestBatch, inputs.count) }
        let perImage = input.width * input.height * input.channels
        let tensor = try input.tensor(inputs.map(\.image), model: backend.spec.name)
        let replies = try await withThrowingTaskGroup(of: (Int, Reply).self) { group in
            for (index, range) in chunks.enumerated() {
                let values = Array(tensor[(range.lowerBound * perImage)..<(range.upperBound * perImage)])
                let samples = inputs[range].map { ClassifierOutputReader.describe($0) }
                group.addTask {
                    try await backend.limiter.run {
                        let start = DispatchTime.now().uptimeNanoseconds
                        let tensors: [KServeClient.Tensor]
                        do {
                            tensors = try await backend.client.infer(input: backend.inputName, shape: input.shape(batch: range.count), values: values,
                                                                     outputs: backend.outputNames, binary: backend.binary)
                        } catch let refused as KServeClient.InferenceRefused {
                            throw InputError("\(backend.client.shown): inference failed for \(samples.first ?? "")\(range.count > 1 ? " and \(range.count - 1) more" : "") (\(refused.status): \(refused.message))")
                        }
                        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                        return (index, Reply(tensors: tensors, latencyMs: elapsed / Double(range.count)))
                    }
                }
            }
            var replies = [Reply?](repeating: nil, count: chunks.count)
            for try await (index, reply) in group { replies[index] = reply }
            return replies.map { $0! }
        }
        var predictions: [Prediction] = []
        for (range, reply) in zip(chunks, replies) {
            let batch = Array(inputs[range])
            for tensor in reply.tensors where tensor.shape.first != range.count {
                throw InputError("\(backend.client.shown): output '\(tensor.name)' has shape \(tensor.shape) for a request of \(range.count) image\(range.count == 1 ? "" : "s")")
            }
            if let decoding = backend.settings.output.decoding {
                let ordered = backend.outputNames.compactMap { name in reply.tensors.first { $0.name == name } }
                let tensors = ordered.isEmpty ? reply.tensors : ordered
                try DetectionDecoding.checkFinite(tensors.flatMap(\.values), shapes: tensors.map(\.shape), inputs: batch, model: backend.spec.shownPath)
                for (offset, item) in batch.enumerated() {
                    let perImageTensors = tensors.map { t -> DetectionDecoding.Tensor in
                        let size = t.values.count / range.count
                        return DetectionDecoding.Tensor(shape: Array(t.shape.dropFirst()), values: t.values[(offset * size)..<((offset + 1) * size)])
                    }
                    let mapping = input.mapping(imageWidth: item.image.width, imageHeight: item.image.height)
                    let decoded = decoding.decode(perImageTensors, classes: backend.spec.classes.count, inputWidth: input.width,
                                                  inputHeight: input.height, minScore: backend.settings.postprocessing?.minScore ?? -Double.infinity)
                    let inImage = decoded.compactMap { d in mapping.toImage(d.box).map { Detection(classIndex: d.classIndex, box: $0, score: d.score) } }
                    predictions.append(Prediction(detections: DetectionFiltering.apply(backend.settings.postprocessing ?? .networkDefaults, to: inImage),
                                                  latencyMs: reply.latencyMs))
                }
            } else {
                let scores = reply.tensors.first { $0.name == backend.outputNames[0] } ?? reply.tensors[0]
                guard scores.values.count == range.count * backend.spec.classes.count else {
                    throw InputError("\(backend.client.shown): output '\(scores.name)' has shape \(scores.shape), not \(range.count)×\(backend.spec.classes.count)")
                }
                predictions += try reader.probabilities(scores.values, for: batch).map { Prediction(probabilities: $0, latencyMs: reply.latencyMs) }
            }
        }
        return predictions
    }
}

/// At most `limit` bodies running at once, across all the tasks that share it (a counting
/// semaphore for async code, first come first served).
actor RequestLimiter {
    let limit: Int
    private var running = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) {
        self.limit = limit
    }

    func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        if running >= limit {
            await withCheckedContinuation { waiting.append($0) }
        } else {
            running += 1
        }
        defer { release() }
        return try await body()
    }

    private func release() {
        if waiting.isEmpty {
            running -= 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}

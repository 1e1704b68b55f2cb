import CVBridge
import Foundation
import Testing
import VigilTestSupport
@testable import Vigil

/// Input tensors (numpy) and logits (onnxruntime) from Scripts/make_test_fixtures.py.
struct ONNXReference: Decodable {
    struct Entry: Decodable {
        var sample: String
        var path: String
        var input: [Float]
        var logits: [Float]
    }
    var model: String
    var side: Int
    var samples: [Entry]

    static let all: [String: ONNXReference] = {
        let data = try! Data(contentsOf: Repository.fixture("onnx_reference.json"))
        return try! JSONDecoder().decode([String: ONNXReference].self, from: data)
    }()
}

@Suite("OpenCV DNN backend against onnxruntime, and its load errors")
struct BackendTests {
    static let models = ["mnist-cnn", "digits-mlp"]

    func spec(_ name: String) throws -> ModelSpec {
        try ModelSpec.load(Repository.url("Models/\(name)/model.yaml"))
    }

    /// OpenCV's forward pass on the reference input equals onnxruntime's within float32 noise.
    @Test(arguments: models)
    func forwardMatchesOnnxruntime(_ name: String) throws {
        let reference = try #require(ONNXReference.all[name])
        let spec = try spec(name)
        let net = try OpenCVDNNBackend.load(spec.settings(as: ONNXSpec.self).file.url(in: spec), displayPath: name)
        defer { cvb_net_free(net) }
        for entry in reference.samples {
            var output = [Float](repeating: 0, count: 10)
            var perSample = 0
            var error = cvb_error()
            let shape: [Int32] = [1, 1, Int32(reference.side), Int32(reference.side)]
            #expect(cvb_net_forward(net, entry.input, shape, &output, 10, &perSample, &error) == 0)
            #expect(perSample == 10)
            let worst = zip(output, entry.logits).map { abs($0 - $1) }.max()!
            #expect(worst < 1e-4, "\(name) \(entry.sample): largest logit difference \(worst)")
        }
    }

    /// The footprint: the file's size, and OpenCV's accounting of the weights (for these
    /// float32 graphs about the file's size, which is almost all weights) and of the
    /// intermediate blobs at the spec's input size; formats that cannot know say why.
    @Test(arguments: models)
    func footprintIsTheFileAndOpenCVsAccounting(_ name: String) throws {
        let spec = try spec(name)
        let file = spec.settings(as: ONNXSpec.self).file.url(in: spec)
        let bytes = try #require(try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? NSNumber).doubleValue
        let footprint = try OpenCVDNNBackend(spec: spec).footprint
        #expect(footprint.sizeMB == bytes / 1_048_576)
        let weights = try #require(footprint.weightsMB), blobs = try #require(footprint.blobsMB)
        #expect(abs(weights / (bytes / 1_048_576) - 1) < 0.1, "\(name): weights \(weights) MB for a \(bytes / 1_048_576) MB file")
        #expect(blobs > 0 && blobs < weights, "\(name): blobs \(blobs) MB")
        #expect(footprint.memoryMB == weights + blobs)
        #expect(footprint.sizeNote == nil && footprint.memoryNote == nil)
        let cascade = try CascadeBackend(spec: ModelSpec.load(Repository.url("Models/haar-frontalface/model.yaml"))).footprint
        #expect(cascade.sizeMB != nil && cascade.memoryMB == nil)
        #expect(cascade.memoryNote == "OpenCV's cascade classifier does not account its memory")
    }

    /// Vigil's preprocessing (decode, resize, scale, normalise) gives numpy's tensor.
    @Test(arguments: models)
    func preprocessingMatchesNumpy(_ name: String) throws {
        let reference = try #require(ONNXReference.all[name])
        var p = try spec(name).input!.preprocessing
        for entry in reference.samples {
            let image = try Image(contentsOf: Repository.url("GoldenSets/digits/\(entry.path)"))
            var tensor = [Float](repeating: 0, count: entry.input.count)
            #expect(cvb_preprocess_image(image.pointer, &p, &tensor, tensor.count, nil) == 0)
            let worst = zip(tensor, entry.input).map { abs($0 - $1) }.max()!
            #expect(worst < 1e-4, "\(name) \(entry.sample): largest input difference \(worst)")
        }
    }

    /// End to end through the worker API: same argmax as onnxruntime, probabilities summing to 1,
    /// and batching does not change the answer.
    @Test(arguments: models)
    func workerPredictionsMatchReference(_ name: String) async throws {
        let reference = try #require(ONNXReference.all[name])
        let backend = try OpenCVDNNBackend(spec: spec(name))
        #expect(backend.maxBatchSize > 1)
        let worker = try backend.makeWorker()
        let images = try reference.samples.map { try Image(contentsOf: Repository.url("GoldenSets/digits/\($0.path)")) }
        let batched = try await worker.predict(images)
        var single: [Prediction] = []
        for image in images { single += try await worker.predict([image]) }
        for (index, entry) in reference.samples.enumerated() {
            let expected = entry.logits.indices.max { entry.logits[$0] < entry.logits[$1] }!
            let outcome = Outcome(sampleID: entry.sample, label: 0, probabilities: batched[index].probabilities, latencyMs: 0)
            #expect(outcome.predicted == expected)
            #expect(abs(batched[index].probabilities.reduce(0, +) - 1) < 1e-5)
            let worst = zip(batched[index].probabilities, single[index].probabilities).map { abs($0 - $1) }.max()!
            #expect(worst < 1e-5)
            #expect(batched[index].latencyMs > 0)
        }
    }

    /// The preprocessing modes place pixels where their definitions say.
    @Test func resizeModes() throws {
        // A 4×2 white image on a 8×8 input.
        let image = try Image(width: 4, height: 2, channels: 1, pixels: Array(repeating: 255, count: 8))
        func tensor(_ mode: ModelSpec.ResizeMode) throws -> [Float] {
            var spec = try self.spec("mnist-cnn")
            spec.input = .init(width: 8, height: 8, layout: .nchw, color: .gray, resize: mode, anchor: .center,
                               interpolation: .nearest, padValue: 0, scale: 1.0 / 255, mean: [0], std: [1])
            var p = spec.input!.preprocessing
            var out = [Float](repeating: -1, count: 64)
            #expect(cvb_preprocess_image(image.pointer, &p, &out, 64, nil) == 0)
            return out
        }
        let ones = { (t: [Float]) in t.filter { $0 == 1 }.count }
        #expect(ones(try tensor(.stretch)) == 64)
        #expect(ones(try tensor(.pad)) == 8)            // unscaled 4×2, centred
        #expect(try tensor(.pad)[3 * 8 + 2] == 1)        // rows 3-4, columns 2-5
        #expect(ones(try tensor(.letterbox)) == 32)     // scaled ×2 to 8×4
        #expect(ones(try tensor(.centerCrop)) == 64)    // scaled ×4 to 16×8, centre 8×8 cut
    }

    @Test func colourImagesConvertToTheSpecsOrder() throws {
        // One pixel, BGR = (10, 20, 30).
        let image = try Image(width: 1, height: 1, channels: 3, pixels: [10, 20, 30])
        var spec = try self.spec("mnist-cnn")
        spec.input = .init(width: 1, height: 1, layout: .nchw, color: .rgb, resize: .stretch, anchor: .center,
                           interpolation: .linear, padValue: 0, scale: 1, mean: [0, 0, 0], std: [1, 1, 1])
        var p = spec.input!.preprocessing
        var out = [Float](repeating: 0, count: 3)
        #expect(cvb_preprocess_image(image.pointer, &p, &out, 3, nil) == 0)
        #expect(out == [30, 20, 10])
    }

    // MARK: - Load errors: one line naming the file and the cause.

    /// A spec in `folder` for a copy of `model` (nothing is copied when it does not exist).
    func specFile(in folder: URL, model: URL, sha256: String? = nil, side: Int = 28, classes: Int = 10) throws -> ModelSpec {
        let name = model.lastPathComponent
        let copy = folder.appendingPathComponent(name)
        if FileManager.default.fileExists(atPath: model.path), !FileManager.default.fileExists(atPath: copy.path) {
            try FileManager.default.copyItem(at: model, to: copy)
        }
        let sha = try sha256 ?? SHA256.hex(ofFile: copy)
        let text = """
            name: broken
            task: classification
            format: onnx
            file: \(name)
            sha256: \(sha)
            input: {width: \(side), height: \(side), color: gray, resize: stretch}
            output: {kind: logits}
            classes: [\((0..<classes).map { "\"c\($0)\"" }.joined(separator: ", "))]
            """
        let url = folder.appendingPathComponent("spec.yaml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return try ModelSpec.load(url)
    }

    @Test func loadErrors() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let mnist = Repository.url("Models/mnist-cnn/mnist_cnn.onnx")

        let missing = inputError { _ = try OpenCVDNNBackend(spec: specFile(in: folder, model: folder.appendingPathComponent("gone.onnx"),
                                                                             sha256: String(repeating: "0", count: 64)), displayPath: "gone.onnx") }
        #expect(missing.hasPrefix("gone.onnx: model file not found (named by "))

        let wrongHash = inputError { _ = try OpenCVDNNBackend(spec: specFile(in: folder, model: mnist, sha256: String(repeating: "0", count: 64)), displayPath: "m.onnx") }
        #expect(wrongHash.hasPrefix("m.onnx: sha256 is eb378a84"))
        #expect(wrongHash.contains("but the model spec says 0000"))

        let einsum = inputError { _ = try OpenCVDNNBackend(spec: specFile(in: folder, model: Repository.fixture("einsum.onnx")), displayPath: "einsum.onnx") }
        #expect(einsum.hasPrefix("einsum.onnx: OpenCV 4.6.0 cannot import this ONNX model's 'Einsum' operator: "), "\(einsum)")
        #expect(!einsum.contains("\n"))

        let notONNX = inputError { _ = try OpenCVDNNBackend(spec: specFile(in: folder, model: Repository.fixture("not_onnx.onnx")), displayPath: "not_onnx.onnx") }
        #expect(notONNX.hasPrefix("not_onnx.onnx: OpenCV 4.6.0 cannot load this ONNX model: "), "\(notONNX)")

        let classes = inputError { _ = try OpenCVDNNBackend(spec: specFile(in: folder, model: mnist, classes: 12), displayPath: "m.onnx") }
        #expect(classes == "m.onnx: the model outputs 10 values per image, but the spec lists 12 classes")

        let shape = inputError { _ = try OpenCVDNNBackend(spec: specFile(in: folder, model: mnist, side: 32), displayPath: "m.onnx") }
        #expect(shape == "m.onnx: the graph's input 'input' is batch×1×28×28 (nchw), but the spec's input is 1×1×32×32 (width 32, height 32, color gray); make the spec's input section match the graph")
    }

    @Test func identityChangesWithPreprocessing() throws {
        let a = try OpenCVDNNBackend(spec: spec("mnist-cnn"))
        var changed = try spec("mnist-cnn")
        changed.input!.interpolation = .area
        let b = try OpenCVDNNBackend(spec: changed)
        #expect(a.identity != b.identity)
        #expect(a.identity == (try OpenCVDNNBackend(spec: spec("mnist-cnn"))).identity)
    }

    @Test func imageDecodingRejectsWhatVigilCannotRead() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let text = folder.appendingPathComponent("notes.png")
        try Data("hello".utf8).write(to: text)
        #expect(inputError { _ = try Image(contentsOf: text) }.hasPrefix("\(text.path): cannot decode the image"))
        let missing = folder.appendingPathComponent("missing.png")
        #expect(inputError { _ = try Image(contentsOf: missing) }.hasPrefix("\(missing.path): cannot be read (No such file or directory)"))
    }
}

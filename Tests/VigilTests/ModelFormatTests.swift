import Foundation
import Testing
import VigilTestSupport
import Vigil

/// A format from outside Vigil, through the public API only: its own keys, its settings in the
/// identity, its backend made by the registry.
struct ConstantFormat: ModelFormat {
    struct Settings: ModelSettings {
        var favourite: Int
        var sha256: String? { nil }
        var computationFields: [String] { ["favourite=\(favourite)"] }
    }

    struct Backend: InferenceBackend {
        var spec: ModelSpec
        var identity: String { "constant|\(spec.computationKey)" }
        var classes: [String] { spec.classes }
        var maxBatchSize: Int { .max }
        func makeWorker() throws -> any InferenceWorker { Worker(spec: spec) }
    }

    final class Worker: InferenceWorker {
        let spec: ModelSpec
        init(spec: ModelSpec) { self.spec = spec }
        func predict(_ inputs: [ModelInput]) async throws -> [Prediction] {
            let favourite = spec.settings(as: Settings.self).favourite
            return inputs.map { _ in
                Prediction(probabilities: spec.classes.indices.map { $0 == favourite ? 1 : 0 }, latencyMs: 0)
            }
        }
    }

    let name = "constant"
    let tasks: Set<VisionTask> = [.classification]
    let keys = ["favourite"]

    func settings(from section: ModelSpecSection) throws -> any ModelSettings {
        guard let favourite = try section.int("favourite", in: 0...(section.classes.count - 1)) else {
            throw section.error("favourite", "the model spec is missing 'favourite'")
        }
        return Settings(favourite: favourite)
    }

    func backend(for spec: ModelSpec, displayPath: String?) async throws -> any InferenceBackend { Backend(spec: spec) }
}

@Suite("Model formats are registered, and read their own keys")
struct ModelFormatTests {
    func write(_ text: String) throws -> (URL, URL) {
        let folder = try temporaryFolder()
        let url = folder.appendingPathComponent("m.yaml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return (folder, url)
    }

    @Test func aRegisteredFormatLoadsAndRuns() async throws {
        Backends.register(ConstantFormat())
        let (folder, url) = try write("name: c\ntask: classification\nformat: constant\nfavourite: 2\nclasses: [a, b, c]\n")
        defer { try? FileManager.default.removeItem(at: folder) }
        let spec = try ModelSpec.load(url, displayPath: "m.yaml")
        #expect(spec.computationKey == "format=constant;sha256=;task=classification;favourite=2;classes=[\"a\", \"b\", \"c\"]")
        let worker = try await Backends.make(spec).makeWorker()
        let image = try Image(width: 1, height: 1, channels: 1, pixels: [0])
        #expect(try await worker.predict([image])[0].probabilities == [0, 0, 1])

        // Other formats' keys and unknown keys are refused by name; so is a task it does not run.
        let (f2, onnxKey) = try write("name: c\ntask: classification\nformat: constant\nfavourite: 2\nfile: x.onnx\nclasses: [a, b, c]\n")
        defer { try? FileManager.default.removeItem(at: f2) }
        #expect(inputError { _ = try ModelSpec.load(onnxKey, displayPath: "m.yaml") }
                == "m.yaml:5: 'file' belongs to formats onnx, cascade, predictions, not to constant")
        let (f3, typo) = try write("name: c\ntask: classification\nformat: constant\nfavourit: 2\nclasses: [a, b, c]\n")
        defer { try? FileManager.default.removeItem(at: f3) }
        #expect(inputError { _ = try ModelSpec.load(typo, displayPath: "m.yaml") }
                == "m.yaml:4: unknown key 'favourit' in the model spec (did you mean 'favourite'?)")
        let (f4, detector) = try write("name: c\ntask: detection\nformat: constant\nfavourite: 0\nclasses: [a]\n")
        defer { try? FileManager.default.removeItem(at: f4) }
        #expect(inputError { _ = try ModelSpec.load(detector, displayPath: "m.yaml") }
                == "m.yaml:3: format 'constant' is for classification models; detection models use onnx, cascade, predictions, kserve-v2")
    }
}

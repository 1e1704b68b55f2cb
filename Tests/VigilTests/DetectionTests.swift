import Foundation
import Testing
import VigilTestSupport
@testable import Vigil

/// A copy of some faces golden-set samples, as a golden set of its own.
func makeFacesSubset(in folder: URL, ids: [String]) throws -> URL {
    let source = try GoldenSet.load(Repository.url("GoldenSets/faces"))
    return try copySubset(of: source, samples: ids.map { id in source.samples.first { $0.id == id }! },
                          name: "faces-subset", into: folder)
}

/// A detection golden set of one 64×48 image with the given objects (as manifest JSON).
func makeDetectionSet(in folder: URL, objects: String, extraSampleKeys: String = "", size: String = #""width": 64, "height": 48"#) throws -> URL {
    let root = folder.appendingPathComponent("boxes")
    try FileManager.default.createDirectory(at: root.appendingPathComponent("images"), withIntermediateDirectories: true)
    let image = root.appendingPathComponent("images/a.png")
    try Image(width: 64, height: 48, channels: 3, pixels: (0..<(64 * 48 * 3)).map { UInt8($0 % 251) }).write(to: image)
    let manifest = """
        {"format": "vigil-golden-set/1", "name": "boxes", "version": "1", "task": "detection",
         "classes": ["face", "hand"],
         "samples": [{"id": "a", "path": "images/a.png", "sha256": "\(try SHA256.hex(ofFile: image))",
                      \(size), \(extraSampleKeys) "objects": \(objects)}]}
        """
    try manifest.write(to: root.appendingPathComponent("manifest.json"), atomically: true, encoding: .utf8)
    return root
}

@Suite("Detection golden sets: boxes are checked where they are read")
struct DetectionGoldenSetTests {
    @Test func theBundledFacesSetLoadsAndVerifies() throws {
        let faces = try GoldenSet.load(Repository.url("GoldenSets/faces"))
        #expect(faces.task == .detection && faces.classes == ["face"])
        #expect(faces.samples.count == 61)
        #expect(faces.samples.reduce(0) { $0 + ($1.objects?.count ?? 0) } == 191)
        #expect(faces.verify().isValid)
    }

    /// The identity of the classification set is what it was before detection existed (value
    /// computed independently with Python from the manifest), so stored outcomes stay reusable.
    @Test func classificationIdentityIsUnchanged() throws {
        #expect(try GoldenSet.load(Repository.url("GoldenSets/digits")).identity
                == "0fd83aaff3af0ec0d5a055d09f15da42a8d6aa0f88a714c7daa9c092924d62ab")
    }

    @Test func movingABoxChangesTheIdentity() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let a = try GoldenSet.load(makeDetectionSet(in: folder.appendingPathComponent("a"), objects: #"[{"class": "face", "box": [1, 2, 10, 10]}]"#))
        let b = try GoldenSet.load(makeDetectionSet(in: folder.appendingPathComponent("b"), objects: #"[{"class": "face", "box": [1, 2, 10, 11]}]"#))
        let c = try GoldenSet.load(makeDetectionSet(in: folder.appendingPathComponent("c"), objects: #"[{"class": "face", "box": [1, 2, 10, 10], "iscrowd": true}]"#))
        #expect(a.identity != b.identity && a.identity != c.identity)
        #expect(a.samples[0].objects?.first?.box == Box(x: 1, y: 2, width: 10, height: 10))
    }

    @Test(arguments: [
        (#"[{"class": "face", "box": [60, 2, 10, 10]}]"#, "", "sample 'a' objects[0] box [60, 2, 10, 10] reaches outside the 64×48 image (it spans x 60…70, y 2…12)"),
        (#"[{"class": "face", "box": [-0.5, 2, 10, 10]}]"#, "", "sample 'a' objects[0] box [-0.5, 2, 10, 10] reaches outside the 64×48 image (it spans x -0.5…9.5, y 2…12)"),
        (#"[{"class": "face", "box": [1, 2, 0, 10]}]"#, "", "sample 'a' objects[0] box [1, 2, 0, 10] has zero or negative size (boxes are [x, y, width, height])"),
        (#"[{"class": "fcae", "box": [1, 2, 5, 5]}]"#, "", "sample 'a' objects[0] has class 'fcae', which is not in 'classes' (did you mean 'face'?)"),
        (#"[{"class": "face", "bbox": [1, 2, 5, 5]}]"#, "", "samples[0].objects[0] has unknown key 'bbox' (did you mean 'box'?)"),
        (#"[{"class": "face", "box": [1, 2, 5]}]"#, "", "samples[0].objects[0].box: a bbox is [x, y, width, height]: 4 numbers, found 3"),
        (#"[]"#, #""label": "face","#, "sample 'a' has a 'label'; detection samples list 'objects' (class and box each) instead"),
    ])
    func badBoxesAreRefusedNamingTheSample(objects: String, extra: String, message: String) throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let root = try makeDetectionSet(in: folder, objects: objects, extraSampleKeys: extra)
        let error = inputError { _ = try GoldenSet.load(root) }
        #expect(error == "\(root.appendingPathComponent("manifest.json").path): \(message)")
    }

    @Test func detectionSamplesNeedTheirImageSize() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let root = try makeDetectionSet(in: folder, objects: "[]", size: #""width": 64"#)
        #expect(inputError { _ = try GoldenSet.load(root) }.hasSuffix("sample 'a' needs 'width' and 'height' (the image's size in pixels), against which its boxes are checked"))
    }
}

@Suite("Detection decoders, post-processing and matching")
struct DetectionDecodingTests {
    /// YOLOX on a 32×16 input with strides 8 and 16: 4×2 + 2×1 = 10 rows in stride order, cells
    /// row by row; row 9 is stride 16, cell (1, 0).
    @Test func yoloxDecodesCentreAndSizeFromTheGrid() throws {
        let decoding = DetectionDecoding(decoder: .yolox, strides: [8, 16])
        try decoding.check(shapes: [[10, 6]], classes: 1, inputWidth: 32, inputHeight: 16)
        var values = [Float](repeating: 0, count: 60)
        values.replaceSubrange(54..<60, with: [0.5, 0.25, Float(log(2.0)), 0, 0.8, 0.5])
        let found = decoding.decode([.init(shape: [10, 6], values: values[...])], classes: 1, inputWidth: 32, inputHeight: 16,
                                    minScore: 0.1)
        #expect(found.count == 1)
        let d = try #require(found.first)
        // centre ((0.5 + 1)·16, (0.25 + 0)·16) = (24, 4); size (2·16, 1·16); score 0.8 · 0.5.
        #expect(abs(d.box.x - 8) < 1e-6 && abs(d.box.y + 4) < 1e-6 && abs(d.box.width - 32) < 1e-5 && abs(d.box.height - 16) < 1e-6)
        #expect(abs(d.score - 0.4) < 1e-7 && d.classIndex == 0)
    }

    @Test func yolov8IsTransposedAndHasNoObjectness() throws {
        let decoding = DetectionDecoding(decoder: .yolov8)
        #expect(!decoding.objectness)
        // 4 + 2 classes rows × 3 columns (anchors).
        let values: [Float] = [10, 20, 30,   // cx
                               10, 20, 30,   // cy
                               4, 4, 4,      // w
                               2, 2, 2,      // h
                               0.9, 0.1, 0.05, // class 0
                               0.05, 0.7, 0.2] // class 1
        try decoding.check(shapes: [[6, 3]], classes: 2, inputWidth: 64, inputHeight: 64)
        let found = decoding.decode([.init(shape: [6, 3], values: values[...])], classes: 2, inputWidth: 64, inputHeight: 64, minScore: 0.15)
        #expect(found.map(\.classIndex) == [0, 1, 1])
        #expect(found.map(\.box) == [Box(x: 8, y: 9, width: 4, height: 2), Box(x: 18, y: 19, width: 4, height: 2), Box(x: 28, y: 29, width: 4, height: 2)])
        #expect(found.map { Float($0.score) } == [0.9, 0.7, 0.2])
    }

    @Test func boxesScoresWithNormalizedCornersAndABackgroundColumn() throws {
        let decoding = DetectionDecoding(decoder: .boxesScores, boxFormat: .xyxy, normalizedBoxes: true, backgroundClass: true)
        // Scores first in graph order: the boxes output is found by its 4 columns.
        let scores: [Float] = [0.1, 0.9, 0.95, 0.05]      // 2 priors × (background, face)
        let boxes: [Float] = [0.25, 0.5, 0.5, 1.0, 0, 0, 0.1, 0.1]
        let shapes = [[2, 2], [2, 4]]
        try decoding.check(shapes: shapes, classes: 1, inputWidth: 200, inputHeight: 100)
        let found = decoding.decode([.init(shape: [2, 2], values: scores[...]), .init(shape: [2, 4], values: boxes[...])],
                                    classes: 1, inputWidth: 200, inputHeight: 100, minScore: 0.5)
        #expect(found == [Detection(classIndex: 0, box: Box(x: 50, y: 50, width: 50, height: 50), score: Double(Float(0.9)))])
    }

    @Test(arguments: [
        (DetectionDecoding(decoder: .yolox), [[3549, 7]], 1, "the model's output is 3549×7; decoder yolox with 1 class expects N×6 (4 box values + 1 objectness + 1 class score)"),
        (DetectionDecoding(decoder: .yolox), [[3500, 6]], 1, "the model's output has 3500 rows, but a 416×416 input with strides 8, 16, 32 has 3549 grid cells; check the input size and strides"),
        (DetectionDecoding(decoder: .yolov5), [[10]], 1, "the model has output 10; decoder yolov5 expects one output of N×6 (4 box values + 1 objectness + 1 class score)"),
        (DetectionDecoding(decoder: .yolov8), [[85, 100]], 2, "the model's output is 85×100; decoder yolov8 with 2 classes expects 6×N (4 box values + 2 class scores)"),
        (DetectionDecoding(decoder: .boxesScores), [[100, 4]], 1, "the model has output 100×4; decoder boxes-scores expects two outputs, N×4 boxes and N×1 scores (1 class)"),
    ])
    func outputShapesThatDoNotFitTheDecoderAreNamed(decoding: DetectionDecoding, shapes: [[Int]], classes: Int, message: String) {
        #expect(inputError { try decoding.check(shapes: shapes, classes: classes, inputWidth: 416, inputHeight: 416) } == message)
    }

    @Test func nmsIsClassWiseAndKeepsTheHigherScore() {
        let boxes = [
            Detection(classIndex: 0, box: Box(x: 0, y: 0, width: 10, height: 10), score: 0.6),
            Detection(classIndex: 0, box: Box(x: 1, y: 0, width: 10, height: 10), score: 0.9),   // IoU 0.818 with the first
            Detection(classIndex: 1, box: Box(x: 0, y: 0, width: 10, height: 10), score: 0.5),   // other class: kept
            Detection(classIndex: 0, box: Box(x: 30, y: 30, width: 5, height: 5), score: 0.05),  // below the floor
            Detection(classIndex: 0, box: Box(x: 50, y: 0, width: 10, height: 10), score: 0.6),  // tie with the first, later
        ]
        let kept = DetectionFiltering.apply(DetectionPostprocessing(minScore: 0.1, nmsIoU: 0.5, maxDetections: 3), to: boxes)
        #expect(kept == [boxes[1], boxes[4], boxes[2]])
        #expect(DetectionFiltering.apply(DetectionPostprocessing(), to: boxes) == boxes.sorted { $0.score > $1.score })
    }

    /// Boxes map back through the letterbox: top-left anchored (YOLOX) and centred.
    @Test func boxesMapBackThroughTheLetterbox() throws {
        var input = ModelSpec.Input(width: 416, height: 416, layout: .nchw, color: .bgr, resize: .letterbox, anchor: .topLeft,
                                    interpolation: .linear, padValue: 114, scale: 1, mean: [0, 0, 0], std: [1, 1, 1])
        let topLeft = input.mapping(imageWidth: 640, imageHeight: 480)
        #expect(topLeft.scaleX == 0.65 && topLeft.scaleY == 0.65 && topLeft.offsetX == 0 && topLeft.offsetY == 0)
        input.anchor = .center
        let centred = input.mapping(imageWidth: 640, imageHeight: 480)
        #expect(centred.offsetY == 52 && centred.offsetX == 0)   // 480 · 0.65 = 312; (416 − 312) / 2
        let back = centred.toImage(Box(x: 65, y: 52 + 65, width: 13, height: 650))
        #expect(back == Box(x: 100, y: 100, width: 20, height: 380))   // clipped at the bottom edge
    }

    @Test func matchingIgnoresCrowdRegionsAndScoresBelowTheThreshold() {
        let truth = [ImageMatch.Truth(classIndex: 0, box: Box(x: 0, y: 0, width: 10, height: 10), isCrowd: false),
                     ImageMatch.Truth(classIndex: 0, box: Box(x: 50, y: 0, width: 40, height: 40), isCrowd: true),
                     ImageMatch.Truth(classIndex: 0, box: Box(x: 0, y: 50, width: 10, height: 10), isCrowd: false)]
        let detections = [Detection(classIndex: 0, box: Box(x: 1, y: 1, width: 10, height: 10), score: 9),   // TP (IoU 0.68)
                          Detection(classIndex: 0, box: Box(x: 0, y: 0, width: 10, height: 10), score: 8),   // duplicate: FP
                          Detection(classIndex: 0, box: Box(x: 55, y: 5, width: 10, height: 10), score: 7),  // inside the crowd: ignored
                          Detection(classIndex: 1, box: Box(x: 0, y: 50, width: 10, height: 10), score: 7), // wrong class: FP
                          Detection(classIndex: 0, box: Box(x: 0, y: 50, width: 10, height: 10), score: 2)]  // below 3
        let match = ImageMatch.match(objects: truth, detections: detections, iou: 0.5, scoreThreshold: 3)
        #expect(match.statuses == [.truePositive, .falsePositive, .ignored, .falsePositive, .belowThreshold])
        #expect(match.matchedObject == [0, nil, 1, nil, nil])
        #expect(match.missed == [false, false, true])
        #expect((match.truePositives, match.falsePositives, match.misses) == (1, 2, 1))
    }
}

@Suite("Detector backends on real models and images")
struct DetectorBackendTests {
    /// Vigil's cascade backend gives exactly what OpenCV's Python binding gives (same
    /// OpenCV 4.6), boxes and neighbour counts (fixture: Scripts/make_detection_fixtures.py).
    @Test(arguments: ["haar-frontalface", "lbp-frontalface"])
    func cascadesMatchOpenCVsOwnBinding(_ model: String) async throws {
        let reference = JSONValue.load(Repository.fixture("detection/cascades.json"))
        let backend = try CascadeBackend(spec: ModelSpec.load(Repository.url("Models/\(model)/model.yaml")))
        let worker = try backend.makeWorker()
        let faces = try GoldenSet.load(Repository.url("GoldenSets/faces"))
        for entry in try #require(reference["models"]?[model]).array {
            let sample = try #require(faces.samples.first { $0.id == entry["sample"]?.string })
            let predicted = try await worker.predict([Image(contentsOf: faces.url(of: sample))])[0].detections
            let expected = zip(entry["boxes"]!.array, entry["neighbours"]!.ints).map { box, neighbours in
                let b = box.doubles
                return Detection(classIndex: 0, box: Box(x: b[0], y: b[1], width: b[2], height: b[3]), score: Double(neighbours))
            }
            // Vigil orders by score (stable), OpenCV by its grouping: compare as sets of detections.
            #expect(Set(predicted) == Set(expected), "\(model) on \(sample.id)")
            #expect(predicted.count == expected.count)
            #expect(predicted.map(\.score) == predicted.map(\.score).sorted(by: >))
        }
    }

    /// Each decoder, with the letterbox mapping and NMS, gives what an independent implementation
    /// gives on a real network: ddddocr's YOLOX character detector, as shipped (`yolox`) and
    /// with its decoding exported into the graph in the other decoders' layouts
    /// (Scripts/make_decoder_variants.py). The reference is onnxruntime for the shipped graph
    /// and numpy for preprocessing, decoding and NMS (Scripts/make_onnx_detector_fixture.py).
    @Test(arguments: [
        ("common_det.onnx", "decoder: yolox, strides: [8, 16, 32]"),
        ("variants/yolov5.onnx", "decoder: yolov5"),
        ("variants/yolov8.onnx", "decoder: yolov8"),
        ("variants/boxes-scores.onnx", "decoder: boxes-scores, normalized_boxes: true, background_class: true"),
    ])
    func decodersMatchOnnxruntimeAndNumpyOnARealDetector(file: String, decoder: String) async throws {
        let model = Repository.url("Models/ddddocr-det/\(file)")
        try #require(FileManager.default.fileExists(atPath: model.path),
                     "Models/ddddocr-det/\(file) is written by Scripts/setup.sh (fetch_models.py, make_decoder_variants.py)")
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createSymbolicLink(at: folder.appendingPathComponent("model.onnx"), withDestinationURL: model)
        let spec = folder.appendingPathComponent("model.yaml")
        try """
            name: ddddocr-\(file)
            task: detection
            format: onnx
            file: model.onnx
            sha256: \(try SHA256.hex(ofFile: model))
            input: {width: 416, height: 416, color: bgr, resize: letterbox, anchor: top-left, pad_value: 114, scale: 1}
            output: {kind: detections, \(decoder)}
            postprocess: {min_score: 0.01, nms_iou: 0.45, max_detections: 100}
            classes: [character]
            """.write(to: spec, atomically: true, encoding: .utf8)
        let reference = JSONValue.load(Repository.fixture("detection/yolox_reference.json"))
        let backend = try await Backends.make(ModelSpec.load(spec))
        #expect(backend.maxBatchSize == 1)   // the graph's reshapes fix the batch at 1
        let worker = try backend.makeWorker()
        let characters = try GoldenSet.load(Repository.url("GoldenSets/characters"))
        var compared = 0
        for entry in reference["samples"]!.array {
            let sample = try #require(characters.samples.first { $0.id == entry["sample"]?.string })
            let predicted = try await worker.predict([Image(contentsOf: characters.url(of: sample))])[0].detections
            let expected = entry["detections"]!.array
            #expect(predicted.count == expected.count, "\(file) \(sample.id)")
            for (mine, theirs) in zip(predicted, expected) {
                let box = theirs["box"]!.doubles, score = theirs["score"]!.double!
                #expect(abs(mine.score - score) < 1e-4, "\(file) \(sample.id): score \(mine.score) vs \(score)")
                #expect(abs(mine.box.x - box[0]) < 0.02 && abs(mine.box.y - box[1]) < 0.02
                        && abs(mine.box.width - box[2]) < 0.02 && abs(mine.box.height - box[3]) < 0.02,
                        "\(file) \(sample.id): box \(mine.box) vs \(box)")
                compared += 1
            }
        }
        #expect(compared >= 20)
    }

    @Test func aCascadeSpecRefusesONNXKeysAndNonCascadeFiles() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let spec = folder.appendingPathComponent("model.yaml")
        try """
            name: c
            task: detection
            format: cascade
            file: model.yaml
            sha256: \(String(repeating: "0", count: 64))
            cascade: {scale_factor: 1.1}
            input: {width: 4, height: 4, color: gray, resize: stretch}
            classes: [face]
            """.write(to: spec, atomically: true, encoding: .utf8)
        #expect(inputError { _ = try ModelSpec.load(spec, displayPath: "model.yaml") }
                == "model.yaml:7: 'input' belongs to formats onnx, kserve-v2, not to cascade")
        let text = try String(contentsOf: spec, encoding: .utf8).replacingOccurrences(of: "input: {width: 4, height: 4, color: gray, resize: stretch}\n", with: "")
        try text.write(to: spec, atomically: true, encoding: .utf8)
        var loaded = try ModelSpec.load(spec, displayPath: "model.yaml")
        var settings = loaded.settings(as: CascadeSpec.self)
        settings.file.sha256 = try SHA256.hex(ofFile: spec)
        loaded.settings = settings
        #expect(inputError { _ = try CascadeBackend(spec: loaded, displayPath: "model.yaml") }
                .hasPrefix("model.yaml: not a cascade classifier OpenCV can read (expected a Haar or LBP cascade XML file)"))
    }
}

@Suite("Detections read from a results file")
struct PredictionsFileTests {
    func write(_ text: String, in folder: URL, name: String = "results.json") throws {
        try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    func backend(_ folder: URL, scenarioFiles: String = "") throws -> any InferenceBackend {
        let spec = folder.appendingPathComponent("model.yaml")
        try """
            name: elsewhere
            task: detection
            format: predictions
            file: results.json
            \(scenarioFiles)
            classes: [face, hand]
            """.write(to: spec, atomically: true, encoding: .utf8)
        return try PredictionsFileBackend(spec: ModelSpec.load(spec))
    }

    @Test func resultsAreKeyedBySampleIdOrManifestPosition() async throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let set = try GoldenSet.load(makeFacesSubset(in: folder, ids: ["composite-00", "composite-07"]))
        try write(#"""
            {"image_ids": ["composite-00", 2],
             "detections": [{"image_id": 2, "category_id": 1, "bbox": [538, 38, 40, 40], "score": 0.9},
                            {"image_id": "composite-07", "category_id": 2, "bbox": [1, 1, 5, 5], "score": 0.2}]}
            """#, in: folder)
        let prepared = try backend(folder).prepared(for: set, scenarios: [.clean], sampleIndices: [[0, 1]])
        let worker = try prepared.makeWorker()
        let image = try Image(width: 1, height: 1, channels: 1, pixels: [0])
        let predictions = try await worker.predict(set.samples.map { ModelInput(image: image, sampleID: $0.id) })
        #expect(predictions[0].detections.isEmpty)
        #expect(predictions[1].detections.map(\.classIndex) == [0, 1])
        #expect(predictions[1].latencyMs.isNaN)
    }

    @Test(arguments: [
        (#"[{"image_id": "composite-07", "category_id": 1, "bbox": [1, 1, 5, 5], "score": 0.5}]"#,
         "results.json: no detections for 1 of 2 images of scenario 'clean' (e.g. 'composite-00'); if the detector found nothing there, list every processed image: {\"image_ids\": [...], \"detections\": [...]}"),
        (#"[{"image_id": "img-0001", "category_id": 1, "bbox": [1, 1, 5, 5], "score": 0.5}]"#,
         "results.json: image_id 'img-0001' is not a sample of golden set 'faces-subset' (valid: composite-00, composite-07); is this file for another golden set?"),
        (#"[{"image_id": 9, "category_id": 1, "bbox": [1, 1, 5, 5], "score": 0.5}]"#,
         "results.json: image_id 9 is not a sample of golden set 'faces-subset' (integer ids are manifest positions 1…2); is this file for another golden set?"),
    ])
    func resultsThatDoNotFitTheGoldenSetAreRefused(results: String, message: String) throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let set = try GoldenSet.load(makeFacesSubset(in: folder, ids: ["composite-00", "composite-07"]))
        try write(results, in: folder)
        let error = inputError { _ = try backend(folder).prepared(for: set, scenarios: [.clean], sampleIndices: [[0, 1]]) }
        #expect(error.hasSuffix(message), "\(error)")
    }

    @Test func badEntriesAndMissingScenarioFilesAreRefused() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try write(#"[{"image_id": "a", "category_id": 3, "bbox": [1, 1, 5, 5], "score": 0.5}]"#, in: folder)
        #expect(inputError { _ = try backend(folder) }.hasSuffix("results.json: detection 0 (image_id a): category_id 3 is not a class of the model spec (1…2 for face, hand, in the spec's order)"))
        let set = try GoldenSet.load(makeFacesSubset(in: folder, ids: ["composite-00"]))
        try write(#"{"image_ids": ["composite-00"], "detections": []}"#, in: folder)
        let error = inputError {
            _ = try backend(folder).prepared(for: set, scenarios: [.clean, try Scenario(id: "low-light@3")], sampleIndices: [[0], [0]])
        }
        #expect(error.contains("predictions model 'elsewhere' has no results file for scenario 'low-light@3' (it has: clean). Export the scenario's images with `vigil corrupt"), "\(error)")
    }
}

@Suite("Detection suites run end to end")
struct DetectionRunTests {
    static let ids = ["solvay-1927", "composite-00", "composite-07", "composite-23", "composite-41", "composite-55"]

    func suite(in folder: URL, golden: URL, extra: String = "") throws -> Suite {
        let url = folder.appendingPathComponent("suite.yaml")
        try """
            suite: faces-test
            golden_set: \(golden.path)
            baseline: \(Repository.url("Models/haar-frontalface/model.yaml").path)
            candidate: \(Repository.url("Models/lbp-frontalface/model.yaml").path)
            seed: 3
            score_threshold: {baseline: 3, candidate: 2}
            bootstrap: 200
            min_samples: 2
            scenarios: [clean, object-occlusion@3, "faces=none"]
            \(extra)
            conditions:
              - metric: fnr
                class: face
                scenario: clean
                at_most: 0.3
              - metric: fp_per_image
                scenario: all
                max_regression: 0.5
                significance: 0.05
            """.write(to: url, atomically: true, encoding: .utf8)
        return try Suite.load(url)
    }

    @Test func aDetectorPairIsGatedAndItsOutcomesAreReusable() async throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let golden = try makeFacesSubset(in: folder, ids: Self.ids)
        let suite = try suite(in: folder, golden: golden)
        #expect(suite.primaryMetric == MetricKey(.map50))   // the detection default
        let first = try await SuiteRunner(suite: suite).run()
        #expect(first.operatingPoint == OperatingPoint(iou: 0.5, baselineScoreThreshold: 3, candidateScoreThreshold: 2))
        let clean = try #require(first.scenarios.first)
        let b = try #require(clean.baseline.detection), c = try #require(clean.candidate.detection)
        #expect(b.nImages == 6 && c.nImages == 6)
        // Summed per-image matches are the scenario's operating-point counts.
        let matches = try #require(first.detectionMatches["clean"]?[.baseline])
        #expect(matches.reduce(0) { $0 + $1.truePositives } == b.perClass[0].tp)
        #expect(matches.reduce(0) { $0 + $1.falsePositives } == b.perClass[0].fp)
        #expect(matches.reduce(0) { $0 + $1.misses } == b.perClass[0].fn)
        #expect(b.fpPerImage == Double(b.perClass[0].fp) / 6)
        // Occluding every face by 50% of its box costs recall.
        let occluded = try #require(first.scenarios.first { $0.scenario.id == "object-occlusion@3" }?.baseline.detection)
        #expect((occluded.perClass[0].recall ?? 1) < (b.perClass[0].recall ?? 0))
        // The face-free slice has no ground truth: recall and AP are undefined, FPs are counted.
        let empty = try #require(first.scenarios.first { $0.scenario.id == "faces=none" })
        #expect(empty.baseline.value(MetricKey(.recall, className: "face")) == nil && empty.baseline.value(MetricKey(.fpPerImage)) != nil)
        #expect(first.verdicts.count == 4)
        #expect(clean.comparison(of: MetricKey(.map50)) != nil && clean.comparison(of: MetricKey(.fpPerImage)) != nil)

        // A second run reuses the baseline's detections and gives the same numbers.
        let cache = DetectionCache()
        cache.remember(first, suite: suite)
        let second = try await SuiteRunner(suite: suite).run(cache: cache)
        #expect(second.scenarios.allSatisfy { $0.baselineReusedFrom == first.id })
        for (x, y) in zip(first.scenarios, second.scenarios) {
            #expect(x.baseline.value(MetricKey(.map)) == y.baseline.value(MetricKey(.map)))
            #expect(x.candidate.value(MetricKey(.recall, className: "face")) == y.candidate.value(MetricKey(.recall, className: "face")))
        }
    }

    @Test func detectionSuitesRefuseWhatCannotApply() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let golden = try makeFacesSubset(in: folder, ids: ["composite-00"])
        let url = folder.appendingPathComponent("suite.yaml")
        func load(_ text: String) -> String {
            try? text.write(to: url, atomically: true, encoding: .utf8)
            return inputError { _ = try Suite.load(url, displayPath: "suite.yaml") }
        }
        let head = """
            suite: s
            golden_set: \(golden.path)
            baseline: b.yaml
            candidate: c.yaml
            seed: 1
            """
        #expect(load(head + "\nscenarios: [clean]") .hasPrefix("suite.yaml:1: a detection suite needs 'score_threshold'"))
        #expect(load(head + "\nscore_threshold: 0.5\nscenarios: [rotation@2]")
                == "suite.yaml:7: scenario 'rotation@2' moves image content, so the golden set's boxes would no longer fit; detection suites cannot use it")
        #expect(load(head + "\nscore_threshold: 0.5\nscenarios: [clean]\nconditions:\n  - metric: accuracy\n    scenario: all\n    at_least: 0.9")
                .hasPrefix("suite.yaml:9: metric 'accuracy' is not defined for detection golden sets (detection metrics: precision, recall, fnr, latency_p50_ms"))
        #expect(load(head + "\nscore_threshold: 0.5\nscenarios: [clean]\nconditions:\n  - metric: ap\n    class: face\n    scenario: all\n    max_regression: 0.01\n    significance: 0.05")
                == "suite.yaml:9: 'ap[face]' cannot be bootstrapped (rank-based, per-class AP or latency), so it cannot be judged with significance or intervals")
    }
}

/// An outcome cache in memory (the store's role), for reuse tests.
final class DetectionCache: OutcomeCache, @unchecked Sendable {
    private var entries: [OutcomeKey: CachedOutcomes] = [:]

    func cachedOutcomes(for key: OutcomeKey) throws -> CachedOutcomes? { entries[key] }

    func remember(_ result: RunResult, suite: Suite) {
        for s in result.scenarios {
            let key = OutcomeKey(modelIdentity: result.baseline.identity, goldenSetIdentity: result.goldenSet.identity,
                                 scenario: s.scenario, seed: suite.seed, batchSize: suite.batchSize)
            entries[key] = CachedOutcomes(runID: result.id, outcomes: result.outcomes(s.scenario, .baseline)!)
        }
    }
}

@Suite("COCO files: the fast readers agree with JSONDecoder and leave odd files to it")
struct COCOScannerTests {
    func scan(_ text: String) -> [COCODetection]? {
        Array(text.utf8).withUnsafeBufferPointer { COCOScanner.results($0, bracketed: true) }
    }

    /// The same detections, bit for bit, as JSONDecoder gives: any key order, extra keys of
    /// every JSON type (segmentation polygons, RLE, null, booleans), exponents, negatives and
    /// numbers that need correct rounding.
    @Test func agreesWithJSONDecoderBitForBit() throws {
        var parts: [String] = []
        var generator = SystemRandomNumberGenerator()
        for index in 0..<2000 {
            let x = Double.random(in: -5...1000, using: &generator), score = Double.random(in: 0...1, using: &generator)
            let numbers = ["\(x)", "1e2", "0.1", "2.5E-3", "-0.0", "123456789.123456789", "\(score)", "7"]
            let b = (0..<4).map { _ in numbers.randomElement(using: &generator)! }
            var fields = ["\"image_id\": \(index % 37)", "\"category_id\":\(index % 5 + 1)",
                          "\"bbox\": [\(b.joined(separator: ", "))]", "\"score\":\(numbers.randomElement(using: &generator)!)"]
            if index % 3 == 0 { fields.append("\"segmentation\": [[1, 2.5, 3, 4]], \"area\": 12.5, \"iscrowd\": false, \"id\": null") }
            if index % 7 == 0 { fields.append("\"extra\": {\"counts\": \"a\\\"b\", \"size\": [2, 3], \"ok\": true}") }
            fields.shuffle(using: &generator)
            parts.append("{" + fields.joined(separator: index % 2 == 0 ? "," : " ,\n ") + "}")
        }
        let text = "\n [" + parts.joined(separator: ",\n") + "]\n"
        let expected = try JSONDecoder().decode([COCODetection].self, from: Data(text.utf8))
        let scanned = try #require(scan(text))
        #expect(scanned == expected)
        #expect(scan("[]") == [])
    }

    /// Whatever is not plainly a results file goes to JSONDecoder (nil here), for its message.
    @Test(arguments: [
        "[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 1, 1], \"score\": NaN}]",
        "[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 1, 1]}]",
        "[{\"image_id\": \"1\", \"category_id\": 1, \"bbox\": [0, 0, 1, 1], \"score\": 0.5}]",
        "[{\"image_id\": 1.0, \"category_id\": 1, \"bbox\": [0, 0, 1, 1], \"score\": 0.5}]",
        "[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 1], \"score\": 0.5}]",
        "[{\"image_id\": 1, \"image_id\": 2, \"category_id\": 1, \"bbox\": [0, 0, 1, 1], \"score\": 0.5}]",
        "[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 1, 1], \"score\": 0.5},]",
        "[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 1, 1], \"score\": 0.5}",
        "[{\"image_id\": 01, \"category_id\": 1, \"bbox\": [0, 0, 1, 1], \"score\": 0.5}]",
        "{\"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 1, 1], \"score\": 0.5}",
    ])
    func oddFilesAreLeftToJSONDecoder(_ text: String) {
        #expect(scan(text) == nil)
    }

    /// A ground-truth file read by the scanner equals JSONDecoder's reading: annotations with
    /// keys in any order, segmentation polygons and RLE skipped, crowd flags as 0/1/booleans or
    /// absent, images with escaped file names, extra top-level keys.
    @Test func groundTruthAgreesWithJSONDecoder() throws {
        var generator = SystemRandomNumberGenerator()
        var annotations: [String] = []
        for index in 0..<1500 {
            let b = (0..<4).map { _ in "\(Double.random(in: 0.5...600, using: &generator))" }
            var fields = ["\"id\": \(index * 3 + 1)", "\"image_id\": \(index % 40)", "\"category_id\":\(index % 4 + 1)",
                          "\"bbox\": [\(b.joined(separator: ","))]", "\"area\": \(Double.random(in: 0...9e4, using: &generator))"]
            switch index % 5 {
            case 0: fields.append("\"iscrowd\": 1")
            case 1: fields.append("\"iscrowd\": false")
            case 2: fields.append("\"iscrowd\":0")
            case 3: fields.append("\"iscrowd\": true")
            default: break
            }
            if index % 2 == 0 { fields.append("\"segmentation\": [[1.5, 2, 30.25, 4, 5, 6e1]]") }
            if index % 9 == 0 { fields.append("\"segmentation\": {\"counts\": \"x\\\"y[\", \"size\": [480, 640]}") }
            fields.shuffle(using: &generator)
            annotations.append("{" + fields.joined(separator: ", ") + "}")
        }
        let images = (0..<40).map { "{\"id\": \($0), \"width\": 640, \"height\": 480, \"file_name\": \"a\\u00e9\\/\($0).jpg\"}" }
        let text = """
            {"info": {"year": 2017, "note": "]}"}, "licenses": [],
             "annotations": [\(annotations.joined(separator: ",\n"))],
             "images": [\(images.joined(separator: ","))],
             "categories": [{"id": 1, "name": "p\\"q"}, {"id": 2, "name": "b"}, {"id": 3, "name": "c"}, {"id": 4, "name": "d"}]}
            """
        let data = Data(text.utf8)
        let scanned = try #require(COCOGroundTruth.scan(data))
        let decoded = try JSONDecoder().decode(GroundTruthFile.self, from: data)
        #expect(scanned.annotations == decoded.annotations)
        #expect(scanned.images == decoded.images)
        #expect(scanned.categories == decoded.categories)
        #expect(scanned.images[3].fileName == "a\u{e9}/3.jpg")
        #expect(scanned.annotations.filter(\.isCrowd).count == 600)
    }

    struct GroundTruthFile: Decodable {
        var images: [COCOGroundTruth.Image]
        var annotations: [COCOGroundTruth.Annotation]
        var categories: [COCOGroundTruth.Category]
    }

    /// Ground truth that is not plainly COCO's shape goes to JSONDecoder (nil here).
    @Test(arguments: [
        "{\"images\": [], \"categories\": []}",
        "{\"images\": [], \"annotations\": [], \"annotations\": [], \"categories\": []}",
        "{\"images\": [], \"annotations\": [{\"id\": 1, \"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 1, 1]}], \"categories\": []}",
        "{\"images\": [], \"annotations\": [{\"id\": 1, \"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 1, 1], \"area\": 1, \"iscrowd\": null}], \"categories\": []}",
        "{\"images\": [], \"annotations\": [{\"id\": 1.5, \"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 1, 1], \"area\": 1}], \"categories\": []}",
        "{\"images\": [], \"annotations\": [], \"categories\": []} x",
        "{\"images\": [{\"id\": \"1\"}], \"annotations\": [], \"categories\": []}",
        "[]",
    ])
    func oddGroundTruthIsLeftToJSONDecoder(_ text: String) {
        #expect(COCOGroundTruth.scan(Data(text.utf8)) == nil)
    }
}

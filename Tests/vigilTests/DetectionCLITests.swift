import Foundation
import Testing
import VigilTestSupport
import Vigil

/// A scratch folder with a few faces golden-set images, for detection commands.
struct DetectionWorkspace {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-det-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: folder) }

    /// A golden set of the given faces samples, its manifest changed by `edit` before it is written.
    @discardableResult
    func goldenSet(_ ids: [String], name: String = "golden", edit: (inout GoldenSetManifest) -> Void = { _ in }) throws -> URL {
        let source = try GoldenSet.load(CLI.root.appendingPathComponent("GoldenSets/faces"))
        var manifest = source.manifest
        manifest.samples = ids.map { id in source.samples.first { $0.id == id }! }
        let root = folder.appendingPathComponent(name)
        for sample in manifest.samples {
            let target = root.appendingPathComponent(sample.path)
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: source.url(of: sample), to: target)
        }
        edit(&manifest)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(manifest).write(to: root.appendingPathComponent("manifest.json"))
        return root
    }

    @discardableResult
    func suite(baseline: String = "Models/haar-frontalface/model.yaml", candidate: String = "Models/lbp-frontalface/model.yaml",
               scenarios: String = "[clean]", extra: String = "score_threshold: 3") throws -> String {
        try """
            suite: det-cli
            golden_set: golden
            baseline: \(baseline.hasPrefix("/") ? baseline : CLI.root.appendingPathComponent(baseline).path)
            candidate: \(candidate.hasPrefix("/") ? candidate : CLI.root.appendingPathComponent(candidate).path)
            seed: 5
            bootstrap: 100
            \(extra)
            scenarios: \(scenarios)
            conditions:
              - metric: map50
                scenario: all
                max_regression: 0.5
            """.write(to: folder.appendingPathComponent("suite.yaml"), atomically: true, encoding: .utf8)
        return "suite.yaml"
    }
}

@Suite("Detection from the command line: runs, imports, exports and bad input", .serialized)
struct DetectionCLITests {
    @Test func aDetectionSuiteRunsStoresAndReports() throws {
        let ws = try DetectionWorkspace()
        defer { ws.remove() }
        try ws.goldenSet(["composite-07", "composite-23", "composite-41"])
        try ws.suite(scenarios: "[clean, object-occlusion@2]")
        let run = try CLI.run(["run", "suite.yaml", "--store", "store.sqlite", "--json"], in: ws.folder)
        #expect(run.status == 0 || run.status == 1, "\(run.stderr)")
        let result = try JSONDecoder().decode(JSONValue.self, from: Data(run.stdout.utf8))
        #expect(result["golden_set"]?["task"]?.string == "detection")
        #expect(result["operating_point"]?["iou"]?.double == 0.5)
        let clean = try #require(result["scenarios"]?.array.first)
        #expect(clean["candidate"]?["map50"]?.double != nil && clean["candidate"]?["fp_per_image"]?.double != nil)
        let reports = try FileManager.default.contentsOfDirectory(atPath: ws.folder.appendingPathComponent("Reports").path)
        let report = ws.folder.appendingPathComponent("Reports/\(reports[0])")
        let html = try String(contentsOf: report.appendingPathComponent("index.html"), encoding: .utf8)
        #expect(html.contains("Operating point") && html.contains("fp_per_image"))
        let galleries = try FileManager.default.contentsOfDirectory(atPath: report.path).filter { $0.hasPrefix("detections-") }
        #expect(!galleries.isEmpty)
    }

    static let edits: [(String, @Sendable (inout GoldenSetManifest) -> Void, String)] = [
        ("box outside", { $0.samples[0].objects![0].box.x = 610 },
         "golden/manifest.json: sample 'composite-07' objects[0] box [610, 38, 40, 40] reaches outside the 640×480 image (it spans x 610…650, y 38…78)"),
        ("zero size", { $0.samples[0].objects![0].box.width = 0 },
         "golden/manifest.json: sample 'composite-07' objects[0] box [538, 38, 0, 40] has zero or negative size (boxes are [x, y, width, height])"),
        ("unknown class", { $0.samples[0].objects![0].className = "faec" },
         "golden/manifest.json: sample 'composite-07' objects[0] has class 'faec', which is not in 'classes' (did you mean 'face'?)"),
        ("duplicate id", { $0.samples[1].id = "composite-07" },
         "golden/manifest.json: sample id 'composite-07' appears twice"),
        ("wrong size", { $0.samples[1].width = 600 },
         "golden/images/composite-23.jpg: the image is 640×480, but golden set 'faces' lists sample 'composite-23' as 600×480; its boxes would not fit"),
    ]

    @Test(arguments: 0..<5)
    func badGoldenSetsExitTwoWithOneLine(_ index: Int) throws {
        let (name, edit, message) = Self.edits[index]
        let ws = try DetectionWorkspace()
        defer { ws.remove() }
        try ws.goldenSet(["composite-07", "composite-23"], edit: edit)
        try ws.suite()
        let run = try CLI.run(["run", "suite.yaml", "--store", "store.sqlite", "--no-report"], in: ws.folder)
        #expect(run.status == 2, "\(name)")
        #expect(run.stderrLines.count == 1, "\(name): \(run.stderr)")
        #expect(run.stderr.hasSuffix(message + "\n"), "\(name): \(run.stderr)")
    }

    @Test func aPredictionsFileForAnotherGoldenSetAndADecoderMismatchExitTwo() throws {
        let ws = try DetectionWorkspace()
        defer { ws.remove() }
        try ws.goldenSet(["composite-07", "composite-23"])
        try #"[{"image_id": "000000139", "category_id": 1, "bbox": [10, 10, 50, 50], "score": 0.9}]"#
            .write(to: ws.folder.appendingPathComponent("results.json"), atomically: true, encoding: .utf8)
        try "name: elsewhere\ntask: detection\nformat: predictions\nfile: results.json\nclasses: [face]\n"
            .write(to: ws.folder.appendingPathComponent("predictions.yaml"), atomically: true, encoding: .utf8)
        try ws.suite(candidate: ws.folder.appendingPathComponent("predictions.yaml").path)
        let run = try CLI.run(["run", "suite.yaml", "--no-report", "--store", "store.sqlite"], in: ws.folder)
        #expect(run.status == 2 && run.stderrLines.count == 1)
        #expect(run.stderr.contains("results.json: image_id '000000139' is not a sample of golden set 'faces'") && run.stderr.contains("is this file for another golden set?"), "\(run.stderr)")

        try FileManager.default.copyItem(at: CLI.root.appendingPathComponent("Models/mnist-cnn/mnist_cnn.onnx"),
                                         to: ws.folder.appendingPathComponent("m.onnx"))
        try """
            name: not-a-detector
            task: detection
            format: onnx
            file: m.onnx
            sha256: eb378a8463237d6e2e4c0269f920a6adfdc3721ac56cae2867c8304a4cafde24
            input: {width: 28, height: 28, color: gray, resize: letterbox}
            output: {kind: detections, decoder: yolox, strides: [4, 8]}
            classes: [face]
            """.write(to: ws.folder.appendingPathComponent("onnx.yaml"), atomically: true, encoding: .utf8)
        try ws.suite(candidate: ws.folder.appendingPathComponent("onnx.yaml").path)
        let mismatch = try CLI.run(["run", "suite.yaml", "--no-report", "--store", "store.sqlite"], in: ws.folder)
        #expect(mismatch.status == 2 && mismatch.stderrLines.count == 1)
        #expect(mismatch.stderr.hasSuffix("m.onnx: the model has output 10; decoder yolox expects one output of N×6 (4 box values + 1 objectness + 1 class score)\n"), "\(mismatch.stderr)")
    }

    /// COCO in, golden set out, COCO back out: the same images, boxes and classes.
    @Test func cocoImportAndExportRoundTrip() throws {
        let ws = try DetectionWorkspace()
        defer { ws.remove() }
        let faces = try ws.goldenSet(["solvay-1927", "composite-00", "composite-07"])
        let exported = try CLI.run(["golden", "export", "coco", faces.path, "-o", "coco.json"], in: ws.folder)
        #expect(exported.status == 0, "\(exported.stderr)")
        #expect(exported.stdout == "wrote coco.json: 3 images, 32 annotations, 1 categories\n")
        let imported = try CLI.run(["golden", "import", "coco", "coco.json", "--images", faces.path, "-o", "again"], in: ws.folder)
        #expect(imported.status == 0, "\(imported.stderr)")
        let again = try GoldenSet.load(ws.folder.appendingPathComponent("again"))
        let original = try GoldenSet.load(faces)
        #expect(again.classes == original.classes)
        #expect(again.samples.map { $0.objects?.map(\.box) } == original.samples.map { $0.objects?.map(\.box) })
        #expect(again.samples.map(\.sha256) == original.samples.map(\.sha256))
        #expect(again.samples.map(\.id) == ["images/solvay-1927", "images/composite-00", "images/composite-07"])
        #expect(again.verify().isValid)
        // Importing over a non-empty folder is refused.
        let twice = try CLI.run(["golden", "import", "coco", "coco.json", "--images", faces.path, "-o", "again"], in: ws.folder)
        #expect(twice.status == 2 && twice.stderr == "error: again: exists and is not empty; choose a new folder for the golden set\n")

        // A box outside its image: the COCO file is named, nothing is written, and once the file
        // is mended the same command works (no half-written folder in the way).
        var coco = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: ws.folder.appendingPathComponent("coco.json"))) as? [String: Any])
        var annotations = try #require(coco["annotations"] as? [[String: Any]])
        var box = try #require(annotations[0]["bbox"] as? [Double])
        box[0] = 9000
        annotations[0]["bbox"] = box
        coco["annotations"] = annotations
        try JSONSerialization.data(withJSONObject: coco).write(to: ws.folder.appendingPathComponent("bad.json"))
        let outside = try CLI.run(["golden", "import", "coco", "bad.json", "--images", faces.path, "-o", "fresh"], in: ws.folder)
        #expect(outside.status == 2 && outside.stderrLines.count == 1, "\(outside.stderr)")
        #expect(outside.stderr.hasPrefix("error: bad.json: sample 'images/"), "\(outside.stderr)")
        #expect(outside.stderr.contains("reaches outside the"), "\(outside.stderr)")
        #expect(!FileManager.default.fileExists(atPath: ws.folder.appendingPathComponent("fresh").path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: ws.folder.path).filter { $0.hasPrefix(".") } == [])
        let mended = try CLI.run(["golden", "import", "coco", "coco.json", "--images", faces.path, "-o", "fresh"], in: ws.folder)
        #expect(mended.status == 0, "\(mended.stderr)")
    }

    @Test func yoloImportConvertsNormalisedBoxesAndRefusesBadLines() throws {
        let ws = try DetectionWorkspace()
        defer { ws.remove() }
        let yolo = ws.folder.appendingPathComponent("yolo")
        try FileManager.default.createDirectory(at: yolo.appendingPathComponent("images"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: yolo.appendingPathComponent("labels"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: CLI.root.appendingPathComponent("GoldenSets/faces/images/composite-07.jpg"),
                                         to: yolo.appendingPathComponent("images/street.jpg"))
        try "face\nhand\n".write(to: yolo.appendingPathComponent("classes.txt"), atomically: true, encoding: .utf8)
        // composite-07's face at [538, 38, 40, 40] in a 640×480 image, and a hand.
        try "0 0.871875 0.120833333333 0.0625 0.083333333333\n1 0.5 0.5 0.1 0.1\n"
            .write(to: yolo.appendingPathComponent("labels/street.txt"), atomically: true, encoding: .utf8)
        let run = try CLI.run(["golden", "import", "yolo", "yolo", "-o", "imported", "--name", "street"], in: ws.folder)
        #expect(run.status == 0, "\(run.stderr)")
        let set = try GoldenSet.load(ws.folder.appendingPathComponent("imported"))
        #expect(set.name == "street" && set.classes == ["face", "hand"])
        let face = try #require(set.samples.first?.objects?.first)
        #expect(face.className == "face" && abs(face.box.x - 538) < 1e-6 && abs(face.box.y - 38) < 1e-6 && abs(face.box.width - 40) < 1e-6)

        try "0 0.98 0.5 0.1 0.1\n".write(to: yolo.appendingPathComponent("labels/street.txt"), atomically: true, encoding: .utf8)
        let outside = try CLI.run(["golden", "import", "yolo", "yolo", "-o", "bad"], in: ws.folder)
        #expect(outside.status == 2)
        #expect(outside.stderr.hasSuffix("yolo/labels/street.txt:1: the box reaches outside the image (normalised x 0.93…1.03, y 0.45…0.55)\n"), "\(outside.stderr)")
        try "7 0.5 0.5 0.1 0.1\n".write(to: yolo.appendingPathComponent("labels/street.txt"), atomically: true, encoding: .utf8)
        let unknown = try CLI.run(["golden", "import", "yolo", "yolo", "-o", "bad2"], in: ws.folder)
        #expect(unknown.stderr.hasSuffix("yolo/labels/street.txt:1: class 7 is not in the class list (0…1)\n"), "\(unknown.stderr)")
    }
}

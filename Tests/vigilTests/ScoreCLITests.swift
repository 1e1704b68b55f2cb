import Foundation
import Testing
import VigilTestSupport
import Vigil

/// A scratch folder with files written by the test.
struct Files {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-score-\(UUID().uuidString)")

    init() throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    func write(_ name: String, _ text: String) throws {
        try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    func remove() { try? FileManager.default.removeItem(at: folder) }

    func json(_ output: CLI.Output) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any])
    }
}

@Suite("vigil score: contract and bad input", .serialized)
struct ScoreCLITests {
    static let labels = """
        {"id": "s1", "label": 0}
        {"id": "s2", "label": 1}
        {"id": "s3", "label": 2}
        {"id": "s4", "label": 1}
        {"id": "s5", "label": 4}
        {"id": "s6", "label": 3}
        """
    static let predictions = """
        {"id": "s2", "probs": [0.1, 0.6, 0.1, 0.1, 0.1]}
        {"id": "s1", "probs": [0.5, 0.2, 0.1, 0.1, 0.1]}
        {"id": "s3", "logits": [0.0, 1.0, 2.0, 0.5, -1.0]}
        {"id": "s4", "probs": [0.2, 0.2, 0.2, 0.2, 0.2]}
        {"id": "s5", "probs": [0.0, 0.0, 0.0, 0.0, 1.0]}
        {"id": "s6", "probs": [0.3, 0.1, 0.1, 0.25, 0.25]}
        """

    /// The bootstrap's time goes to stderr (stdout stays the JSON); none without a bootstrap.
    @Test func bootstrapTimeIsPrintedOnStderr() throws {
        let files = try Files()
        defer { files.remove() }
        try files.write("labels.jsonl", Self.labels)
        try files.write("preds.jsonl", Self.predictions)
        let arguments = ["score", "classification", "--labels", "labels.jsonl", "--predictions", "preds.jsonl", "--json"]
        let timed = try CLI.run(arguments + ["--bootstrap", "40"], in: files.folder)
        #expect(timed.status == 0)
        #expect(timed.stderr.hasPrefix("metrics and 40 bootstrap replicates in ") && timed.stderr.hasSuffix(" s (--bootstrap 0: point estimates only)\n"),
                "\(timed.stderr)")
        _ = try files.json(timed)
        let plain = try CLI.run(arguments + ["--bootstrap", "0"], in: files.folder)
        #expect(plain.status == 0 && plain.stderr.isEmpty, "\(plain.stderr)")
    }

    @Test func classificationJSONFollowsTheContract() throws {
        let files = try Files()
        defer { files.remove() }
        try files.write("labels.jsonl", Self.labels)
        try files.write("preds.jsonl", Self.predictions)
        let output = try CLI.run(["score", "classification", "--labels", "labels.jsonl", "--predictions", "preds.jsonl",
                                  "--json", "--bootstrap", "50"], in: files.folder)
        #expect(output.status == 0, "\(output.stderr)")
        let json = try files.json(output)
        for key in ["accuracy", "top5_accuracy", "macro", "weighted", "per_class", "confusion_matrix", "calibration", "n", "intervals"] {
            #expect(json[key] != nil, "missing \(key)")
        }
        #expect(json["n"] as? Int == 6)
        #expect(json["accuracy"] as? Double == 4.0 / 6.0)   // s4 (uniform) → class 0, s6 → class 0
        let perClass = try #require(json["per_class"] as? [[String: Any]])
        #expect(perClass.count == 5)
        #expect(Set(perClass[0].keys).isSuperset(of: ["class", "precision", "recall", "f1", "fpr", "fnr", "support", "roc_auc", "average_precision"]))
        let calibration = try #require(json["calibration"] as? [String: Any])
        for key in ["ece", "mce", "rmsce", "adaptive_ece", "classwise_ece", "brier", "nll", "bins"] {
            #expect(calibration[key] != nil, "missing calibration.\(key)")
        }
        #expect((calibration["bins"] as? [[String: Any]])?.first?.keys.sorted() == ["accuracy", "confidence", "count", "lower", "upper"])
        let intervals = try #require(json["intervals"] as? [String: [String: Any]])
        #expect(intervals["accuracy"]?["level"] as? Double == 0.95)
        // The text form names every metric.
        let text = try CLI.run(["score", "classification", "--labels", "labels.jsonl", "--predictions", "preds.jsonl", "--bootstrap", "0"], in: files.folder)
        #expect(text.status == 0 && text.stdout.contains("adaptive ECE") && text.stdout.contains("roc_auc"))
    }

    @Test(arguments: [
        ("preds.jsonl", "{\"id\": \"s2\", \"probs\": [0.1, 0.6, 0.1, 0.1 0.1]}",
         "error: preds.jsonl:1: column 43: not valid JSON near '0.1]}'"),
        ("preds.jsonl", "{\"id\": \"s2\", \"probs\": [NaN, 0.6, 0.1, 0.1, 0.1]}",
         "error: preds.jsonl:1: probs[0] is NaN, not a finite number; scores must be finite"),
        ("preds.jsonl", "{\"id\": \"s2\", \"probs\": [0.1, 0.5, 0.1, 0.1, 0.1]}",
         "error: preds.jsonl:1: probs sum to 0.9, 0.1 away from 1 (accepted within 0.001); use \"logits\" for raw scores"),
        ("preds.jsonl", "{\"id\": \"s2\", \"probs\": [0.4, 0.6]}",
         "error: preds.jsonl:2: 5 class scores, but line 1 has 2; every line needs one per class"),
        ("preds.jsonl", "{\"id\": \"s2\"}", "error: preds.jsonl:1: needs \"probs\" (probabilities) or \"logits\""),
        ("preds.jsonl", "{\"id\": \"s9\", \"probs\": [0.1, 0.6, 0.1, 0.1, 0.1]}",
         "error: labels.jsonl:2: id 's2' has no prediction in preds.jsonl"),
        ("labels.jsonl", "{\"id\": \"s2\", \"label\": 7}",
         "error: labels.jsonl:2: label 7 is not a class index of preds.jsonl's predictions (they have 5 classes: 0…4)"),
        ("labels.jsonl", "{\"id\": \"s2\", \"label\": \"cat\"}",
         "error: labels.jsonl:2: label: must be a class index (0, 1, 2, …), found the text \"cat\""),
    ])
    func classificationBadInput(file: String, firstLine: String, message: String) throws {
        let files = try Files()
        defer { files.remove() }
        let labels = Self.labels.split(separator: "\n").map(String.init)
        let predictions = Self.predictions.split(separator: "\n").map(String.init)
        if file == "labels.jsonl" {
            try files.write("labels.jsonl", ([labels[0], firstLine] + labels.dropFirst(2)).joined(separator: "\n"))
            try files.write("preds.jsonl", Self.predictions)
        } else {
            try files.write("labels.jsonl", Self.labels)
            try files.write("preds.jsonl", ([firstLine] + predictions.dropFirst()).joined(separator: "\n"))
        }
        let output = try CLI.run(["score", "classification", "--labels", "labels.jsonl", "--predictions", "preds.jsonl"], in: files.folder)
        #expect(output.status == 2)
        #expect(output.stderr == message + "\n")
    }

    static func detectionFixture() throws -> (gt: Data, results: Data, map: Double, map50: Double) {
        let cases = JSONValue.load(Repository.fixture("metrics/detection.json")).array
        let mixed = cases.first { $0["name"]?.string == "mixed" }!
        return (try mixed["gt"]!.data(), try mixed["results"]!.data(), mixed["stats"]!.doubles[0], mixed["stats"]!.doubles[1])
    }

    @Test func detectionJSONFollowsTheContractAndMatchesPycocotools() throws {
        let files = try Files()
        defer { files.remove() }
        let fixture = try Self.detectionFixture()
        try fixture.gt.write(to: files.folder.appendingPathComponent("gt.json"))
        try fixture.results.write(to: files.folder.appendingPathComponent("dt.json"))
        let output = try CLI.run(["score", "detection", "--gt", "gt.json", "--predictions", "dt.json", "--json",
                                  "--score-threshold", "0.5", "--bootstrap", "20"], in: files.folder)
        #expect(output.status == 0, "\(output.stderr)")
        let json = try files.json(output)
        for key in ["map", "map50", "map75", "map_small", "map_medium", "map_large", "ar1", "ar10", "ar100", "ar_small",
                    "ar_medium", "ar_large", "per_class", "image_fpr", "n_images"] {
            #expect(json[key] != nil, "missing \(key)")
        }
        #expect(abs((json["map"] as? Double ?? -2) - fixture.map) < 1e-9)
        #expect(abs((json["map50"] as? Double ?? -2) - fixture.map50) < 1e-9)
        let perClass = try #require(json["per_class"] as? [[String: Any]])
        #expect(perClass.first?.keys.sorted() == ["ap", "ap50", "category_id", "fn", "fnr", "fp", "name", "precision", "recall", "tp"])
        let text = try CLI.run(["score", "detection", "--gt", "gt.json", "--predictions", "dt.json", "--bootstrap", "0"], in: files.folder)
        #expect(text.stdout.contains(" Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = "))
    }

    static let gt = """
        {"images": [{"id": 1}, {"id": 2}], "categories": [{"id": 1, "name": "face"}],
         "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20], "area": 400, "iscrowd": 0}]}
        """

    @Test(arguments: [
        ("[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [10, 10, 20, 20], \"score\": 0.9},\n {\"image_id\": 1 \"category_id\": 1}]",
         "error: dt.json: line 2, column 17: not valid JSON near '\"category_id'"),
        ("[{\"image_id\": 1, \"category_id\": 7, \"bbox\": [10, 10, 20, 20], \"score\": 0.9}]",
         "error: dt.json: detection 0 (image_id 1): category_id 7 is not a category of the ground truth"),
        ("[{\"image_id\": 3, \"category_id\": 1, \"bbox\": [10, 10, 20, 20], \"score\": 0.9}]",
         "error: dt.json: detection 0 (image_id 3): image_id 3 is not an image of the ground truth"),
        ("[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [10, 10, 20, 20], \"score\": 0.9}, {\"image_id\": 2, \"category_id\": 1, \"bbox\": [1, 1, 2, 2], \"score\": NaN}]",
         "error: dt.json: detection 1 (image_id 2): score is NaN, not a finite number; boxes and scores must be finite"),
        ("[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [10, 10, 0, 20], \"score\": 0.9}]",
         "error: dt.json: detection 0 (image_id 1): bbox [10.0, 10.0, 0.0, 20.0] has zero or negative size (COCO boxes are [x, y, width, height])"),
        ("[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [10, 10, 20], \"score\": 0.9}]",
         "error: dt.json: [0].bbox: a bbox is [x, y, width, height]: 4 numbers, found 3"),
    ])
    func detectionBadInput(results: String, message: String) throws {
        let files = try Files()
        defer { files.remove() }
        try files.write("gt.json", Self.gt)
        try files.write("dt.json", results)
        let output = try CLI.run(["score", "detection", "--gt", "gt.json", "--predictions", "dt.json"], in: files.folder)
        #expect(output.status == 2)
        #expect(output.stderr == message + "\n")
    }

    @Test func groundTruthProblemsAreNamed() throws {
        let files = try Files()
        defer { files.remove() }
        try files.write("gt.json", Self.gt.replacingOccurrences(of: "[10, 10, 20, 20]", with: "[10, 10, -5, 20]"))
        try files.write("dt.json", "[]")
        let output = try CLI.run(["score", "detection", "--gt", "gt.json", "--predictions", "dt.json"], in: files.folder)
        #expect(output.status == 2)
        #expect(output.stderr == "error: gt.json: annotations[0] (id 1): bbox [10.0, 10.0, -5.0, 20.0] has zero or negative size (COCO boxes are [x, y, width, height])\n")
    }

    @Test func compareReportsPairedDeltas() throws {
        let files = try Files()
        defer { files.remove() }
        try files.write("labels.jsonl", Self.labels)
        try files.write("a.jsonl", Self.predictions)
        try files.write("b.jsonl", Self.predictions.replacingOccurrences(of: "[0.2, 0.2, 0.2, 0.2, 0.2]", with: "[0.1, 0.6, 0.1, 0.1, 0.1]"))
        let output = try CLI.run(["score", "compare", "--labels", "labels.jsonl", "--baseline", "a.jsonl", "--candidate", "b.jsonl",
                                  "--json", "--bootstrap", "100", "--metrics", "accuracy,ece,fnr[1]"], in: files.folder)
        #expect(output.status == 0, "\(output.stderr)")
        let deltas = try #require(try files.json(output)["deltas"] as? [[String: Any]])
        #expect(deltas.map { $0["metric"] as? String } == ["accuracy", "ece", "fnr[1]"])
        #expect(abs((deltas[0]["delta"] as? Double ?? 0) - 1.0 / 6.0) < 1e-12)   // s4 is now right
        #expect(deltas[0]["test"] as? String == "mcnemar-exact")
        #expect((deltas[0]["mcnemar"] as? [String: Any])?["only_second_correct"] as? Int == 1)

        let gtFiles = try Files()
        defer { gtFiles.remove() }
        let fixture = try Self.detectionFixture()
        try fixture.gt.write(to: gtFiles.folder.appendingPathComponent("gt.json"))
        try fixture.results.write(to: gtFiles.folder.appendingPathComponent("a.json"))
        try fixture.results.write(to: gtFiles.folder.appendingPathComponent("b.json"))
        let same = try CLI.run(["score", "compare", "--gt", "gt.json", "--baseline", "a.json", "--candidate", "b.json", "--bootstrap", "30"],
                               in: gtFiles.folder)
        #expect(same.status == 0, "\(same.stderr)")
        #expect(same.stdout.contains("map ") && same.stdout.contains("+0.00 pp"))
        let neither = try CLI.run(["score", "compare", "--baseline", "a.json", "--candidate", "b.json"], in: gtFiles.folder)
        #expect(neither.status == 2 && neither.stderr.contains("give exactly one of --labels (classification) and --gt (detection)"))
    }
}

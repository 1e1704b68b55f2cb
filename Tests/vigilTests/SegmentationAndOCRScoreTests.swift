import Foundation
import Testing
import Vigil
import VigilTestSupport

/// `vigil score segmentation` and `vigil score ocr` against their references on seeded cases:
/// a numpy implementation of mmsegmentation's and Cityscapes' definitions, and jiwer (PyPI).
@Suite("Segmentation and OCR scores against numpy and jiwer")
struct SegmentationAndOCRScoreTests {
    static let python = Repository.url(".build-venv/bin/python")

    /// Runs a reference script of Scripts/ into a fresh folder and returns the folder.
    static func reference(_ script: String, _ arguments: [String] = []) throws -> URL {
        #expect(FileManager.default.isExecutableFile(atPath: python.path), "make test's setup makes .build-venv with numpy, Pillow and jiwer")
        let folder = try temporaryFolder("reference")
        let process = Process()
        process.executableURL = python
        process.arguments = [Repository.url("Scripts/\(script)").path, folder.path] + arguments
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(script): \(message)")
        return folder
    }

    static func json(_ text: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
    }

    static func close(_ a: Any?, _ b: Any?) -> Bool {
        if a is NSNull || a == nil { return b is NSNull || b == nil }
        guard let x = (a as? NSNumber)?.doubleValue, let y = (b as? NSNumber)?.doubleValue else { return false }
        return abs(x - y) <= 1e-9
    }

    @Test(arguments: [3, 11])
    func segmentationEqualsTheNumpyDefinition(seed: Int) throws {
        let folder = try Self.reference("reference_segmentation.py", ["--seed", "\(seed)"])
        defer { try? FileManager.default.removeItem(at: folder) }
        let expected = try Self.json(String(contentsOf: folder.appendingPathComponent("expected.json"), encoding: .utf8))
        let output = try CLI.run(["score", "segmentation", "--gt", "gt", "--predictions", "pred", "--num-classes", "7",
                                  "--bootstrap", "200", "--json"], in: folder)
        #expect(output.status == 0, "\(output.stderr)")
        let score = try Self.json(output.stdout)
        for key in ["miou", "mean_dice", "pixel_accuracy", "fw_iou"] {
            #expect(Self.close(score[key], expected[key]), "\(key): vigil \(score[key] ?? "nil"), numpy \(expected[key] ?? "nil")")
            #expect((score["intervals"] as? [String: Any])?[key] is [String: Any], "\(key) has a bootstrap interval")
        }
        #expect(score["n"] as? Int == 12)
        let ours = score["per_class"] as? [[String: Any]] ?? [], theirs = expected["per_class"] as? [[String: Any]] ?? []
        #expect(ours.count == 7 && theirs.count == 7)
        for (a, b) in zip(ours, theirs) {
            #expect(a["class"] as? Int == b["class"] as? Int && a["support"] as? Int == b["support"] as? Int)
            #expect(Self.close(a["iou"], b["iou"]) && Self.close(a["dice"], b["dice"]), "class \(a["class"] ?? ""): \(a) vs \(b)")
        }
        // Class 6 is in neither truth nor prediction: undefined, and left out of the means.
        #expect(ours.last?["iou"] is NSNull)

        // Without --num-classes, the classes seen (0…5): the same means.
        let inferred = try Self.json(try CLI.run(["score", "segmentation", "--gt", "gt", "--predictions", "pred", "--bootstrap", "0", "--json"],
                                                 in: folder).stdout)
        #expect((inferred["per_class"] as? [Any])?.count == 6)
        #expect(Self.close(inferred["miou"], expected["miou"]))
    }

    @Test func segmentationRefusesWhatItCannotScore() throws {
        let folder = try Self.reference("reference_segmentation.py", ["--images", "4"])
        defer { try? FileManager.default.removeItem(at: folder) }
        let fm = FileManager.default
        try fm.removeItem(at: folder.appendingPathComponent("pred/img-01.png"))
        let missing = try CLI.run(["score", "segmentation", "--gt", "gt", "--predictions", "pred"], in: folder)
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("gt/img-01.png has no prediction pred/img-01.png"), "\(missing.stderr)")
        try fm.copyItem(at: folder.appendingPathComponent("gt/img-01.png"), to: folder.appendingPathComponent("pred/img-01.png"))
        let tooFew = try CLI.run(["score", "segmentation", "--gt", "gt", "--predictions", "pred", "--num-classes", "3"], in: folder)
        #expect(tooFew.status == 2)
        #expect(tooFew.stderr.contains("not one of 0…2 (--num-classes 3)"), "\(tooFew.stderr)")
        // A JPEG "mask" would change class indices: refused by what the file is.
        try Data([0xFF, 0xD8, 0xFF, 0xE0] + [UInt8](repeating: 0, count: 40)).write(to: folder.appendingPathComponent("gt/img-02.png"))
        let jpeg = try CLI.run(["score", "segmentation", "--gt", "gt", "--predictions", "pred"], in: folder)
        #expect(jpeg.status == 2 && jpeg.stderr.contains("gt/img-02.png: not a PNG file"), "\(jpeg.stderr)")
    }

    @Test func segmentationPairedDeltas() throws {
        // Two models on the same three images: the candidate fixes the baseline's mistakes on one.
        let truth: [[UInt8]] = [[0, 0, 1, 1, 2, 2], [0, 1, 1, 2, 2, 255], [2, 2, 1, 0, 0, 1]]
        let baselineMasks: [[UInt8]] = [[0, 1, 1, 1, 2, 0], [0, 1, 1, 2, 2, 0], [2, 0, 1, 0, 0, 1]]
        var candidateMasks = baselineMasks
        candidateMasks[0] = truth[0]
        func counts(_ masks: [[UInt8]]) throws -> [SemanticSegmentation.ImageCounts] {
            try zip(truth, masks).enumerated().map { index, pair in
                try SemanticSegmentation.ImageCounts(id: "i\(index)", truth: pair.0, prediction: pair.1, width: 3, classes: 3, ignoreIndex: 255)
            }
        }
        let baseline = try counts(baselineMasks), candidate = try counts(candidateMasks)
        let deltas = try SemanticSegmentation.compare(baseline: baseline, candidate: candidate, classes: 3,
                                                      bootstrap: Bootstrap(replicates: 300, seed: 2))
        let a = SemanticSegmentation.metrics(baseline, classes: 3), b = SemanticSegmentation.metrics(candidate, classes: 3)
        #expect(deltas.map(\.metric) == ["miou", "mean_dice", "pixel_accuracy", "fw_iou"])
        #expect(deltas[0].delta == b.miou! - a.miou! && deltas[0].delta! > 0)
        #expect(deltas[2].delta == b.pixelAccuracy! - a.pixelAccuracy!)
        #expect(deltas.allSatisfy { $0.interval != nil && $0.pValue != nil })
        // A model against itself: no difference, p = 1.
        let same = try SemanticSegmentation.compare(baseline: baseline, candidate: baseline, classes: 3, bootstrap: Bootstrap(replicates: 100, seed: 2))
        #expect(same.allSatisfy { $0.delta == 0 && $0.pValue == 1 })
        // Other truth is not a paired comparison.
        #expect(throws: InputError.self) {
            try SemanticSegmentation.compare(baseline: baseline, candidate: Array(candidate.reversed()), classes: 3, bootstrap: Bootstrap(replicates: 10))
        }
    }

    @Test(arguments: [7, 2026])
    func ocrEqualsJiwer(seed: Int) throws {
        let folder = try Self.reference("reference_ocr.py", ["--seed", "\(seed)", "--lines", "3000"])
        defer { try? FileManager.default.removeItem(at: folder) }
        let expected = try Self.json(String(contentsOf: folder.appendingPathComponent("expected.json"), encoding: .utf8))
        let output = try CLI.run(["score", "ocr", "--labels", "labels.jsonl", "--predictions", "predictions.jsonl", "--bootstrap", "200", "--json"],
                                 in: folder)
        #expect(output.status == 0, "\(output.stderr)")
        let score = try Self.json(output.stdout)
        for key in ["cer", "wer", "exact_match"] {
            #expect(Self.close(score[key], expected[key]), "\(key): vigil \(score[key] ?? "nil"), jiwer \(expected[key] ?? "nil")")
        }
        #expect(score["n"] as? Int == expected["n"] as? Int)
        let ours = score["samples"] as? [[String: Any]] ?? [], theirs = expected["samples"] as? [[String: Any]] ?? []
        #expect(ours.count == theirs.count && ours.count == 3000)
        var differing: [String] = []
        for (a, b) in zip(ours, theirs) where ["id", "char_edits", "reference_chars", "word_edits", "reference_words"]
            .contains(where: { "\(a[$0] ?? "")" != "\(b[$0] ?? "")" }) {
            differing.append("\(b["id"] ?? ""): vigil \(a), jiwer \(b)")
        }
        #expect(differing.isEmpty, "\(differing.prefix(3).joined(separator: "\n"))")
    }

    @Test func ocrDefinitionsOnHandWrittenCases() throws {
        // Code points, not grapheme clusters: e + U+0301 is two characters.
        #expect(TextRecognition.characters("  cafe\u{301}\t") == Array("cafe\u{301}".unicodeScalars))
        // Runs of whitespace collapse; a lone tab stays inside a word (jiwer splits on spaces).
        #expect(TextRecognition.words(" a  b\tc \u{3000}\u{3000}d ") == ["a", "b\tc", "d"])
        // Words differ when their code points do, as in Python, though Swift's == calls them equal.
        let composed = TextRecognition.SampleScore(id: "e", reference: "caf\u{E9} ok", prediction: "cafe\u{301} ok")
        #expect(composed.wordEdits == 1 && composed.characterEdits == 2)
        // U+001C is whitespace to Python (str.strip), though not Unicode White_Space.
        #expect(TextRecognition.characters("\u{1C}x\u{1C}").count == 1)
        let samples = [TextRecognition.SampleScore(id: "a", reference: "the cat", prediction: "the hat"),
                       TextRecognition.SampleScore(id: "b", reference: "sat", prediction: ""),
                       TextRecognition.SampleScore(id: "c", reference: "on", prediction: "on")]
        let m = TextRecognition.metrics(samples)
        #expect(m.characterEdits == 1 + 3 && m.referenceCharacters == 7 + 3 + 2)
        #expect(m.cer == 4.0 / 12 && m.wer == 2.0 / 4 && m.exactMatch == 1.0 / 3)
        let better = [TextRecognition.SampleScore(id: "a", reference: "the cat", prediction: "the cat"), samples[1], samples[2]]
        let deltas = try TextRecognition.compare(baseline: samples, candidate: better, bootstrap: Bootstrap(replicates: 200, seed: 1))
        #expect(abs((deltas.first { $0.metric == "cer" }?.delta ?? 0) - (-1.0 / 12)) < 1e-15)
        #expect(abs((deltas.first { $0.metric == "exact_match" }?.delta ?? 0) - 1.0 / 3) < 1e-15)
    }

    @Test func ocrFilesAreCheckedLineByLine() throws {
        let folder = try temporaryFolder("ocr-files")
        defer { try? FileManager.default.removeItem(at: folder) }
        try "{\"id\": \"a\", \"text\": \"x\"}\n{\"id\": \"b\", \"text\": \"y\"}\n".write(to: folder.appendingPathComponent("l.jsonl"), atomically: true, encoding: .utf8)
        try "{\"id\": \"a\", \"text\": \"x\"}\n".write(to: folder.appendingPathComponent("p.jsonl"), atomically: true, encoding: .utf8)
        let missing = try CLI.run(["score", "ocr", "--labels", "l.jsonl", "--predictions", "p.jsonl"], in: folder)
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("l.jsonl:2: id 'b' has no prediction in p.jsonl"), "\(missing.stderr)")
        try "{\"id\": \"a\", \"text\": 3}\n".write(to: folder.appendingPathComponent("p.jsonl"), atomically: true, encoding: .utf8)
        let number = try CLI.run(["score", "ocr", "--labels", "l.jsonl", "--predictions", "p.jsonl"], in: folder)
        #expect(number.status == 2 && number.stderr.contains("p.jsonl:1:"), "\(number.stderr)")
    }
}

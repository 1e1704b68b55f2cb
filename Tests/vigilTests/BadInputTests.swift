import Foundation
import Testing
import VigilTestSupport
import Vigil
import GRDB

/// One bad input, what the command must print for it (its whole stderr: one line), and exit 2.
/// A new case is one entry in `BadInputTests.cases`.
struct BadInput: Sendable, CustomTestStringConvertible {
    var name: String
    /// Files written into the scratch folder first (relative path → text).
    var files: [String: String] = [:]
    var arguments: [String]
    var environment: [String: String] = [:]
    /// Binary files written into the scratch folder first.
    var data: [String: Data] = [:]
    /// The stderr line exactly, or (starting with "…") a part of it.
    var message: String

    var testDescription: String { name }
}

private let labels3 = """
    {"id": "a", "label": 0}
    {"id": "b", "label": 1}
    {"id": "c", "label": 2}
    """
private let labels2 = """
    {"id": "a", "label": 0}
    {"id": "b", "label": 1}
    {"id": "c", "label": 0}
    """
private let predictions3 = """
    {"id": "a", "probs": [0.8, 0.1, 0.1]}
    {"id": "b", "probs": [0.2, 0.7, 0.1]}
    {"id": "c", "probs": [0.3, 0.3, 0.4]}
    """
private let predictions2 = """
    {"id": "a", "probs": [0.8, 0.2]}
    {"id": "b", "probs": [0.3, 0.7]}
    {"id": "c", "probs": [0.6, 0.4]}
    """
private let scoring = ["l.jsonl": labels3, "p.jsonl": predictions3]
private let classify = ["score", "classification", "--labels", "l.jsonl", "--predictions", "p.jsonl"]

/// The first half of a real photograph's JPEG file.
private let halfJPEG: Data = {
    let whole = (try? Data(contentsOf: CLI.root.appendingPathComponent("GoldenSets/faces/images/composite-00.jpg"))) ?? Data()
    return whole.prefix(whole.count / 2)
}()

/// The photograph with 400 bytes of its compressed data zeroed: complete, but corrupt.
private let zeroedJPEG: Data = {
    var bytes = [UInt8]((try? Data(contentsOf: CLI.root.appendingPathComponent("GoldenSets/faces/images/composite-00.jpg"))) ?? Data())
    for index in (bytes.count / 2)..<(bytes.count / 2 + 400) where index < bytes.count { bytes[index] = 0 }
    return Data(bytes)
}()

/// A digit's PNG with one byte of its compressed image data inverted.
private let flippedPNG: Data = {
    var bytes = [UInt8]((try? Data(contentsOf: CLI.root.appendingPathComponent("GoldenSets/digits/images/3/r15c01.png"))) ?? Data())
    if bytes.count > 30 { bytes[bytes.count - 30] ^= 0xFF }
    return Data(bytes)
}()

/// A PNG's chunks with the given header (8-bit, `colour` type) and an empty image stream;
/// its structure is all the checks read (CRCs are left zero).
private func png(width: UInt32, height: UInt32, colour: UInt8) -> Data {
    func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
        withUnsafeBytes(of: UInt32(body.count).bigEndian, Array.init) + Array(type.utf8) + body + [0, 0, 0, 0]
    }
    let header = withUnsafeBytes(of: width.bigEndian, Array.init) + withUnsafeBytes(of: height.bigEndian, Array.init) + [8, colour, 0, 0, 0]
    return Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", header) + chunk("IDAT", []) + chunk("IEND", []))
}

@Suite("Bad input: one clear line, exit 2")
struct BadInputTests {
    static let cases: [BadInput] = [
        // Numeric options: documented ranges, refused in one line (no overflow, no 16 GB).
        BadInput(name: "bins beyond Int's range", files: scoring, arguments: classify + ["--bins", "9223372036854775807"],
                 message: "error: --bins must be in 1...10000 (got 9223372036854775807) (see 'vigil score classification --help')"),
        BadInput(name: "no bins", files: scoring, arguments: classify + ["--bins", "0"],
                 message: "error: --bins must be in 1...10000 (got 0) (see 'vigil score classification --help')"),
        BadInput(name: "negative bins", files: scoring, arguments: classify + ["--bins", "-3"],
                 message: "error: --bins -3: negative values are outside every option's range (see 'vigil score classification --help')"),
        BadInput(name: "two billion bootstrap replicates", files: scoring, arguments: classify + ["--bootstrap", "2000000000"],
                 message: "error: --bootstrap must be in 0...1000000 (got 2000000000) (see 'vigil score classification --help')"),
        BadInput(name: "a confidence of 1.5", files: scoring, arguments: classify + ["--confidence", "1.5"],
                 message: "error: --confidence must be between 0 and 1 (see 'vigil score classification --help')"),
        BadInput(name: "a NaN score threshold", arguments: ["score", "detection", "--gt", "g.json", "--predictions", "d.json", "--score-threshold", "nan"],
                 message: "error: --score-threshold must be a finite number (see 'vigil score detection --help')"),
        BadInput(name: "no workers", arguments: ["run", "suite.yaml", "--workers", "0"],
                 message: "error: --workers must be in 1...256 (got 0) (see 'vigil run --help')"),
        BadInput(name: "a thousand workers", arguments: ["corrupt", "x.png", "--scenario", "fog@1", "-o", "y.png", "--workers", "1000"],
                 message: "…--workers must be in 1...256 (got 1000)"),
        BadInput(name: "history of no runs", arguments: ["history", "--limit", "0"],
                 message: "error: --limit must be in 1...100000 (got 0) (see 'vigil history --help')"),
        // Argument errors: one line and the --help hint, no usage block.
        BadInput(name: "an unknown option", files: scoring, arguments: classify + ["--bogus"],
                 message: "error: Unknown option '--bogus'. Did you mean '--bins'? (see 'vigil score classification --help')"),
        BadInput(name: "a missing argument", arguments: ["run"], message: "error: Missing expected argument '<suite>' (see 'vigil run --help')"),
        // The store.
        BadInput(name: "an empty --store", arguments: ["history", "--store", ""],
                 message: "error: --store is empty; give the run store's path (an SQLite file)"),
        BadInput(name: "an empty VIGIL_STORE", arguments: ["history"], environment: ["VIGIL_STORE": ""],
                 message: "error: VIGIL_STORE is set but empty; give the run store's path, or unset it for .vigil/history.sqlite"),
        // Scoring files.
        BadInput(name: "a per-class metric of a class that does not exist", files: scoring.merging(["q.jsonl": predictions3]) { a, _ in a },
                 arguments: ["score", "compare", "--labels", "l.jsonl", "--baseline", "p.jsonl", "--candidate", "q.jsonl", "--metrics", "fnr[99]", "--bootstrap", "10"],
                 message: "error: metric 'fnr[99]': there is no class '99' (classes: 0, 1, 2)"),
        BadInput(name: "a comparison of different class counts", files: ["l.jsonl": labels2, "p.jsonl": predictions3, "q.jsonl": predictions2],
                 arguments: ["score", "compare", "--labels", "l.jsonl", "--baseline", "p.jsonl", "--candidate", "q.jsonl", "--bootstrap", "10"],
                 message: "error: q.jsonl: 2 class probabilities per prediction, but p.jsonl has 3; a comparison needs the same classes"),
        BadInput(name: "a fractional label", files: ["l.jsonl": "{\"id\": \"a\", \"label\": 1.5}\n", "p.jsonl": "{\"id\": \"a\", \"probs\": [0.5, 0.5]}\n"],
                 arguments: classify, message: "error: l.jsonl:1: label: must be a class index (0, 1, 2, …), found 1.5"),
        // Images: structure checked before OpenCV decodes, nothing from libjpeg or libpng on stderr.
        BadInput(name: "a JPEG cut in half", arguments: ["corrupt", "half.jpg", "--scenario", "fog@1", "-o", "out.png"],
                 data: ["half.jpg": halfJPEG], message: "error: half.jpg: the JPEG file is truncated (it ends before its end-of-image marker)"),
        BadInput(name: "a PNG cut short", arguments: ["corrupt", "short.png", "--scenario", "fog@1", "-o", "out.png"],
                 data: ["short.png": png(width: 48, height: 48, colour: 0).prefix(40)],
                 message: "error: short.png: the PNG file is truncated (it ends before its IEND chunk)"),
        BadInput(name: "a grey PNG with alpha", arguments: ["corrupt", "la.png", "--scenario", "fog@1", "-o", "out.png"],
                 data: ["la.png": png(width: 48, height: 48, colour: 4)],
                 message: "error: la.png: the PNG is grey with an alpha channel; Vigil reads 8-bit grey or colour (drop the alpha channel)"),
        BadInput(name: "a PNG declaring ten billion pixels", arguments: ["corrupt", "huge.png", "--scenario", "fog@1", "-o", "out.png"],
                 data: ["huge.png": png(width: 100_000, height: 100_000, colour: 0)],
                 message: "error: huge.png: the PNG declares 100000×100000 pixels, more than the 2^30 (about 1.07 billion) OpenCV decodes"),
        BadInput(name: "a JPEG with corrupt data", arguments: ["corrupt", "zeroed.jpg", "--scenario", "fog@1", "-o", "out.png"],
                 data: ["zeroed.jpg": zeroedJPEG],
                 message: "error: zeroed.jpg: the image data is damaged (libjpeg: Corrupt JPEG data: premature end of data segment)"),
        BadInput(name: "a PNG with a broken image stream", arguments: ["corrupt", "flipped.png", "--scenario", "fog@1", "-o", "out.png"],
                 data: ["flipped.png": flippedPNG], message: "error: flipped.png: the image data is damaged (libpng: IDAT: invalid distance code)"),
        // Files that cannot be written: the path and the reason, not Foundation's dump.
        BadInput(name: "an output under a file", files: ["afile": "x"],
                 arguments: ["corrupt", "\(CLI.root.path)/GoldenSets/faces/images/composite-00.jpg", "--scenario", "fog@1", "-o", "afile/x/out.png"],
                 message: "error: afile/x: afile is a file, not a folder"),
    ]

    @Test(arguments: cases) func isRefusedInOneLine(_ bad: BadInput) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for (path, text) in bad.files {
            try (text + (text.hasSuffix("\n") || path == "afile" ? "" : "\n")).write(to: folder.appendingPathComponent(path), atomically: true, encoding: .utf8)
        }
        for (path, bytes) in bad.data { try bytes.write(to: folder.appendingPathComponent(path)) }
        let output = try CLI.run(bad.arguments, in: folder, environment: bad.environment)
        #expect(output.status == 2, "\(output.stderr)")
        #expect(output.stderrLines.count == 1, "\(output.stderr)")
        let line = String(output.stderrLines.first ?? "")
        if bad.message.hasPrefix("…") {
            #expect(line.contains(bad.message.dropFirst()), "\(line)")
        } else {
            #expect(line == bad.message)
        }
    }
}

@Suite("Golden sets: nothing outside the folder is read")
struct GoldenSetEscapeTests {
    /// A sample file replaced by a link to a copy outside (the same bytes, so the hash would
    /// match), a linked images folder, and a linked manifest: all refused by name, no hash shown.
    @Test func linksThatLeaveTheFolderAreRefused() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let manager = FileManager.default
        let manifest = try GoldenSet.load(ws.goldenSet).manifest
        let sample = manifest.samples[0]
        let inside = ws.goldenSet.appendingPathComponent(sample.path)
        let outside = ws.folder.appendingPathComponent("elsewhere.png")
        try manager.moveItem(at: inside, to: outside)
        try manager.createSymbolicLink(at: inside, withDestinationURL: outside)
        try ws.suite()
        let verify = try CLI.run(["golden", "verify", "golden"], in: ws.folder)
        #expect(verify.status == 1, "\(verify.stderr)")
        #expect(verify.stdout.contains("golden/\(sample.path): leads outside the golden set folder (a symbolic link to "), "\(verify.stdout)")
        #expect(!verify.stdout.contains(sample.sha256.prefix(12)), "the target's hash is not shown")
        let run = try CLI.run(["run", "suite.yaml", "--store", "h.sqlite", "--no-report"], in: ws.folder)
        #expect(run.status == 2 && run.stderrLines.count == 1, "\(run.stderr)")
        #expect(run.stderr.contains("leads outside the golden set folder"), "\(run.stderr)")

        // A link inside the folder to a file inside it is fine.
        try manager.removeItem(at: inside)
        try manager.moveItem(at: outside, to: ws.goldenSet.appendingPathComponent("kept.png"))
        try manager.createSymbolicLink(atPath: inside.path, withDestinationPath: ws.goldenSet.appendingPathComponent("kept.png").path)
        var copy = manifest
        copy.ignore = ["kept.png"]
        try JSONEncoder().encode(copy).write(to: ws.goldenSet.appendingPathComponent("manifest.json"))
        let fine = try CLI.run(["golden", "verify", "golden"], in: ws.folder)
        #expect(fine.status == 0, "\(fine.stdout)\(fine.stderr)")

        // A linked folder of images.
        let folderOfImages = ws.goldenSet.appendingPathComponent(String(sample.path.split(separator: "/")[0]))
        let moved = ws.folder.appendingPathComponent("images-elsewhere")
        try manager.moveItem(at: folderOfImages, to: moved)
        try manager.createSymbolicLink(at: folderOfImages, withDestinationURL: moved)
        let linkedFolder = try CLI.run(["golden", "verify", "golden"], in: ws.folder)
        #expect(linkedFolder.status == 1 && linkedFolder.stdout.contains("leads outside the golden set folder"), "\(linkedFolder.stdout)")

        // A linked manifest.
        let manifestURL = ws.goldenSet.appendingPathComponent("manifest.json")
        try manager.moveItem(at: manifestURL, to: ws.folder.appendingPathComponent("manifest.json"))
        try manager.createSymbolicLink(at: manifestURL, withDestinationURL: ws.folder.appendingPathComponent("manifest.json"))
        let linkedManifest = try CLI.run(["golden", "verify", "golden"], in: ws.folder)
        #expect(linkedManifest.status == 2 && linkedManifest.stderrLines.count == 1, "\(linkedManifest.stderr)")
        #expect(linkedManifest.stderr.contains("manifest.json: leads outside the golden set folder"), "\(linkedManifest.stderr)")
    }
}

@Suite("Half-written results never look complete")
struct HalfWrittenTests {
    /// A report that cannot be written: the table is printed first, the command exits 2 with
    /// one line, the stored run is complete with no report recorded, and nothing is left where
    /// the report would have been. A report that is written is recorded in the store.
    @Test func aReportThatCannotBeWrittenLeavesTheRunWithoutOne() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        try ws.suite(scenarios: "[clean]")
        try "not a folder".write(to: ws.folder.appendingPathComponent("reports"), atomically: true, encoding: .utf8)
        let failed = try CLI.run(["run", "suite.yaml", "--store", "h.sqlite", "--reports", "reports"], in: ws.folder)
        #expect(failed.status == 2, "\(failed.stderr)")
        #expect(failed.stderrLines.count == 1 && failed.stderr.contains("cannot create the report folder (reports is a file, not a folder)"), "\(failed.stderr)")
        #expect(failed.stdout.contains("Gate:"), "the table comes first: \(failed.stdout)")
        let queue = try DatabaseQueue(path: ws.folder.appendingPathComponent("h.sqlite").path)
        let rows = try queue.read { try Row.fetchAll($0, sql: "SELECT status, report_path FROM runs") }
        #expect(rows.count == 1 && rows[0]["status"] == "complete" && (rows[0]["report_path"] as String?) == nil)

        try FileManager.default.removeItem(at: ws.folder.appendingPathComponent("reports"))
        let written = try CLI.run(["run", "suite.yaml", "--store", "h.sqlite", "--reports", "reports", "--no-reuse"], in: ws.folder)
        #expect(written.status <= 1, "\(written.stderr)")
        let paths = try queue.read { try String.fetchAll($0, sql: "SELECT report_path FROM runs WHERE report_path IS NOT NULL") }
        #expect(paths.count == 1)
        #expect(FileManager.default.fileExists(atPath: ws.folder.appendingPathComponent(paths.first ?? "-").path))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: ws.folder.appendingPathComponent("reports").path)
        #expect(leftovers.count == 1 && !leftovers[0].hasPrefix("."), "\(leftovers)")
    }
}

@Suite("Golden sets: listed images are checked as images, not only hashed")
struct GoldenSetDamageTests {
    /// An image cut short before it was listed matches its hash; verification still names it,
    /// and a run refuses the golden set before any model runs.
    @Test func aTruncatedImageWithAMatchingHashFailsVerification() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let goldenSet = try GoldenSet.load(ws.goldenSet)
        var manifest = goldenSet.manifest
        let file = ws.goldenSet.appendingPathComponent(manifest.samples[0].path)
        let bytes = try Data(contentsOf: file)
        try bytes.prefix(bytes.count / 2).write(to: file)
        manifest.samples[0].sha256 = try SHA256.hex(ofFile: file)
        try JSONEncoder().encode(manifest).write(to: ws.goldenSet.appendingPathComponent("manifest.json"))
        try ws.suite(scenarios: "[clean]")
        let verify = try CLI.run(["golden", "verify", "golden"], in: ws.folder)
        #expect(verify.status == 1)
        #expect(verify.stdout.contains("golden/\(manifest.samples[0].path): the PNG file is truncated (it ends before its IEND chunk)"), "\(verify.stdout)")
        let run = try CLI.run(["run", "suite.yaml", "--store", "h.sqlite", "--no-report"], in: ws.folder)
        #expect(run.status == 2 && run.stderrLines.count == 1, "\(run.stderr)")
        #expect(run.stderr.contains("failed verification: ") && run.stderr.contains("golden/\(manifest.samples[0].path): the PNG file is truncated"),
                "\(run.stderr)")
    }
}

extension HalfWrittenTests {
    /// The final store write failing (a trigger stands in for a full disk: SQLite aborts the
    /// transaction with "database or disk is full"): one line, exit 2, and the run is stored as
    /// failed with that reason, not left incomplete.
    @Test func aFailedFinalWriteRecordsTheRunAsFailed() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        try ws.suite(scenarios: "[clean]")
        let first = try CLI.run(["run", "suite.yaml", "--store", "h.sqlite", "--no-report"], in: ws.folder)
        #expect(first.status <= 1, "\(first.stderr)")
        let queue = try DatabaseQueue(path: ws.folder.appendingPathComponent("h.sqlite").path)
        try queue.write { db in
            try db.execute(sql: """
                CREATE TRIGGER full_disk BEFORE INSERT ON scenario_metrics
                BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END
                """)
        }
        let second = try CLI.run(["run", "suite.yaml", "--store", "h.sqlite", "--no-report", "--no-reuse"], in: ws.folder)
        #expect(second.status == 2 && second.stderrLines.count == 1, "\(second.stderr)")
        #expect(second.stderr.contains("h.sqlite: cannot write the run store: database or disk is full"), "\(second.stderr)")
        let rows = try queue.read { try Row.fetchAll($0, sql: "SELECT status, error FROM runs ORDER BY started_at") }
        #expect(rows.map { $0["status"] as String } == ["complete", "failed"])
        #expect((rows.last?["error"] as String?)?.contains("database or disk is full") == true)
    }
}

import Foundation
import Testing
import VigilTestSupport
@testable import Vigil

@Suite("Golden sets: format, verification, identity")
struct GoldenSetTests {
    @Test func bundledDigitsVerify() throws {
        let digits = try GoldenSet.load(Repository.url("GoldenSets/digits"))
        #expect(digits.samples.count == 1000)
        #expect(digits.classes == (0...9).map(String.init))
        for digit in digits.classes {
            #expect(digits.samples.filter { $0.label == digit }.count == 100)
        }
        let verification = digits.verify()
        #expect(verification.isValid, "\(verification.problems)")
    }

    @Test func verificationFindsMissingChangedAndExtraFiles() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let root = try makeDigitsSubset(in: folder, count: 10)
        let set = try GoldenSet.load(root)
        try FileManager.default.removeItem(at: set.url(of: set.samples[0]))
        try Data([1, 2, 3]).write(to: set.url(of: set.samples[1]))
        try Data("stray".utf8).write(to: root.appendingPathComponent("images/stray.png"))
        try Data("notes".utf8).write(to: root.appendingPathComponent("README.md"))   // metadata, allowed

        let verification = set.verify()
        #expect(!verification.isValid)
        #expect(verification.missing == [set.samples[0].path])
        #expect(verification.changed.map(\.path) == [set.samples[1].path])
        #expect(verification.extra == ["images/stray.png"])
        #expect(verification.refusal.hasPrefix("golden set 'digits-subset' failed verification: \(root.path)/\(set.samples[0].path): missing"))
    }

    /// The folder walk reads entries' types from the directory: nested folders are walked,
    /// hidden files and folders skipped, a link to a file inside counts as that file (once), a
    /// link to a file outside does not count as one of the set's files.
    @Test func theFolderWalkFindsNestedFilesAndResolvesLinks() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let root = try makeDigitsSubset(in: folder, count: 3)
        let set = try GoldenSet.load(root)
        let nested = root.appendingPathComponent("images/more/deeper")
        try FileManager.default.createDirectory(at: nested, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: nested.appendingPathComponent("stray.png"))
        try Data("x".utf8).write(to: root.appendingPathComponent("images/.hidden.png"))
        try FileManager.default.createDirectory(at: root.appendingPathComponent(".cache"), withIntermediateDirectories: true)
        try Data("x".utf8).write(to: root.appendingPathComponent(".cache/blob.png"))
        try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("images/alias.png"),
                                                   withDestinationURL: set.url(of: set.samples[0]))
        try Data("outside".utf8).write(to: folder.appendingPathComponent("outside.png"))
        try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("images/out.png"),
                                                   withDestinationURL: folder.appendingPathComponent("outside.png"))
        let verification = set.verify()
        #expect(verification.missing.isEmpty && verification.changed.isEmpty)
        #expect(verification.extra == ["images/more/deeper/stray.png"])
        #expect(set.filesOnDisk().sorted() == (set.samples.map(\.path) + ["images/more/deeper/stray.png", "manifest.json"]).sorted())
    }

    @Test func identityIgnoresFormattingButNotContent() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let root = try makeDigitsSubset(in: folder, count: 5)
        let original = try GoldenSet.load(root)
        // Same content, different JSON layout and sample order.
        var manifest = original.manifest
        manifest.samples.reverse()
        let compact = JSONEncoder()
        try compact.encode(manifest).write(to: root.appendingPathComponent("manifest.json"))
        #expect(try GoldenSet.load(root).identity == original.identity)
        // A changed label is a different golden set.
        manifest.samples[0].label = manifest.samples[0].label == "1" ? "2" : "1"
        try writeManifest(manifest, to: root)
        #expect(try GoldenSet.load(root).identity != original.identity)
    }

    @Test(arguments: [
        ("/etc/passwd", "is absolute"),
        ("../outside.png", "leaves the golden set folder"),
        ("images/../../x.png", "leaves the golden set folder"),
        ("images\\\\3.png", "use '/' as the separator"),
        ("images//3.png", "empty or '.' segment"),
    ])
    func unsafePathsAreRejected(path: String, problem: String) throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let manifest = GoldenSetManifest(format: GoldenSetManifest.format, name: "bad", version: "1", task: .classification,
                                         description: nil, classes: ["a"],
                                         samples: [Sample(id: "s", path: path, sha256: String(repeating: "0", count: 64), label: "a")])
        try writeManifest(manifest, to: folder)
        let message = inputError { _ = try GoldenSet.load(folder) }
        #expect(message.contains(problem), "\(message)")
        #expect(message.hasPrefix(folder.appendingPathComponent("manifest.json").path))
    }

    @Test func manifestMistakesAreNamed() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let sample = Sample(id: "s", path: "s.png", sha256: String(repeating: "a", count: 64), label: "dgo")
        var manifest = GoldenSetManifest(format: GoldenSetManifest.format, name: "x", version: "1", task: .classification,
                                         description: nil, classes: ["cat", "dog"], samples: [sample])
        try writeManifest(manifest, to: folder)
        #expect(inputError { _ = try GoldenSet.load(folder) }.hasSuffix("sample 's' has label 'dgo', which is not in 'classes' (did you mean 'dog'?)"))

        manifest.samples = [sample, sample]
        manifest.samples[0].label = "dog"
        manifest.samples[1].label = "dog"
        try writeManifest(manifest, to: folder)
        #expect(inputError { _ = try GoldenSet.load(folder) }.hasSuffix("sample id 's' appears twice"))

        try Data(#"{"format": "vigil-golden-set/1", "name": "x", "version": "1", "task": "classification", "classes": ["a"], "sampels": []}"#.utf8)
            .write(to: folder.appendingPathComponent("manifest.json"))
        #expect(inputError { _ = try GoldenSet.load(folder) }.hasSuffix("unknown key 'sampels' (did you mean 'samples'?)"))

        try Data("{ not json".utf8).write(to: folder.appendingPathComponent("manifest.json"))
        #expect(inputError { _ = try GoldenSet.load(folder) }.contains("not valid JSON"))
    }

    @Test func aMissingFolderOrManifestIsOneLine() throws {
        let message = inputError { _ = try GoldenSet.load(URL(fileURLWithPath: "/nonexistent/golden")) }
        #expect(message == "/nonexistent/golden: golden set folder does not exist")
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(inputError { _ = try GoldenSet.load(folder) }.contains("manifest.json: missing"))
    }
}

import Foundation
import Testing
import VigilTestSupport
import Vigil

/// Classification golden sets from an image folder or a CSV file, rehashing, `ignore`, and
/// manifest details that must not change a set's identity.
@Suite("vigil golden import imagefolder|csv, rehash and ignore", .serialized)
struct GoldenImportCLITests {
    /// Digit images from the bundled set, as `FOLDER/<name>/<file>`, three per class.
    func imageFolder(_ folder: URL, classes: [String: String]) throws {
        let digits = try GoldenSet.load(Repository.url("GoldenSets/digits"))
        for (name, digit) in classes {
            let target = folder.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: target.appendingPathComponent("more"), withIntermediateDirectories: true)
            for (index, sample) in digits.samples.filter({ $0.label == digit }).prefix(3).enumerated() {
                let file = index == 2 ? target.appendingPathComponent("more/\(sample.id).PNG") : target.appendingPathComponent("\(sample.id).png")
                try FileManager.default.copyItem(at: digits.url(of: sample), to: file)
            }
        }
    }

    @Test func imageFolderFollowsTorchvisionOrSuppliedClassOrder() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = folder.appendingPathComponent("train")
        try imageFolder(source, classes: ["seven": "7", "one": "1", "four": "4"])
        try Data("notes".utf8).write(to: source.appendingPathComponent("one/README.txt"))

        let sorted = try CLI.run(["golden", "import", "imagefolder", source.path, "-o", folder.appendingPathComponent("a").path])
        #expect(sorted.status == 0, "\(sorted.stderr)")
        #expect(sorted.stdout.contains("9 images in 3 classes (four 3, one 3, seven 3)"), "\(sorted.stdout)")
        #expect(sorted.stdout.contains("skipped 1 file that are not images: one/README.txt"))
        let a = try GoldenSet.load(folder.appendingPathComponent("a"))
        #expect(a.classes == ["four", "one", "seven"])
        #expect(a.samples.first?.path.hasPrefix("images/four/") == true)
        #expect(a.samples.contains { $0.path.hasPrefix("images/one/more/") && $0.path.hasSuffix(".PNG") })
        #expect(a.samples.allSatisfy { $0.id == String($0.path.dropFirst("images/".count)).components(separatedBy: ".").first })
        #expect(a.verify().isValid)

        let ordered = try CLI.run(["golden", "import", "imagefolder", source.path, "-o", folder.appendingPathComponent("b").path,
                                   "--classes", "one,four,seven"])
        #expect(ordered.status == 0, "\(ordered.stderr)")
        #expect(try GoldenSet.load(folder.appendingPathComponent("b")).classes == ["one", "four", "seven"])
    }

    @Test func imageFolderChecksEverythingBeforeWriting() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = folder.appendingPathComponent("train")
        try imageFolder(source, classes: ["cat": "3", "dog": "5"])
        let out = folder.appendingPathComponent("out")

        let missing = try CLI.run(["golden", "import", "imagefolder", source.path, "-o", out.path, "--classes", "cat,dgo"])
        #expect(missing.status == 2)
        #expect(missing.stderr.hasSuffix("class 'dgo' of --classes has no subfolder (did you mean 'dog'?)\n"), "\(missing.stderr)")
        let unlisted = try CLI.run(["golden", "import", "imagefolder", source.path, "-o", out.path, "--classes", "cat"])
        #expect(unlisted.stderr.hasSuffix("subfolder 'dog' not in --classes; list every class\n"), "\(unlisted.stderr)")

        // A file that is not an image, under an image name: refused, and nothing is written.
        try Data("not a png".utf8).write(to: source.appendingPathComponent("dog/broken.png"))
        let broken = try CLI.run(["golden", "import", "imagefolder", source.path, "-o", out.path])
        #expect(broken.status == 2)
        #expect(broken.stderrLines.count == 1 && broken.stderr.contains("dog/broken.png: cannot decode the image"), "\(broken.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["train"])

        try FileManager.default.removeItem(at: source.appendingPathComponent("dog/broken.png"))
        try FileManager.default.createDirectory(at: source.appendingPathComponent("empty"), withIntermediateDirectories: true)
        let empty = try CLI.run(["golden", "import", "imagefolder", source.path, "-o", out.path])
        #expect(empty.stderr.contains("train/empty: no images (extensions "), "\(empty.stderr)")
    }

    @Test func csvRowsBecomeSamplesWithTags() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let photos = folder.appendingPathComponent("photos")
        try imageFolder(photos, classes: ["a": "2", "b": "8"])
        let files = try FileManager.default.subpathsOfDirectory(atPath: photos.path).filter { $0.lowercased().hasSuffix(".png") }.sorted()
        let rows = files.enumerated().map { index, path in
            "\(path),\(path.hasPrefix("a/") ? "two" : "eight"),\(index % 2 == 0 ? "night" : "day"),\(index == 0 ? "" : "\"cam, b\"")"
        }
        let csv = folder.appendingPathComponent("labels.csv")
        try (["path,label,lighting,device"] + rows).joined(separator: "\n").write(to: csv, atomically: true, encoding: .utf8)
        let output = try CLI.run(["golden", "import", "csv", csv.path, "--images", photos.path, "-o", folder.appendingPathComponent("set").path])
        #expect(output.status == 0, "\(output.stderr)")
        let set = try GoldenSet.load(folder.appendingPathComponent("set"))
        #expect(set.classes == ["eight", "two"])
        #expect(set.samples.count == 6)
        #expect(set.samples[0].tags == ["lighting": "night"])
        #expect(set.samples[1].tags == ["lighting": "day", "device": "cam, b"])
        #expect(set.verify().isValid)

        for (text, message) in [
            ("file,label\na/x.png,two", "no 'path' column (the header is file,label; needed: path,label)"),
            ("path,label\n\(files[0]),two,extra", "row 2 has 3 fields, the header 2"),
            ("path,label\n\(files[0]),", "row 2: empty label for '\(files[0])'"),
            ("path,label\n../x.png,two", "row 2: path '../x.png' leaves the golden set folder"),
            ("path,label\n\(files[0]),two\n\(files[0]),two", "row 3: '\(files[0])' is listed twice"),
            ("path,label\nmissing.png,two", "missing.png: image not found"),
        ] {
            try text.write(to: csv, atomically: true, encoding: .utf8)
            let out = folder.appendingPathComponent("bad")
            let refused = try CLI.run(["golden", "import", "csv", csv.path, "--images", photos.path, "-o", out.path])
            #expect(refused.status == 2)
            #expect(refused.stderrLines.count == 1 && refused.stderr.hasSuffix(message + "\n"), "\(refused.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out.path))
        }
        try "path,label\n\(files[0]),too".write(to: csv, atomically: true, encoding: .utf8)
        let unknown = try CLI.run(["golden", "import", "csv", csv.path, "--images", photos.path, "-o", folder.appendingPathComponent("c").path,
                                   "--classes", "two,eight"])
        #expect(unknown.stderr.contains("label 'too' of "), "\(unknown.stderr)")
        #expect(unknown.stderr.contains("is not in --classes (did you mean 'two'?)"))
    }

    /// A small copy of the digits set in `folder`.
    func copyOfDigits(in folder: URL, samples: Int) throws -> URL {
        let source = try GoldenSet.load(Repository.url("GoldenSets/digits"))
        var manifest = source.manifest
        manifest.samples = Array(source.samples.prefix(samples))
        let target = folder.appendingPathComponent("digits")
        for sample in manifest.samples {
            let file = target.appendingPathComponent(sample.path)
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: source.url(of: sample), to: file)
        }
        try JSONEncoder().encode(manifest).write(to: target.appendingPathComponent("manifest.json"))
        return target
    }

    @Test func rehashShowsChangesAndWritesANewVersionOnlyWhenAsked() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let set = try copyOfDigits(in: folder, samples: 5)
        let before = try GoldenSet.load(set)
        let unchanged = try CLI.run(["golden", "rehash", set.path])
        #expect(unchanged.status == 0 && unchanged.stdout.contains("nothing changed"))

        // One image replaced by another, one deleted.
        let replaced = before.url(of: before.samples[0]), deleted = before.url(of: before.samples[1])
        try FileManager.default.removeItem(at: replaced)
        try FileManager.default.copyItem(at: before.url(of: before.samples[2]), to: replaced)
        try FileManager.default.removeItem(at: deleted)
        let shown = try CLI.run(["golden", "rehash", set.path])
        #expect(shown.status == 1)
        #expect(shown.stdout.contains("changed  \(before.samples[0].path): \(before.samples[0].sha256.prefix(12))… → "), "\(shown.stdout)")
        #expect(shown.stdout.contains("missing  \(before.samples[1].path)"))
        #expect(shown.stdout.contains("1 changed, 1 missing, 0 not in the manifest"))
        #expect(try GoldenSet.load(set).identity == before.identity)

        // A file no sample lists: --write refuses, until the manifest ignores it.
        try Data("id,label\n".utf8).write(to: set.appendingPathComponent("labels.csv"))
        let refused = try CLI.run(["golden", "rehash", set.path, "--write"])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("1 file is not in the manifest (labels.csv); rehash cannot label them"), "\(refused.stderr)")
        var manifest = try GoldenSet.load(set).manifest
        manifest.ignore = ["*.csv"]
        try JSONEncoder().encode(manifest).write(to: set.appendingPathComponent("manifest.json"))

        let written = try CLI.run(["golden", "rehash", set.path, "--write"])
        #expect(written.status == 0, "\(written.stderr)")
        #expect(written.stdout.contains("'digits' 1.0.0 → 1.0.1, 4 samples"), "\(written.stdout)")
        let after = try GoldenSet.load(set)
        #expect(after.version == "1.0.1" && after.identity != before.identity)
        #expect(after.verify().isValid)
        let verify = try CLI.run(["golden", "verify", set.path])
        #expect(verify.status == 0, "\(verify.stdout)")
    }

    @Test func upperCaseHashesKeepTheIdentityAndNumericLabelsGetAHint() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let set = try copyOfDigits(in: folder, samples: 3)
        let before = try GoldenSet.load(set)
        var manifest = before.manifest
        manifest.samples[0].sha256 = manifest.samples[0].sha256.uppercased()
        try JSONEncoder().encode(manifest).write(to: set.appendingPathComponent("manifest.json"))
        let upper = try GoldenSet.load(set)
        #expect(upper.identity == before.identity)
        #expect(upper.verify().isValid)

        var text = try String(contentsOf: set.appendingPathComponent("manifest.json"), encoding: .utf8)
        text = text.replacingOccurrences(of: "\"label\":\"0\"", with: "\"label\":0")
        try text.write(to: set.appendingPathComponent("manifest.json"), atomically: true, encoding: .utf8)
        let output = try CLI.run(["golden", "verify", set.path])
        #expect(output.status == 2)
        #expect(output.stderr.contains("samples[0] ('\(before.samples[0].id)') has label 0, a number; class names are text: write it as a string: \"0\""), "\(output.stderr)")
    }
}

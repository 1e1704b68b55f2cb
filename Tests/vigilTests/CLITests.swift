import Foundation
import Testing
import VigilTestSupport
import Vigil

/// Runs the built `vigil` binary the way users and CI do, and checks exit codes and messages.
struct CLI {
    static let root = Repository.root

    /// The binary sits beside the test bundle in the build folder.
    static let binary: URL = {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("vigil")
        if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
        return root.appendingPathComponent(".build/debug/vigil")
    }()

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
        var stderrLines: [Substring] { stderr.split(separator: "\n") }
    }

    /// Runs the vigil binary with `arguments` in `folder` and collects its exit status and
    /// output. Uses posix_spawn and waitpid rather than Foundation's Process, whose Linux
    /// implementation crashed or trapped on interrupted reads when many tests ran processes at
    /// once; output goes to files, which never block the child.
    static func run(_ arguments: [String], in folder: URL = root, environment: [String: String] = [:]) throws -> Output {
        let scratch = try temporaryFolder("cli-output")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outPath = scratch.appendingPathComponent("stdout").path, errPath = scratch.appendingPathComponent("stderr").path
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        // `env -C` sets the working directory (Swift's Glibc module lacks posix_spawn's chdir action).
        let settings = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let argv = (["/usr/bin/env", "-C", folder.path] + settings + [binary.path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/usr/bin/env", &actions, nil, argv, environ)
        guard spawned == 0 else { throw InputError("cannot start \(binary.path): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        // WIFEXITED / WEXITSTATUS, or the signal number for a killed child (as Process reports it).
        let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : status & 0x7f
        return Output(status: exitStatus, stdout: String(decoding: try Data(contentsOf: URL(fileURLWithPath: outPath)), as: UTF8.self),
                      stderr: String(decoding: try Data(contentsOf: URL(fileURLWithPath: errPath)), as: UTF8.self))
    }
}

/// A scratch folder with a small copy of the digits golden set and a suite over it.
struct Workspace {
    let folder: URL
    let goldenSet: URL

    init(samples: Int = 40) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-cli-\(UUID().uuidString)")
        let source = try GoldenSet.load(CLI.root.appendingPathComponent("GoldenSets/digits"))
        var manifest = source.manifest
        manifest.samples = stride(from: 0, to: 1000, by: 1000 / samples).map { source.samples[$0] }
        goldenSet = folder.appendingPathComponent("golden")
        for sample in manifest.samples {
            let target = goldenSet.appendingPathComponent(sample.path)
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: source.url(of: sample), to: target)
        }
        try JSONEncoder().encode(manifest).write(to: goldenSet.appendingPathComponent("manifest.json"))
    }

    func remove() { try? FileManager.default.removeItem(at: folder) }

    /// Writes suite.yaml; `candidate` defaults to the bundled perceptron.
    @discardableResult
    func suite(candidate: String? = nil, metric: String = "accuracy", maxRegression: Double = 0.01,
               scenarios: String = "[clean, low-light@5]") throws -> String {
        let text = """
            suite: cli-test
            golden_set: golden
            baseline: \(CLI.root.appendingPathComponent("Models/mnist-cnn/model.yaml").path)
            candidate: \(candidate ?? CLI.root.appendingPathComponent("Models/digits-mlp/model.yaml").path)
            seed: 11
            scenarios: \(scenarios)
            conditions:
              - metric: \(metric)
                scenario: all
                max_regression: \(maxRegression)
            """
        try text.write(to: folder.appendingPathComponent("suite.yaml"), atomically: true, encoding: .utf8)
        return "suite.yaml"
    }

    /// A model spec in the workspace for `onnx` (copied in), with the given sha256.
    func spec(named name: String, onnx: URL?, sha256: String? = nil) throws -> String {
        if let onnx { try FileManager.default.copyItem(at: onnx, to: folder.appendingPathComponent("\(name).onnx")) }
        let sha = try sha256 ?? SHA256.hex(ofFile: folder.appendingPathComponent("\(name).onnx"))
        let text = """
            name: \(name)
            task: classification
            format: onnx
            file: \(name).onnx
            sha256: \(sha)
            input: {width: 28, height: 28, color: gray, resize: stretch, scale: 0.00392156862745098}
            output: {kind: logits}
            classes: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]
            """
        try text.write(to: folder.appendingPathComponent("\(name).yaml"), atomically: true, encoding: .utf8)
        return folder.appendingPathComponent("\(name).yaml").path
    }
}

@Suite("The vigil command: exit codes and one-line errors", .serialized)
struct CLITests {
    // MARK: - Exit status 2: one clear line on stderr.

    @Test func corruptedGoldenSetFileExitsTwo() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        try ws.suite()
        let victim = try FileManager.default.contentsOfDirectory(atPath: ws.goldenSet.appendingPathComponent("images/0").path).sorted()[0]
        try Data("not a digit".utf8).write(to: ws.goldenSet.appendingPathComponent("images/0/\(victim)"))
        let output = try CLI.run(["run", "suite.yaml", "--store", "h.sqlite"], in: ws.folder)
        #expect(output.status == 2)
        #expect(output.stderrLines.count == 1, "\(output.stderr)")
        #expect(output.stderr.hasPrefix("error: golden set 'digits' failed verification: "))
        #expect(output.stderr.contains("images/0/\(victim): changed"))
        #expect(output.stdout.isEmpty)
    }

    @Test func missingModelFileExitsTwo() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        try ws.suite(candidate: try ws.spec(named: "ghost", onnx: nil, sha256: String(repeating: "1", count: 64)))
        let output = try CLI.run(["run", "suite.yaml", "--store", "h.sqlite"], in: ws.folder)
        #expect(output.status == 2)
        #expect(output.stderrLines.count == 1, "\(output.stderr)")
        #expect(output.stderr.hasPrefix("error: ghost.onnx: model file not found (named by "), "\(output.stderr)")
    }

    @Test func onnxFileOpenCVCannotLoadExitsTwo() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        try ws.suite(candidate: try ws.spec(named: "einsum", onnx: CLI.root.appendingPathComponent("Tests/VigilTests/Fixtures/einsum.onnx")))
        let output = try CLI.run(["run", "suite.yaml", "--store", "h.sqlite"], in: ws.folder)
        #expect(output.status == 2)
        #expect(output.stderrLines.count == 1, "\(output.stderr)")
        #expect(output.stderr.hasPrefix("error: einsum.onnx: OpenCV 4.6.0 cannot import this ONNX model's 'Einsum' operator: "), "\(output.stderr)")
    }

    @Test func misspeltMetricExitsTwo() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        try ws.suite(metric: "acuracy")
        let output = try CLI.run(["run", "suite.yaml", "--store", "h.sqlite"], in: ws.folder)
        #expect(output.status == 2)
        #expect(output.stderr == "error: suite.yaml:8: unknown metric 'acuracy' (did you mean 'accuracy'?)\n")
        // Nothing was recorded: the suite never got as far as starting a run.
        #expect(!FileManager.default.fileExists(atPath: ws.folder.appendingPathComponent("h.sqlite").path))
    }

    @Test func usageErrorsExitTwoAndHelpExitsZero() throws {
        let unknown = try CLI.run(["run", "Suites/default.yaml", "--no-such-flag"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("Unknown option '--no-such-flag'"))
        let help = try CLI.run(["run", "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("Exit status: 0 the gate passed, 1 it failed, 2 the input or the command is"))
        let badScenario = try CLI.run(["corrupt", "x.png", "--scenario", "low-lite", "--severity", "2", "-o", "/tmp/y.png"])
        #expect(badScenario.status == 2)
        #expect(badScenario.stderr == "error: unknown scenario 'low-lite' (did you mean 'low-light'?) (`vigil scenarios` lists them)\n")
    }

    // MARK: - Exit status 0 and 1: the gate's verdict.

    @Test func verdictsStoreReuseAndHistory() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        // The perceptron is far better than the CNN at low-light@5, and worse on clean: a 1 point
        // rule fails, a 50 point rule passes.
        try ws.suite(maxRegression: 0.5)
        let pass = try CLI.run(["run", "suite.yaml", "--store", "h.sqlite", "--reports", "out"], in: ws.folder)
        #expect(pass.status == 0, "\(pass.stderr)")
        #expect(pass.stdout.contains("Gate: PASS — all 2 checks passed"))
        #expect(pass.stdout.contains("baseline evaluated in this run on all 2 scenarios"))
        let reportLine = try #require(pass.stdout.split(separator: "\n").first { $0.hasPrefix("Report: ") })
        #expect(FileManager.default.fileExists(atPath: ws.folder.appendingPathComponent(String(reportLine.dropFirst(8))).path))

        try ws.suite(maxRegression: 0.01)
        let fail = try CLI.run(["run", "suite.yaml", "--store", "h.sqlite", "--no-report", "--json"], in: ws.folder)
        #expect(fail.status == 1)
        let json = try JSONSerialization.jsonObject(with: Data(fail.stdout.utf8)) as? [String: Any]
        #expect(json?["passed"] as? Bool == false)
        let scenarios = json?["scenarios"] as? [[String: Any]]
        #expect(scenarios?.count == 2)
        #expect(scenarios?.allSatisfy { $0["baseline_reused_from"] is String } == true, "the second run reuses the baseline")

        let history = try CLI.run(["history", "--store", "h.sqlite"], in: ws.folder)
        #expect(history.status == 0)
        let rows = history.stdout.split(separator: "\n")
        #expect(rows.count == 3 && rows[1].contains("complete  FAIL") && rows[2].contains("complete  pass"), "\(history.stdout)")
    }

    /// Thin slices are shown with n and the interval width but do not decide the gate; a slice
    /// that selects nothing is an input error; robustness scores reach the JSON and the store.
    @Test func slicesAreFlaggedAndRobustnessIsReported() throws {
        let ws = try Workspace(samples: 40)
        defer { ws.remove() }
        // A generous allowance makes every check pass; GateTests covers a failing flagged check.
        try ws.suite(maxRegression: 0.5, scenarios: "[clean, ink=heavy, 'ink=heavy:low-light@5', low-light@2, low-light@5]")
        let run = try CLI.run(["run", "suite.yaml", "--store", "h.sqlite", "--no-report", "--json"], in: ws.folder)
        #expect(run.status == 0, "\(run.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let scenarios = try #require(json["scenarios"] as? [[String: Any]])
        let slice = try #require(scenarios.first { $0["scenario"] as? String == "ink=heavy" })
        let n = try #require((slice["candidate"] as? [String: Any])?["n"] as? Int)
        #expect(n > 0 && n < 40)
        let flag = try #require((slice["verdicts"] as? [[String: Any]])?.first?["flag"] as? String)
        #expect(flag.hasPrefix("only \(n) samples (min_samples 30); the 95% CI of Δaccuracy spans "))
        let robustness = try #require(json["robustness"] as? [String: Any])
        #expect((robustness["curves"] as? [[String: Any]])?.map { $0["family"] as? String } == ["low-light"])
        let rows = try CLI.run(["history", "--store", "h.sqlite"], in: ws.folder)
        #expect(rows.stdout.contains("complete  pass"))

        try ws.suite(scenarios: "[clean, ink=none]")
        let empty = try CLI.run(["run", "suite.yaml", "--store", "h.sqlite", "--no-report"], in: ws.folder)
        #expect(empty.status == 2)
        #expect(empty.stderr == "error: suite.yaml: scenario 'ink=none' selects no sample of golden set 'digits' (tag 'ink' has values heavy, light, medium)\n")
        try ws.suite(scenarios: "[clean, lighting=night]")
        let unknownTag = try CLI.run(["run", "suite.yaml", "--store", "h.sqlite", "--no-report"], in: ws.folder)
        #expect(unknownTag.stderr.contains("(no sample has tag 'lighting')"))
    }

    @Test func goldenVerify() throws {
        let ok = try CLI.run(["golden", "verify", "GoldenSets/digits"])
        #expect(ok.status == 0)
        #expect(ok.stdout.hasPrefix("GoldenSets/digits: OK — golden set 'digits' 1.0.0, 1000 files verified, identity "))
        let ws = try Workspace(samples: 10)
        defer { ws.remove() }
        try Data("x".utf8).write(to: ws.goldenSet.appendingPathComponent("extra.txt"))
        let bad = try CLI.run(["golden", "verify", "golden"], in: ws.folder)
        #expect(bad.status == 1)
        #expect(bad.stdout.contains("golden/extra.txt: not listed in manifest.json"))
        #expect(bad.stdout.contains("FAILED — 0 missing, 0 changed, 1 not listed"))
    }

    @Test func corruptWritesWhatTheRunSees() throws {
        let ws = try Workspace(samples: 10)
        defer { ws.remove() }
        let input = CLI.root.appendingPathComponent("GoldenSets/digits/images/3/r15c01.png")
        let out = ws.folder.appendingPathComponent("dark.png")
        let output = try CLI.run(["corrupt", input.path, "--scenario", "low-light", "--severity", "4", "--seed", "20261125", "-o", out.path])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout.contains("(low-light@4, seed 20261125, sample id r15c01)"))
        let scenario = try Scenario(id: "low-light@4")
        let expected = try scenario.apply(to: Image(contentsOf: input), seed: Seeds.sample(run: 20261125, scenario: scenario, sampleID: "r15c01"))
        #expect(try Image(contentsOf: out).pixels() == expected.pixels())
    }

    /// A golden set folder is exported with its manifest's sample ids, so every image equals what
    /// `vigil run` feeds the models; output paths mirror the input's.
    @Test func corruptExportsAGoldenSetInParallel() throws {
        let ws = try Workspace(samples: 10)
        defer { ws.remove() }
        let out = ws.folder.appendingPathComponent("out")
        let output = try CLI.run(["corrupt", ws.goldenSet.path, "--scenario", "low-light@2+motion-blur@3", "--seed", "5",
                                  "-o", out.path, "--json", "--workers", "2"])
        #expect(output.status == 0, "\(output.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any]
        #expect(summary?["images"] as? Int == 10 && summary?["workers"] as? Int == 2)
        #expect((summary?["transform_seconds"] as? Double ?? -1) >= 0)
        let goldenSet = try GoldenSet.load(ws.goldenSet)
        let scenario = try Scenario(id: "low-light@2+motion-blur@3")
        for sample in goldenSet.samples {
            let expected = try scenario.apply(to: Image(contentsOf: goldenSet.url(of: sample)),
                                              seed: Seeds.sample(run: 5, scenario: scenario, sampleID: sample.id))
            #expect(try Image(contentsOf: out.appendingPathComponent(sample.path)).pixels() == expected.pixels())
        }
    }

    /// A plain folder: every image, names mirrored, sample id = relative path without extension.
    @Test func corruptExportsAPlainFolder() throws {
        let ws = try Workspace(samples: 4)
        defer { ws.remove() }
        let photos = ws.folder.appendingPathComponent("photos/sub")
        try FileManager.default.createDirectory(at: photos, withIntermediateDirectories: true)
        let card = try Image(width: 40, height: 36, channels: 3, pixels: (0..<(40 * 36 * 3)).map { UInt8($0 % 251) })
        try card.write(to: photos.appendingPathComponent("a.png"))
        try card.write(to: ws.folder.appendingPathComponent("photos/b.png"))
        let out = ws.folder.appendingPathComponent("fog")
        let output = try CLI.run(["corrupt", ws.folder.appendingPathComponent("photos").path, "--scenario", "fog",
                                  "--severity", "3", "-o", out.path])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout.hasPrefix("wrote 2 images under \(out.path) (fog@3, seed 0)"))
        let scenario = try Scenario(id: "fog@3")
        let expected = try scenario.apply(to: card, seed: Seeds.sample(run: 0, scenario: scenario, sampleID: "sub/a"))
        #expect(try Image(contentsOf: out.appendingPathComponent("sub/a.png")).pixels() == expected.pixels())
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("b.png").path))
    }

    @Test(arguments: [
        (["--scenario", "fgo", "--severity", "2"], "unknown scenario 'fgo' (did you mean 'fog'?) (`vigil scenarios` lists them)"),
        (["--scenario", "fog", "--severity", "6"], "--severity 6 is outside 1...5"),
        (["--scenario", "fog@0"], "scenario 'fog': severity '0' is not one of 1...5"),
        (["--scenario", "fog"], "scenario 'fog' needs a severity 1...5, written as fog@3"),
    ])
    func corruptRefusesBadScenarios(arguments: [String], message: String) throws {
        let input = CLI.root.appendingPathComponent("Tests/VigilTests/Fixtures/images/rgba.png").path
        let output = try CLI.run(["corrupt", input] + arguments + ["-o", "/tmp/vigil-never-written.png"])
        #expect(output.status == 2)
        #expect(output.stderr == "error: \(message)\n")
    }

    /// Images Vigil cannot transform: one line naming the file, exit 2, nothing written.
    @Test func corruptRefusesImagesItCannotTransform() throws {
        let ws = try Workspace(samples: 2)
        defer { ws.remove() }
        let fixtures = CLI.root.appendingPathComponent("Tests/VigilTests/Fixtures/images")
        let digit = CLI.root.appendingPathComponent("GoldenSets/digits/images/3/r15c01.png")
        let cases: [(URL, String)] = [
            (fixtures.appendingPathComponent("grey16.png"), "the image is not 8-bit per channel (convert it to 8-bit PNG or JPEG)"),
            (fixtures.appendingPathComponent("rgba.png"), "the PNG is colour with an alpha channel; Vigil reads 8-bit grey or colour (drop the alpha channel)"),
            (digit, "scenario 'snow' needs images of at least 32×32 pixels (as ImageNet-C's reference does); this one is 20×20"),
        ]
        for (input, problem) in cases {
            let out = ws.folder.appendingPathComponent("out.png")
            let output = try CLI.run(["corrupt", input.path, "--scenario", "snow@2", "-o", out.path])
            #expect(output.status == 2)
            // Paths below the working directory (here the repository) are shown relative to it.
            let shown = input.path.replacingOccurrences(of: CLI.root.path + "/", with: "")
            #expect(output.stderr == "error: \(shown): \(problem)\n")
            #expect(!FileManager.default.fileExists(atPath: out.path))
        }
        let tagged = try CLI.run(["corrupt", ws.goldenSet.path, "--scenario", "ink=none", "-o", ws.folder.appendingPathComponent("x").path])
        #expect(tagged.status == 2)
        #expect(tagged.stderr.contains("scenario 'ink=none' selects no sample of golden set"))
    }

    @Test func scenariosListsEveryTransformAndDrawsASheet() throws {
        let list = try CLI.run(["scenarios"])
        #expect(list.status == 0)
        for transform in Transform.all { #expect(list.stdout.contains("\n\(transform.name) [")) }
        #expect(list.stdout.contains("glass_blur [blur · ImageNet-C]: "))
        #expect(list.stdout.contains("  5  sigma 1.5, max shift 4 px, 2 passes"))
        let ws = try Workspace(samples: 2)
        defer { ws.remove() }
        let photo = ws.folder.appendingPathComponent("photo.png")
        try Image(width: 64, height: 48, channels: 3, pixels: (0..<(64 * 48 * 3)).map { UInt8($0 % 253) }).write(to: photo)
        let sheet = ws.folder.appendingPathComponent("sheet.png")
        let drawn = try CLI.run(["scenarios", "--sheet", photo.path, "-o", sheet.path])
        #expect(drawn.status == 0, "\(drawn.stderr)")
        let image = try Image(contentsOf: sheet)
        #expect(image.height > Transform.all.count * 80 && image.width > 6 * 150)
        let small = try CLI.run(["scenarios", "--sheet", CLI.root.appendingPathComponent("GoldenSets/digits/images/3/r15c01.png").path,
                                 "-o", sheet.path])
        #expect(small.stdout.contains("(left out: 19 ImageNet-C corruptions, which need at least 32×32 pixels; object-occlusion, which needs a detection golden set's boxes)"), "\(small.stdout)")
    }
}

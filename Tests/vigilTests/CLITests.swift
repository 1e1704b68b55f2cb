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

    static func run(_ arguments: [String], in folder: URL = root) throws -> Output {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = folder
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes before waiting, so a full pipe can never block the child.
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        let stderrData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
                      stderr: String(decoding: stderrData, as: UTF8.self))
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
        #expect(badScenario.stderr == "error: unknown scenario 'low-lite' (did you mean 'low-light'?)\n")
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
        #expect(scenarios?.allSatisfy { $0["baselineReusedFrom"] is String } == true, "the second run reuses the baseline")

        let history = try CLI.run(["history", "--store", "h.sqlite"], in: ws.folder)
        #expect(history.status == 0)
        let rows = history.stdout.split(separator: "\n")
        #expect(rows.count == 3 && rows[1].contains("complete  FAIL") && rows[2].contains("complete  pass"), "\(history.stdout)")
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
        #expect(output.stdout.contains("(low-light@4, seed 20261125, sample id r15c01, 20×20)"))
        let scenario = Scenario(kind: .lowLight, severity: 4)
        let expected = try scenario.apply(to: Image(contentsOf: input), seed: Seeds.sample(run: 20261125, scenario: scenario, sampleID: "r15c01"))
        #expect(try Image(contentsOf: out).pixels() == expected.pixels())
    }
}

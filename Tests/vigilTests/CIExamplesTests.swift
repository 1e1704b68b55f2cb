import Foundation
import Testing
import Yams
import VigilTestSupport

/// The CI examples in Docs/ci run only commands this test runs: their steps, in a workspace
/// with the built `vigil` on the PATH and the workspace's suite as `VIGIL_SUITE`.
@Suite("The CI examples in Docs/ci", .serialized)
struct CIExamplesTests {
    /// Runs `script` with bash (-e, as both CI systems do) in `folder`; returns the exit status.
    static func bash(_ script: String, in folder: URL, environment: [String: String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-e", "-c", script]
        process.currentDirectoryURL = folder
        var env = ProcessInfo.processInfo.environment
        env["PATH"] = CLI.binary.deletingLastPathComponent().path + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        environment.forEach { env[$0.key] = $0.value }
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// What the steps left behind: the gate's JUnit file and the Markdown summary.
    static func checkOutputs(in folder: URL) throws {
        let junit = try String(contentsOf: folder.appendingPathComponent("vigil-junit.xml"), encoding: .utf8)
        #expect(junit.contains("<testsuite name=\"cli-test\""))
        #expect(junit.contains("<failure "))
        let summary = try String(contentsOf: folder.appendingPathComponent("vigil-summary.md"), encoding: .utf8)
        #expect(summary.hasPrefix("## ❌ Vigil: gate FAILED"))
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(".vigil/history.sqlite").path))
    }

    @Test func githubActionsSteps() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let suite = try ws.suite()
        let workflow = try Yams.load(yaml: String(contentsOf: Repository.url("Docs/ci/github-actions.yml"), encoding: .utf8)) as? [String: Any]
        let job = (workflow?["jobs"] as? [String: Any])?["gate"] as? [String: Any]
        var environment = (job?["env"] as? [String: String]) ?? [:]
        environment["VIGIL_SUITE"] = suite
        let summaryFile = ws.folder.appendingPathComponent("step-summary.md")
        environment["GITHUB_STEP_SUMMARY"] = summaryFile.path
        let steps = (job?["steps"] as? [[String: Any]] ?? []).filter { $0["run"] != nil && $0["name"] as? String != "Build Vigil" }
        #expect(steps.map { $0["name"] as? String } == ["Gate the candidate", "Summary on the job page"])
        var statuses: [Int32] = []
        for step in steps {
            statuses.append(try Self.bash(step["run"] as? String ?? "", in: ws.folder, environment: environment))
        }
        #expect(statuses == [1, 0], "the gate step fails the job (the suite's candidate regresses); the summary step runs anyway")
        try Self.checkOutputs(in: ws.folder)
        #expect(try String(contentsOf: summaryFile, encoding: .utf8).hasPrefix("## ❌ Vigil: gate FAILED"))
    }

    @Test func gitlabJobScript() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let suite = try ws.suite()
        let config = try Yams.load(yaml: String(contentsOf: Repository.url("Docs/ci/gitlab-ci.yml"), encoding: .utf8)) as? [String: Any]
        let job = config?["vigil-gate"] as? [String: Any]
        var environment = (job?["variables"] as? [String: String]) ?? [:]
        environment["VIGIL_SUITE"] = suite
        let script = job?["script"] as? [String] ?? []
        #expect(!script.isEmpty)
        #expect(try Self.bash(script.joined(separator: "\n"), in: ws.folder, environment: environment) == 1)
        try Self.checkOutputs(in: ws.folder)
        let reports = (job?["artifacts"] as? [String: Any])?["reports"] as? [String: Any]
        #expect(reports?["junit"] as? String == "vigil-junit.xml", "GitLab reads the file the script writes")
    }
}

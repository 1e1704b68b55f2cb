import Foundation
import GRDB
import Testing
import Vigil
import VigilTestSupport

/// `vigil run --junit --markdown`, `vigil show`, `vigil history` and the sign-off ledger, through
/// the binary as CI and QA use them.
@Suite("CI outputs, stored runs and sign-offs", .serialized)
struct PipelineTests {
    /// A workspace with one stored run of the 40-digit suite (its gate fails: low light).
    struct StoredRun {
        let ws: Workspace
        let runID: String
        let output: CLI.Output

        init(arguments: [String] = []) throws {
            ws = try Workspace()
            try ws.suite()
            output = try CLI.run(["run", "suite.yaml", "--store", "h.sqlite", "--reports", "Reports"] + arguments, in: ws.folder)
            let id = output.stdout.split(separator: "\n").first { $0.hasPrefix("Stored: run ") }?.split(separator: " ")[2]
            runID = id.map(String.init) ?? ""
        }
    }

    static let python = Repository.url(".build-venv/bin/python")

    /// Parses the JUnit file with junitparser (PyPI), a real consumer of the format, and returns
    /// what it read as JSON.
    static func junitparser(_ file: URL) throws -> [String: Any] {
        #expect(FileManager.default.isExecutableFile(atPath: python.path), "make test's setup makes .build-venv with junitparser")
        let script = """
            import json, sys
            from junitparser import JUnitXml, Failure, Skipped
            xml = JUnitXml.fromfile(sys.argv[1])
            suites = list(xml)
            cases = [{"classname": c.classname, "name": c.name,
                      "failure": next((r.message for r in c.result if isinstance(r, Failure)), None),
                      "skipped": any(isinstance(r, Skipped) for r in c.result)} for s in suites for c in s]
            props = {p.name: p.value for p in suites[0].properties()}
            print(json.dumps({"suites": len(suites), "tests": suites[0].tests, "failures": suites[0].failures,
                              "cases": cases, "properties": props}))
            """
        let scratch = try temporaryFolder("junitparser")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let scriptURL = scratch.appendingPathComponent("read.py")
        try script.write(to: scriptURL, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = python
        process.arguments = [scriptURL.path, file.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "junitparser could not read \(file.path)")
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    @Test func junitAndMarkdownFromARun() throws {
        let run = try StoredRun(arguments: ["--junit", "out/junit.xml", "--markdown", "out/summary.md"])
        defer { run.ws.remove() }
        #expect(run.output.status == 1, "\(run.output.stderr)")
        let parsed = try Self.junitparser(run.ws.folder.appendingPathComponent("out/junit.xml"))
        let cases = parsed["cases"] as? [[String: Any]] ?? []
        // One condition (accuracy, max_regression 1 pp) on two scenarios.
        #expect(parsed["suites"] as? Int == 1)
        #expect(cases.count == 2)
        #expect(parsed["tests"] as? Int == 2)
        #expect(cases.map { $0["classname"] as? String } == ["clean", "low-light@5"])
        #expect(cases.allSatisfy { ($0["name"] as? String)?.hasPrefix("accuracy regression ≤ 1.00 pp [suite.yaml:") == true })
        let failed = cases.filter { $0["failure"] is String }
        #expect(parsed["failures"] as? Int == failed.count && !failed.isEmpty)
        #expect((failed.first?["failure"] as? String)?.contains("a regression of") == true)
        let properties = parsed["properties"] as? [String: String] ?? [:]
        #expect(properties["run_id"] == run.runID)
        #expect(properties["candidate_sha256"]?.count == 64 && properties["baseline_sha256"]?.count == 64)
        #expect(properties["golden_set_identity"]?.count == 64)
        #expect(properties["report"] == "Reports/\(run.runID)/index.html")

        let markdown = try String(contentsOf: run.ws.folder.appendingPathComponent("out/summary.md"), encoding: .utf8)
        #expect(markdown.hasPrefix("## ❌ Vigil: gate FAILED — cli-test"))
        #expect(markdown.contains("| `low-light@5` | `accuracy` |"))
        #expect(markdown.contains("### Failed checks"))
        #expect(markdown.contains("report: `Reports/\(run.runID)/index.html`"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: run.ws.folder.appendingPathComponent("out").path).sorted()
                == ["junit.xml", "summary.md"], "the two files, and no temporary file beside them")
    }

    @Test func showPrintsAStoredRunAndItsFiles() throws {
        let run = try StoredRun()
        defer { run.ws.remove() }
        let shown = try CLI.run(["show", String(run.runID.prefix(15)), "--store", "h.sqlite", "--junit", "again.xml"], in: run.ws.folder)
        #expect(shown.status == 1, "the gate failed, so show exits 1 as run did: \(shown.stderr)")
        #expect(shown.stdout.contains("Gate: FAIL"))
        #expect(shown.stdout.contains("Report: Reports/\(run.runID)/index.html"))
        let parsed = try Self.junitparser(run.ws.folder.appendingPathComponent("again.xml"))
        #expect((parsed["cases"] as? [Any])?.count == 2)

        let markdown = try CLI.run(["show", run.runID, "--store", "h.sqlite", "--markdown", "-"], in: run.ws.folder)
        #expect(markdown.stdout.hasPrefix("## ❌ Vigil"), "- prints the Markdown alone: \(markdown.stdout.prefix(80))")
        let json = try CLI.run(["show", run.runID, "--store", "h.sqlite", "--json"], in: run.ws.folder)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object?["report_path"] as? String == "Reports/\(run.runID)/index.html")
        #expect(object?["started_at"] is String && object?["golden_set"] is [String: Any])

        let missing = try CLI.run(["show", "19990101", "--store", "h.sqlite"], in: run.ws.folder)
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("no run '19990101'"))
    }

    @Test func historyFiltersBySuiteAndShowsNumbersAndSignOffs() throws {
        let run = try StoredRun()
        defer { run.ws.remove() }
        let signed = try CLI.run(["signoff", run.runID, "--by", "Dana Reyes", "--role", "QA lead", "--override", "night scenes accepted",
                                  "--store", "h.sqlite"], in: run.ws.folder)
        #expect(signed.status == 0, "\(signed.stderr)")
        let history = try CLI.run(["history", "--store", "h.sqlite", "--suite", "cli-test"], in: run.ws.folder)
        let line = history.stdout.split(separator: "\n").first { $0.hasPrefix(run.runID) } ?? ""
        #expect(line.contains("accuracy on clean: "))
        #expect(line.contains("OVERRIDE: Dana Reyes (QA lead)"))
        let other = try CLI.run(["history", "--store", "h.sqlite", "--suite", "another"], in: run.ws.folder)
        #expect(other.stdout.contains("(no runs of suite 'another')"))
        let json = try CLI.run(["history", "--store", "h.sqlite", "--json"], in: run.ws.folder)
        let rows = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        #expect(rows?.first?["primary_metric"] as? String == "accuracy")
        #expect(rows?.first?["candidate_value"] is Double)
        #expect((rows?.first?["sign_offs"] as? [[String: Any]])?.first?["override"] as? String == "night scenes accepted")
    }

    @Test func signOffIsVerifiedThenRefusedWhenAReportFileChanges() throws {
        let run = try StoredRun()
        defer { run.ws.remove() }
        let folder = run.ws.folder
        let refused = try CLI.run(["signoff", run.runID, "--by", "Dana", "--role", "QA lead", "--store", "h.sqlite"], in: folder)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("FAILED its gate; signing it off needs --override REASON"), "\(refused.stderr)")

        #expect(try CLI.run(["signoff", "key", "create", "qa.pem"], in: folder).status == 0)
        #expect(try CLI.run(["signoff", "key", "create", "qa.pem"], in: folder).status == 2, "a key is never overwritten")
        #expect(try CLI.run(["signoff", "key", "create", "other.pem"], in: folder).status == 0)
        let signed = try CLI.run(["signoff", run.runID, "--by", "Dana", "--role", "QA lead", "--override", "accepted: CV-142",
                                  "--key", "qa.pem", "--store", "h.sqlite"], in: folder)
        #expect(signed.status == 0, "\(signed.stderr)")
        let page = try String(contentsOf: folder.appendingPathComponent("Reports/\(run.runID)/signoffs.html"), encoding: .utf8)
        #expect(page.contains("OVERRIDE: accepted: CV-142"))

        let valid = try CLI.run(["signoff", "verify", run.runID, "--trust", "qa.pem.pub", "--store", "h.sqlite"], in: folder)
        #expect(valid.status == 0, "\(valid.stdout)\(valid.stderr)")
        #expect(valid.stdout.contains("VALID — 1 sign-off"))
        #expect(!valid.stdout.contains("FAIL "))

        let untrusted = try CLI.run(["signoff", "verify", run.runID, "--trust", "other.pem.pub", "--store", "h.sqlite"], in: folder)
        #expect(untrusted.status == 1)
        #expect(untrusted.stdout.contains("is not among the --trust keys"))

        // One report file changed after the sign-off.
        let images = folder.appendingPathComponent("Reports/\(run.runID)/images")
        let victim = try FileManager.default.contentsOfDirectory(atPath: images.path).sorted()[0]
        let handle = try FileHandle(forWritingTo: images.appendingPathComponent(victim))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data([0]))
        try handle.close()
        let changed = try CLI.run(["signoff", "verify", run.runID, "--store", "h.sqlite"], in: folder)
        #expect(changed.status == 1)
        #expect(changed.stdout.contains("FAIL sign-off 1 by Dana (QA lead): report Reports/\(run.runID): content hash is "))
        #expect(changed.stdout.contains("(changed: images/\(victim))"), "\(changed.stdout)")
        #expect(changed.stdout.contains("INVALID"))

        // The report rebuilt from the store is the one signed off, byte for byte.
        let rebuilt = try CLI.run(["report", run.runID, "-o", "Reports/\(run.runID)", "--store", "h.sqlite"], in: folder)
        #expect(rebuilt.status == 0, "\(rebuilt.stderr)")
        let again = try CLI.run(["signoff", "verify", run.runID, "--store", "h.sqlite"], in: folder)
        #expect(again.status == 0, "\(again.stdout)")
        // signoffs.html, which the sign-off rewrote, is written again from the ledger.
        let listed = try String(contentsOf: folder.appendingPathComponent("Reports/\(run.runID)/signoffs.html"), encoding: .utf8)
        #expect(listed.contains("OVERRIDE: accepted: CV-142"))
    }

    @Test func anEditedLedgerRecordBreaksTheChain() throws {
        let run = try StoredRun()
        defer { run.ws.remove() }
        let folder = run.ws.folder
        for who in ["Dana", "Eli"] {
            let signed = try CLI.run(["signoff", run.runID, "--by", who, "--role", "QA", "--override", "ok", "--store", "h.sqlite"], in: folder)
            #expect(signed.status == 0, "\(signed.stderr)")
        }
        #expect(try CLI.run(["signoff", "verify", run.runID, "--store", "h.sqlite"], in: folder).status == 0)
        let queue = try DatabaseQueue(path: folder.appendingPathComponent("h.sqlite").path)
        // The store refuses edits; someone who drops its guard and edits anyway is caught by the chain.
        #expect(throws: (any Error).self) {
            try queue.write { try $0.execute(sql: "UPDATE signoffs SET signed_by = 'Mallory' WHERE position = 1") }
        }
        try queue.write { db in
            try db.execute(sql: "DROP TRIGGER signoffs_append_only_update")
            try db.execute(sql: "UPDATE signoffs SET signed_by = 'Mallory' WHERE position = 1")
        }
        let edited = try CLI.run(["signoff", "verify", run.runID, "--store", "h.sqlite"], in: folder)
        #expect(edited.status == 1)
        #expect(edited.stdout.contains("FAIL ledger: record 1's content does not match its hash (edited)"), "\(edited.stdout)")
    }
}

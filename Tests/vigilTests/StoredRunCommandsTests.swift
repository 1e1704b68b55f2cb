import Foundation
import Testing
import Vigil
import VigilTestSupport

/// `vigil report`, `compare`, `export` and `trend`: what a stored run gives without running a
/// model again.
@Suite("Stored runs: report, compare, export, trend", .serialized)
struct StoredRunCommandsTests {
    /// A workspace whose suite sets scenario parameters (`params:`), so a rebuilt report must
    /// apply them to make the same scenario images.
    static func workspace(candidate: String = "Models/digits-mlp/model.yaml") throws -> Workspace {
        let ws = try Workspace()
        let suite = """
            suite: stored-runs
            golden_set: golden
            baseline: \(CLI.root.appendingPathComponent("Models/mnist-cnn/model.yaml").path)
            candidate: \(CLI.root.appendingPathComponent(candidate).path)
            seed: 5
            bootstrap: 200
            params:
              motion-blur: {length_share: [0.1, 0.2, 0.3, 0.4, 0.5]}
            scenarios: [clean, motion-blur@3, low-light@5]
            conditions:
              - metric: accuracy
                scenario: all
                max_regression: 0.01
            """
        try suite.write(to: ws.folder.appendingPathComponent("suite.yaml"), atomically: true, encoding: .utf8)
        return ws
    }

    /// Runs suite.yaml in `ws` into h.sqlite and returns the run id.
    static func run(_ ws: Workspace, suite: String = "suite.yaml", arguments: [String] = []) throws -> String {
        let output = try CLI.run(["run", suite, "--store", "h.sqlite", "--reports", "Reports"] + arguments, in: ws.folder)
        #expect(output.status <= 1, "\(output.stderr)")
        let id = output.stdout.split(separator: "\n").first { $0.hasPrefix("Stored: run ") }?.split(separator: " ")[2]
        return id.map(String.init) ?? ""
    }

    /// Every file under `folder`, by path relative to it, with its bytes.
    static func files(_ folder: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey])
        while let url = enumerator?.nextObject() as? URL {
            guard try url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile == true else { continue }
            files[String(url.standardizedFileURL.path.dropFirst(folder.standardizedFileURL.path.count + 1))] = try Data(contentsOf: url)
        }
        return files
    }

    @Test func aReportRebuiltFromTheStoreIsByteIdenticalToTheRunsOwn() throws {
        let ws = try Self.workspace()
        defer { ws.remove() }
        let first = try Self.run(ws)
        let second = try Self.run(ws)
        #expect(!first.isEmpty && !second.isEmpty && first != second)
        for id in [first, second] {
            let rebuilt = try CLI.run(["report", id, "--store", "h.sqlite", "-o", "Rebuilt/\(id)"], in: ws.folder)
            #expect(rebuilt.status == 0, "\(rebuilt.stderr)")
            #expect(rebuilt.stdout.contains("Report: Rebuilt/\(id)/index.html"))
            let original = try Self.files(ws.folder.appendingPathComponent("Reports/\(id)"))
            let again = try Self.files(ws.folder.appendingPathComponent("Rebuilt/\(id)"))
            #expect(original.keys.sorted() == again.keys.sorted())
            let pictures = original.keys.filter { $0.hasSuffix(".png") }
            // Galleries with scenario images and model inputs, calibration and confusion charts, and
            // from the second run on the trend.
            #expect(pictures.count > 10 && pictures.contains { $0.contains("motion-blur-s3") })
            #expect(pictures.contains("trend.png") == (id == second))
            for (path, bytes) in original {
                #expect(again[path] == bytes, "\(path) differs between the run's report and the one rebuilt from the store")
            }
        }
        // The second run's report shows both runs in its trend; the first's only itself.
        let html = try String(contentsOf: ws.folder.appendingPathComponent("Reports/\(second)/index.html"), encoding: .utf8)
        #expect(html.contains("over the last 2 complete runs of suite stored-runs"))
        let firstHTML = try String(contentsOf: ws.folder.appendingPathComponent("Reports/\(first)/index.html"), encoding: .utf8)
        #expect(firstHTML.contains("This is the first complete run of suite stored-runs"))

        // Without -o the report goes to Reports/<run-id>, replacing the folder.
        try FileManager.default.removeItem(at: ws.folder.appendingPathComponent("Reports/\(first)"))
        let again = try CLI.run(["report", String(first.prefix(17)), "--store", "h.sqlite"], in: ws.folder)
        #expect(again.status == 0 && again.stdout.contains("Report: Reports/\(first)/index.html"), "\(again.stdout)\(again.stderr)")

        // A golden set that changed since is refused, not drawn wrongly.
        let golden = ws.goldenSet.appendingPathComponent("manifest.json")
        var manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: golden)) as! [String: Any]
        manifest["version"] = "9.9.9"
        try JSONSerialization.data(withJSONObject: manifest).write(to: golden)
        let refused = try CLI.run(["report", first, "--store", "h.sqlite", "-o", "Other"], in: ws.folder)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("differs from the one run \(first) used"), "\(refused.stderr)")
    }

    @Test func compareGivesDeltasWithPairedSignificanceFromStoredOutcomes() throws {
        let ws = try Self.workspace()
        defer { ws.remove() }
        let a = try Self.run(ws)
        // The next "release": the CNN as candidate.
        let b = try Self.run(ws)
        let compared = try CLI.run(["compare", a, "\(b):baseline", "--store", "h.sqlite", "--json"], in: ws.folder)
        #expect(compared.status == 0, "\(compared.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(compared.stdout.utf8)) as? [String: Any] ?? [:]
        #expect((object["a"] as? [String: Any])?["role"] as? String == "candidate")
        #expect((object["b"] as? [String: Any])?["model"] as? String == "mnist-cnn")
        let scenarios = object["scenarios"] as? [[String: Any]] ?? []
        #expect(scenarios.map { $0["scenario"] as? String } == ["clean", "motion-blur@3", "low-light@5"])

        // The numbers against an independent computation from the exported outcomes.
        #expect(try CLI.run(["export", a, "--format", "jsonl", "-o", "a.jsonl", "--store", "h.sqlite"], in: ws.folder).status == 0)
        #expect(try CLI.run(["export", b, "--format", "jsonl", "-o", "b.jsonl", "--store", "h.sqlite"], in: ws.folder).status == 0)
        func rows(_ file: String) throws -> [[String: Any]] {
            try String(contentsOf: ws.folder.appendingPathComponent(file), encoding: .utf8).split(separator: "\n")
                .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        }
        let rowsA = try rows("a.jsonl"), rowsB = try rows("b.jsonl")
        for scenario in scenarios {
            let id = scenario["scenario"] as! String
            let x = rowsA.filter { $0["scenario"] as? String == id && $0["role"] as? String == "candidate" }.map { $0["correct"] as! Bool }
            let y = rowsB.filter { $0["scenario"] as? String == id && $0["role"] as? String == "baseline" }.map { $0["correct"] as! Bool }
            #expect(x.count == 40 && y.count == 40)
            let accuracy = (scenario["metrics"] as? [[String: Any]] ?? []).first { $0["metric"] as? String == "accuracy" } ?? [:]
            #expect(accuracy["a"] as? Double == Double(x.filter { $0 }.count) / 40)
            #expect(accuracy["b"] as? Double == Double(y.filter { $0 }.count) / 40)
            #expect(accuracy["test"] as? String == "mcnemar-exact")
            // McNemar's exact test: two-sided binomial over the discordant pairs.
            let onlyA = zip(x, y).filter { $0 && !$1 }.count, onlyB = zip(x, y).filter { !$0 && $1 }.count
            let n = onlyA + onlyB
            var tail = 0.0, choose = 1.0
            for k in 0...min(onlyA, onlyB) {
                if k > 0 { choose = choose * Double(n - k + 1) / Double(k) }
                tail += choose
            }
            let p = n == 0 ? 1 : min(1, 2 * tail / pow(2, Double(n)))
            #expect(abs((accuracy["p_value"] as? Double ?? -1) - p) < 1e-12, "\(id): McNemar p")
            #expect(accuracy["interval"] is [String: Any])
        }

        let text = try CLI.run(["compare", a, "\(b):baseline", "--store", "h.sqlite"], in: ws.folder)
        #expect(text.stdout.contains("B: run \(b) baseline mnist-cnn"))
        #expect(text.stdout.contains("95% CI of delta"))

        // A run on another golden set (20 of the digits) in the same store is refused.
        let other = try Workspace(samples: 20)
        defer { other.remove() }
        let otherSuite = other.folder.appendingPathComponent("suite.yaml")
        try FileManager.default.copyItem(at: ws.folder.appendingPathComponent("suite.yaml"), to: otherSuite)
        let crossID = try Self.run(ws, suite: otherSuite.path)
        let refused = try CLI.run(["compare", a, crossID, "--store", "h.sqlite"], in: ws.folder)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("are on different golden sets"), "\(refused.stderr)")
        let badRole = try CLI.run(["compare", a, "\(b):teacher", "--store", "h.sqlite"], in: ws.folder)
        #expect(badRole.status == 2 && badRole.stderr.contains("after ':' comes baseline or candidate"))
    }

    @Test func exportWritesOneRowPerSampleScenarioAndModel() throws {
        let ws = try Self.workspace()
        defer { ws.remove() }
        let id = try Self.run(ws)
        let csv = try CLI.run(["export", id, "--format", "csv", "-o", "out.csv", "--store", "h.sqlite"], in: ws.folder)
        #expect(csv.status == 0, "\(csv.stderr)")
        #expect(csv.stdout.contains("wrote out.csv: 240 rows of run \(id)"), "40 samples × 3 scenarios × 2 models: \(csv.stdout)")
        // Read by Python's csv module, a real consumer of the format (probabilities are a quoted JSON array).
        let script = """
            import csv, json, sys
            rows = list(csv.DictReader(open(sys.argv[1], newline="")))
            print(json.dumps({"columns": list(rows[0].keys()), "n": len(rows),
                              "consistent": all((r["label"] == r["predicted"]) == (r["correct"] == "1") for r in rows),
                              "probabilities": all(abs(sum(json.loads(r["probabilities"])) - 1) < 1e-3 for r in rows),
                              "confidence": all(float(r["confidence"]) == max(json.loads(r["probabilities"])) for r in rows),
                              "first": rows[0]}))
            """
        try script.write(to: ws.folder.appendingPathComponent("read.py"), atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [ws.folder.appendingPathComponent("read.py").path, ws.folder.appendingPathComponent("out.csv").path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let read = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        #expect(read["columns"] as? [String] == ["run_id", "scenario", "role", "model", "sample_index", "sample_id", "label", "predicted",
                                                 "confidence", "correct", "latency_ms", "computed_in", "probabilities"])
        #expect(read["n"] as? Int == 240)
        #expect(read["consistent"] as? Bool == true)
        #expect(read["probabilities"] as? Bool == true)
        #expect(read["confidence"] as? Bool == true)
        let first = read["first"] as? [String: String] ?? [:]
        #expect(first["scenario"] == "clean" && first["role"] == "baseline" && first["model"] == "mnist-cnn" && first["sample_index"] == "0")

        let jsonl = try CLI.run(["export", String(id.prefix(17)), "--format", "jsonl", "-o", "-", "--store", "h.sqlite"], in: ws.folder)
        let lines = jsonl.stdout.split(separator: "\n")
        #expect(lines.count == 240)
        let row = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any] ?? [:]
        #expect(row["correct"] is Bool && row["probabilities"] is [Any] && row["sample_id"] as? String == first["sample_id"])

        let wrong = try CLI.run(["export", id, "--format", "xlsx", "-o", "x", "--store", "h.sqlite"], in: ws.folder)
        #expect(wrong.status == 2)
    }

    @Test func trendPrintsEachScenariosPrimaryMetricOverTheSuitesRuns() throws {
        let ws = try Self.workspace()
        defer { ws.remove() }
        let first = try Self.run(ws)
        let second = try Self.run(ws)
        let trend = try CLI.run(["trend", "--suite", "stored-runs", "--store", "h.sqlite", "--json"], in: ws.folder)
        #expect(trend.status == 0, "\(trend.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(trend.stdout.utf8)) as? [String: Any] ?? [:]
        #expect(object["metric"] as? String == "accuracy")
        #expect(object["scenarios"] as? [String] == ["clean", "motion-blur@3", "low-light@5"])
        let runs = object["runs"] as? [[String: Any]] ?? []
        #expect(runs.map { $0["id"] as? String } == [first, second])
        // The same numbers as the stored run.
        let shown = try CLI.run(["show", second, "--store", "h.sqlite", "--json"], in: ws.folder)
        let result = try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any] ?? [:]
        let clean = (result["scenarios"] as? [[String: Any]])?.first
        let storedAccuracy = (clean?["candidate"] as? [String: Any])?["accuracy"] as? Double
        let values = (runs.last?["values"] as? [String: Any])?["clean"] as? [String: Any]
        #expect(storedAccuracy != nil && values?["candidate"] as? Double == storedAccuracy)

        let table = try CLI.run(["trend", "--suite", "stored-runs", "--store", "h.sqlite", "--limit", "1"], in: ws.folder)
        #expect(table.stdout.contains("1 run, oldest first"))
        #expect(table.stdout.contains(second) && !table.stdout.contains(first))
        let unknown = try CLI.run(["trend", "--suite", "nope", "--store", "h.sqlite"], in: ws.folder)
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("no complete runs of suite 'nope' (suites with runs: stored-runs)"), "\(unknown.stderr)")
    }
}

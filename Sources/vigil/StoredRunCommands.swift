import ArgumentParser
import Foundation
import Vigil
import VigilReport
import VigilStore

/// `vigil report RUN`: the HTML report again, from the store and the golden set's images.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Rebuild a stored run's HTML report from the store; no model runs.",
        discussion: """
            Reads the run's metrics, verdicts and per-sample outcomes from the store, the \
            golden set's images from the path the run recorded (checked: same identity, every \
            file's hash), and writes the report the run wrote: the same pictures, byte for byte, \
            and the suite's trend up to that run. Run it in the folder the run was made in.

            Examples:
              vigil report 20261206-101502-3f9a
              vigil report 20261206 -o review/release-12

            Exit status: 0 written, 2 the input or the command is wrong (no such run, a run \
            that did not complete, a golden set that changed).
            """)

    @Argument(help: "The run id, or a unique prefix of it (see `vigil history`).")
    var runID: String

    @Option(name: .shortAndLong, help: "The report folder to write (replaced if present). Default: Reports/<run-id>.")
    var output: String?

    @Option(help: "The run store (SQLite). Default: $VIGIL_STORE, else .vigil/history.sqlite.")
    var store: String?

    func run() throws {
        let store = try StoreLocation.existing(store)
        let id = try store.resolveRunID(runID)
        var run = try store.restoredRun(id)
        let goldenSet = try GoldenSet.loadVerified(for: run.result)
        try run.result.matchDetections(goldenSet: goldenSet)
        run.goldenSet = goldenSet
        let hadReport = run.reportPath
        let reporter = HTMLReporter(folder: URL(fileURLWithPath: output ?? "Reports/\(id)"), folderPerRun: false)
        try reporter.report(&run)
        // A run without a report gets this one; one that has a report keeps that path (a
        // sign-off hashed that folder).
        if hadReport == nil, let path = run.reportPath { try store.recordReport(runID: id, path: path) }
        print("Report: \(run.reportPath ?? "")")
    }
}

/// `vigil compare A B`: two stored runs' models on the same golden set, with paired statistics.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two stored runs on the same golden set, with paired significance.",
        discussion: """
            Compares the candidate of RUN_A with the candidate of RUN_B (RUN:baseline picks a \
            run's baseline) scenario by scenario: each metric in A and B, delta = B − A, and from \
            the stored per-sample outcomes a paired bootstrap interval and p-value (McNemar's \
            exact test for accuracy). Scenarios are matched by id; ones with other parameters or \
            other samples are listed as not compared. Detection runs also read the golden set's \
            boxes (from the path the run recorded, checked).

            Examples:
              vigil compare 20261101-090000-aaaa 20261206-101502-3f9a
              vigil compare 20261206-101502-3f9a:baseline 20261206-101502-3f9a --metric accuracy --metric ece

            Exit status: 0 compared, 2 the input or the command is wrong (runs on different \
            golden sets, no such run, a run that did not complete).
            """)

    @Argument(help: ArgumentHelp("The earlier run (A), or RUN:baseline for its baseline.", valueName: "RUN_A"))
    var first: String

    @Argument(help: ArgumentHelp("The later run (B), or RUN:baseline for its baseline.", valueName: "RUN_B"))
    var second: String

    @Option(name: .customLong("metric"), help: ArgumentHelp("A metric to compare (repeatable). Default: RUN_B's primary and reported metrics.",
                                                           valueName: "METRIC"))
    var metrics: [String] = []

    @Option(help: "Bootstrap replicates per scenario, 1...1000000.")
    var bootstrap = 1000

    @Option(help: "The run store (SQLite). Default: $VIGIL_STORE, else .vigil/history.sqlite.")
    var store: String?

    @Flag(help: "Print the comparison as JSON.")
    var json = false

    func validate() throws {
        guard Limits.bootstrap.contains(bootstrap), bootstrap > 0 else {
            throw ValidationError(Limits.refusal("--bootstrap", bootstrap, 1...Limits.bootstrap.upperBound))
        }
    }

    func run() throws {
        let store = try StoreLocation.existing(store)
        let keys = try metrics.isEmpty ? nil : metrics.map { try MetricKey(parsing: $0) }
        let (a, roleA) = try load(first, from: store), (b, roleB) = try load(second, from: store)
        let goldenSet = b.goldenSet.task == .detection ? try GoldenSet.loadVerified(for: b) : nil
        let comparison = try RunComparison.compare(a, b, firstRole: roleA, secondRole: roleB, metrics: keys, bootstrap: bootstrap,
                                                   goldenSet: goldenSet)
        print(json ? try Output.json(comparison) : comparison.text)
    }

    /// A run (with its outcomes) and the role named by `reference` (`RUN` or `RUN:baseline`).
    private func load(_ reference: String, from store: RunStore) throws -> (RunResult, ModelRole) {
        var id = reference, role = ModelRole.candidate
        if let colon = reference.lastIndex(of: ":") {
            let name = String(reference[reference.index(after: colon)...])
            guard let named = ModelRole(rawValue: name) else {
                throw InputError("'\(reference)': after ':' comes baseline or candidate, not '\(name)'")
            }
            id = String(reference[..<colon])
            role = named
        }
        return (try store.restoredRun(store.resolveRunID(id)).result, role)
    }
}

/// `vigil export RUN`: the run's per-sample outcomes as CSV or JSON Lines.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a stored run's per-sample outcomes as CSV or JSON Lines.",
        discussion: """
            One row per sample × scenario × model. Classification columns: run_id, scenario, \
            role, model, sample_index, sample_id, label, predicted, confidence, correct, \
            latency_ms, computed_in, probabilities. Detection: run_id, scenario, role, model, \
            sample_index, sample_id, detections, true_positives, false_positives, misses, \
            latency_ms, computed_in. Meanings: Sources/VigilStore/SCHEMA.md ("Exported outcomes").

            Examples:
              vigil export 20261206-101502-3f9a --format csv -o outcomes.csv
              vigil export 20261206 --format jsonl -o - | jq -c 'select(.correct == false)'

            Exit status: 0 written, 2 the input or the command is wrong.
            """)

    @Argument(help: "The run id, or a unique prefix of it (see `vigil history`).")
    var runID: String

    @Option(help: "csv or jsonl.")
    var format: OutcomeExport.Format

    @Option(name: .shortAndLong, help: "The file to write; - for standard output.")
    var output: String

    @Option(help: "The run store (SQLite). Default: $VIGIL_STORE, else .vigil/history.sqlite.")
    var store: String?

    func run() throws {
        let store = try StoreLocation.existing(store)
        let id = try store.resolveRunID(runID)
        let toStandardOutput = output == "-"
        let url = URL(fileURLWithPath: toStandardOutput ? "/dev/stdout" : output)
        let rows = try store.exportOutcomes(runID: id, format: format, to: url)
        if !toStandardOutput { print("wrote \(output): \(rows) rows of run \(id)") }
    }
}

extension OutcomeExport.Format: ExpressibleByArgument {}

/// `vigil trend --suite NAME`: the primary metric per scenario over the suite's stored runs.
struct TrendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trend",
        abstract: "Print each scenario's primary metric over a suite's stored runs.",
        discussion: """
            A row per scenario (the newest run's), a column per run, oldest left: the candidate's \
            value, and the change from the first run shown to the last. The same numbers as the \
            trend chart in each run's report.

            Examples:
              vigil trend --suite digits-default
              vigil trend --suite digits-default --metric ece --limit 30 --json

            Exit status: 0 printed, 2 the input or the command is wrong (no runs of that suite).
            """)

    @Option(help: "The suite's name (its file's `name`).")
    var suite: String

    @Option(help: "The metric (default: the newest run's primary metric).")
    var metric: String?

    @Option(help: "How many runs, 1...100000.")
    var limit = Trend.defaultRuns

    @Option(help: "The run store (SQLite). Default: $VIGIL_STORE, else .vigil/history.sqlite.")
    var store: String?

    @Flag(help: "Print the trend as JSON.")
    var json = false

    func validate() throws {
        guard Limits.listedRuns.contains(limit) else { throw ValidationError(Limits.refusal("--limit", limit, Limits.listedRuns)) }
    }

    func run() throws {
        let trend = try StoreLocation.existing(store).trend(suite: suite, metric: metric.map { try MetricKey(parsing: $0) }, limit: limit)
        print(json ? try Output.json(trend) : trend.table)
    }
}

import ArgumentParser
import Foundation
import Synchronization
import Vigil
import VigilReport
import VigilStore

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Evaluate baseline and candidate on a suite and gate the candidate.",
        discussion: """
            Prints a scenario × metric table (baseline, candidate, delta, verdict), stores the run \
            in the run store and writes Reports/<run-id>/index.html with failure galleries.

            When the store already holds the baseline model's outcomes for the same golden set, \
            scenario, seed and batch size, they are reused instead of running the baseline again \
            (--no-reuse turns this off).

            Exit status: 0 the gate passed, 1 it failed, 2 the input or the command is wrong.
            """)

    @Argument(help: "The suite file (YAML), e.g. Suites/default.yaml.")
    var suite: String

    @Option(help: "The run store (SQLite). Default: $VIGIL_STORE, else .vigil/history.sqlite.")
    var store: String?

    @Option(help: "Folder for reports; each run writes <folder>/<run-id>/index.html.")
    var reports = "Reports"

    @Option(name: .customLong("baseline"), help: ArgumentHelp(
        "Compare against a stored run instead of running the suite's baseline model.",
        discussion: "RUN_ID uses that run's candidate outcomes; RUN_ID:baseline uses its baseline's.",
        valueName: "RUN_ID"))
    var baselineRun: String?

    @Flag(help: "Run the baseline even when stored outcomes could be reused.")
    var noReuse = false

    @Option(help: "Parallel workers, 1...256 (default: the suite's 'workers', else one per core).")
    var workers: Int?

    @Flag(help: "Print the run result as JSON instead of the table.")
    var json = false

    @Flag(help: "Do not write the HTML report.")
    var noReport = false

    func validate() throws {
        if let workers, !Limits.workers.contains(workers) { throw ValidationError(Limits.refusal("--workers", workers, Limits.workers)) }
    }

    func run() async throws {
        let commandStarted = Date()
        let suite = try Suite.load(URL(fileURLWithPath: self.suite), displayPath: self.suite)
        let store = try RunStore(path: StoreLocation.resolve(self.store), waiting: Terminal.note)
        let storedBaseline = try baselineRun.map { try Self.storedBaseline($0, in: store) }
        let progress = ProgressDisplay(enabled: Terminal.stderrIsTerminal)
        var options = RunOptions(workers: workers, reuseBaseline: !noReuse, storedBaseline: storedBaseline,
                                 keptImages: noReport ? nil : HTMLReport.keeper())
        if progress.enabled {
            options.progress = { progress.show($0) }
        }
        let runner = SuiteRunner(suite: suite, options: options)
        let prepared = try await runner.prepare()
        let result: RunResult
        do {
            result = try await store.record(runner, prepared: prepared)
        } catch {
            progress.finish()
            throw error
        }
        progress.finish()
        // The result is printed before the report is written: a report that cannot be written
        // (a full disk, a folder without permission) stops the command with exit 2, but the
        // table or the JSON of the stored run is already out.
        if json {
            print(String(decoding: try RunResult.jsonEncoder().encode(result), as: UTF8.self))
        } else {
            print(TerminalReport.render(result))
            print("")
        }
        var reportSeconds: Double?
        if !noReport {
            let folder = URL(fileURLWithPath: reports).appendingPathComponent(result.id)
            let started = Date()
            var inputs: [ModelRole: ModelSpec.Input] = [:]
            inputs[.baseline] = prepared.baselineBackend?.spec.input
            inputs[.candidate] = prepared.candidateBackend.spec.input
            var report = HTMLReport(result: result, goldenSet: prepared.goldenSet, modelInputs: inputs,
                                    keptImages: options.keptImages)
            if progress.enabled {
                report.progress = { done, total in progress.showReport(done: done, total: total, started: started) }
            }
            let reportPath: String
            do {
                reportPath = try report.write(to: folder).relativePath
            } catch {
                progress.finish()
                throw error
            }
            progress.finish()
            try store.recordReport(runID: result.id, path: reportPath)
            reportSeconds = Date().timeIntervalSince(started)
            if !json { print("Report: \(reportPath)") }
        }
        if !json {
            print("Stored: run \(result.id) in \(store.path)")
            let parts = ["run \(String(format: "%.1f", result.durationSeconds)) s"]
                + (reportSeconds.map { ["report \(String(format: "%.1f", $0)) s"] } ?? [])
            print("Took \(String(format: "%.1f", Date().timeIntervalSince(commandStarted))) s (\(parts.joined(separator: ", ")))")
        }
        if !result.passed { throw ExitCode(1) }
    }
}

extension RunCommand {
    /// `RUN_ID`, `RUN_ID:candidate` or `RUN_ID:baseline` (ids may be shortened to a unique prefix).
    static func storedBaseline(_ reference: String, in store: RunStore) throws -> StoredBaseline {
        let parts = reference.split(separator: ":", maxSplits: 1).map(String.init)
        let roleName = parts.count == 2 ? parts[1] : ModelRole.candidate.rawValue
        guard let role = ModelRole(rawValue: roleName) else {
            throw InputError("--baseline \(reference): write RUN_ID, RUN_ID:candidate or RUN_ID:baseline")
        }
        return try store.storedBaseline(runID: store.resolveRunID(parts[0]), role: role)
    }
}

enum StoreLocation {
    /// --store, else $VIGIL_STORE, else the default. An empty one is refused: SQLite would
    /// open a private temporary database, and the run would be lost while "Stored" is printed.
    static func resolve(_ option: String?) throws -> String {
        if let option {
            guard !option.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw InputError("--store is empty; give the run store's path (an SQLite file)")
            }
            return option
        }
        if let variable = ProcessInfo.processInfo.environment["VIGIL_STORE"] {
            guard !variable.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw InputError("VIGIL_STORE is set but empty; give the run store's path, or unset it for \(RunStore.defaultPath)")
            }
            return variable
        }
        return RunStore.defaultPath
    }
}

/// A one-line progress display on stderr, shown only on a terminal and only once a run has taken
/// more than two seconds.
final class ProgressDisplay: Sendable {
    let enabled: Bool
    private let lastDraw = Mutex<Double>(0)
    private let drawn = Atomic<Bool>(false)

    init(enabled: Bool) {
        self.enabled = enabled
    }

    func show(_ progress: RunProgress) {
        guard progress.elapsedSeconds >= 2 else { return }
        let percent = progress.total > 0 ? 100 * progress.done / progress.total : 100
        draw(elapsed: progress.elapsedSeconds, last: progress.done == progress.total) {
            String(format: "predictions %d/%d (%d%%) · %.1f s", progress.done, progress.total, percent, progress.elapsedSeconds)
        }
    }

    /// The report's progress: gallery pictures made so far (shown from the first one, since the
    /// run before it already took its time).
    func showReport(done: Int, total: Int, started: Date) {
        let elapsed = Date().timeIntervalSince(started)
        draw(elapsed: elapsed, last: done == total) {
            String(format: "report: gallery pictures %d/%d · %.1f s", done, total, elapsed)
        }
    }

    /// Redraws the line at most every 0.1 s, and always for the last update.
    private func draw(elapsed: Double, last: Bool, _ text: () -> String) {
        guard enabled else { return }
        let due = lastDraw.withLock { previous -> Bool in
            guard elapsed - previous >= 0.1 || last else { return false }
            previous = elapsed
            return true
        }
        guard due else { return }
        drawn.store(true, ordering: .relaxed)
        FileHandle.standardError.write(Data(("\r\u{1B}[K  " + text()).utf8))
    }

    func finish() {
        lastDraw.withLock { $0 = 0 }
        if drawn.load(ordering: .relaxed) {
            FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        }
    }
}

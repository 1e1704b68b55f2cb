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

    @OptionGroup var outputs: PipelineOutputs

    func validate() throws {
        if let workers, !Limits.workers.contains(workers) { throw ValidationError(Limits.refusal("--workers", workers, Limits.workers)) }
        try outputs.validate(json: json)
    }

    func run() async throws {
        let commandStarted = Date()
        let suite = try Suite.load(URL(fileURLWithPath: self.suite), displayPath: self.suite)
        let store = try RunStore(path: StoreLocation.resolve(self.store), waiting: Terminal.note)
        let storedBaseline = try baselineRun.map { try Self.storedBaseline($0, in: store) }
        let progress = ProgressDisplay(enabled: Terminal.stderrIsTerminal)
        defer { progress.finish() }
        var options = RunOptions(workers: workers, reuseBaseline: !noReuse, storedBaseline: storedBaseline,
                                 keptImages: noReport ? nil : HTMLReport.keeper())
        if progress.enabled {
            options.progress = { progress.show($0) }
        }
        // The table (or JSON) comes first, so that a report that cannot be written (a full
        // disk, a folder without permission) stops the command with exit 2 after the stored
        // run's result is already out; the JUnit and Markdown files name the report, so they
        // follow it.
        var reporters = outputs.printer(json: json)
        let reportStarted = StartTime()
        if !noReport {
            var report = HTMLReporter(folder: URL(fileURLWithPath: reports))
            if progress.enabled {
                report.progress = { done, total in progress.showReport(done: done, total: total, started: reportStarted.date ?? Date()) }
            }
            reporters.append(TimedReporter(report, clock: reportStarted))
        }
        reporters += outputs.reporters
        let evaluation = Evaluation(runner: SuiteRunner(suite: suite, options: options), store: store, reporters: reporters)
        let prepared = try await evaluation.prepare()
        let result = try await evaluation.record(prepared)
        progress.finish()
        var run = try evaluation.reportable(result, prepared: prepared)
        try evaluation.report(&run)
        progress.finish()
        if !json && !outputs.printsToStandardOutput {
            if let path = run.reportPath { print("Report: \(path)") }
            print("Stored: run \(result.id) in \(store.path)")
            var parts = ["run \(String(format: "%.1f", result.durationSeconds)) s"]
            if let started = reportStarted.date { parts.append("report \(String(format: "%.1f", Date().timeIntervalSince(started))) s") }
            print("Took \(String(format: "%.1f", Date().timeIntervalSince(commandStarted))) s (\(parts.joined(separator: ", ")))")
        }
        if !result.passed { throw ExitCode(1) }
    }
}

/// `--junit FILE` and `--markdown FILE` (`-`: standard output), shared by `vigil run` and `vigil show`.
struct PipelineOutputs: ParsableArguments {
    @Option(help: ArgumentHelp("Write the gate as JUnit XML (one testcase per checked condition) for CI test pages; - for standard output.",
                               valueName: "FILE"))
    var junit: String?

    @Option(help: ArgumentHelp("Write a GitHub-flavoured Markdown summary (for $GITHUB_STEP_SUMMARY or a PR comment); - for standard output.",
                               valueName: "FILE"))
    var markdown: String?

    func validate(json: Bool) throws {
        if junit == "-" && markdown == "-" { throw ValidationError("--junit - and --markdown - would both print to standard output; send one to a file") }
        if json && printsToStandardOutput { throw ValidationError("--json and a '-' output would both print to standard output; send one to a file") }
    }

    /// Whether one of them prints to standard output (which then carries nothing else).
    var printsToStandardOutput: Bool { junit == "-" || markdown == "-" }

    /// What goes to standard output first: the table, or JSON with `--json`; nothing when one
    /// of these files is printed there.
    func printer(json: Bool) -> [any RunReporter] {
        printsToStandardOutput ? [] : [json ? JSONReporter() : TerminalReporter()]
    }

    var reporters: [any RunReporter] {
        (junit.map { [JUnitReporter(ReportDestination($0))] } ?? []) + (markdown.map { [MarkdownReporter(ReportDestination($0))] } ?? [])
    }
}

/// A reporter that notes when it starts (the HTML report's time is printed as its own).
struct TimedReporter: RunReporter {
    var reporter: any RunReporter
    var clock: StartTime

    init(_ reporter: any RunReporter, clock: StartTime) {
        self.reporter = reporter
        self.clock = clock
    }

    func report(_ run: inout ReportedRun) throws {
        clock.date = Date()
        try reporter.report(&run)
    }
}

/// When something started, set from one task and read from others.
final class StartTime: Sendable {
    private let value = Mutex<Date?>(nil)

    var date: Date? {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
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

    /// The store of `option` for commands that read it: one that does not exist yet is an
    /// error, not a new empty store.
    static func existing(_ option: String?) throws -> RunStore {
        let path = try resolve(option)
        guard FileManager.default.fileExists(atPath: path) else {
            throw InputError("\(path): no run store here yet (`vigil run` creates it; --store picks another)")
        }
        return try RunStore(path: path, waiting: Terminal.note)
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

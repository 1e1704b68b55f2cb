import Foundation

/// Where runs are recorded: begun as `incomplete`, then `complete` with the result or
/// `failed` with the reason. `RunStore` (VigilStore) is the SQLite one.
public protocol RunRecorder: OutcomeCache {
    /// Where the record is kept, for messages (`Stored: run … in PATH`).
    var path: String { get }
    func begin(runID: String, startedAt: Date, suite: Suite, prepared: SuiteRunner.Prepared) throws
    func complete(_ result: RunResult) throws
    func fail(runID: String, error: String) throws
    /// The HTML report of a complete run was written whole at `path`.
    func recordReport(runID: String, path: String) throws
    /// `metric` on each scenario of `suite` over its last `limit` complete runs through `runID`
    /// (see ``Trend``).
    func trend(suite: String, through runID: String?, metric: MetricKey?, limit: Int) throws -> Trend
}

/// One run of a suite from start to finish, the same for the command line, `SuiteGate` and
/// library users: prepare (check every input) → begin (recorded `incomplete`) → run → complete
/// (or failed, with the reason, for anything that throws after begin) → reporters, in order.
///
/// A run is never left looking complete or silently incomplete: an error after `begin` marks it
/// failed; a reporter that fails (a full disk) throws after the run is stored complete, and
/// reporters before it have already written their output.
///
/// ```swift
/// let suite = try Suite.load(URL(fileURLWithPath: "Suites/default.yaml"))
/// let store = try RunStore(path: ".vigil/history.sqlite")
/// let run = try await Evaluation(runner: SuiteRunner(suite: suite), store: store,
///                                reporters: [TerminalReporter(), HTMLReporter(folder: URL(fileURLWithPath: "Reports")),
///                                            JUnitReporter(.file(URL(fileURLWithPath: "vigil-junit.xml")))]).run()
/// print(run.result.passed, run.reportPath ?? "no report")
/// ```
public struct Evaluation: Sendable {
    public var runner: SuiteRunner
    public var store: (any RunRecorder)?
    public var reporters: [any RunReporter]

    public init(runner: SuiteRunner, store: (any RunRecorder)? = nil, reporters: [any RunReporter] = []) {
        self.runner = runner
        self.store = store
        self.reporters = reporters
    }

    /// Checks every input and loads the models (no run is recorded yet).
    public func prepare() async throws -> SuiteRunner.Prepared {
        try await runner.prepare()
    }

    /// Runs the suite (preparing it first unless `prepared` is given), records it, and hands it
    /// to the reporters.
    public func run(prepared given: SuiteRunner.Prepared? = nil) async throws -> ReportedRun {
        let prepared: SuiteRunner.Prepared
        if let given { prepared = given } else { prepared = try await prepare() }
        var reported = try reportable(try await record(prepared), prepared: prepared)
        try report(&reported)
        return reported
    }

    /// A just-finished run as the reporters get it: with its golden set, the scenario images the
    /// run kept and, when it is stored, the suite's trend up to it.
    public func reportable(_ result: RunResult, prepared: SuiteRunner.Prepared) throws -> ReportedRun {
        ReportedRun(result: result, goldenSet: prepared.goldenSet, keptImages: runner.options.keptImages, storePath: store?.path,
                    trend: try store?.trend(suite: result.suite.name, through: result.id, metric: result.primaryMetric,
                                            limit: Trend.defaultRuns))
    }

    /// Begin → run → complete, or failed for anything that throws after begin.
    public func record(_ prepared: SuiteRunner.Prepared) async throws -> RunResult {
        guard let store else { return try await runner.run(prepared: prepared) }
        let runID = runner.options.runID
        try store.begin(runID: runID, startedAt: Date(), suite: runner.suite, prepared: prepared)
        do {
            let result = try await runner.run(prepared: prepared, cache: store)
            try store.complete(result)
            return result
        } catch {
            try? store.fail(runID: runID, error: (error as? InputError)?.message ?? "\(error)")
            throw error
        }
    }

    /// Runs the reporters in order; a report path one of them sets is recorded in the store.
    public func report(_ run: inout ReportedRun) throws {
        for reporter in reporters {
            let before = run.reportPath
            try reporter.report(&run)
            if let path = run.reportPath, path != before { try store?.recordReport(runID: run.result.id, path: path) }
        }
    }
}

import Foundation
import Testing
import Vigil
import VigilStore
import XCTest

/// Gating a model inside `swift test`.
///
/// A suite is run once per test process, however many tests ask for it, and every scenario
/// becomes its own test case, so a regression shows up as a failing test named after the
/// scenario, with the gate's explanation as the failure message:
///
/// ```swift
/// import Testing
/// import VigilTesting
///
/// let suite = URL(fileURLWithPath: "Suites/default.yaml")
///
/// @Test(arguments: try SuiteGate.scenarioIDs(in: suite))
/// func candidatePassesTheGate(on scenario: String) async throws {
///     let result = try await SuiteGate.shared.result(for: suite)
///     SuiteGate.expectPasses(result, on: scenario)
/// }
/// ```
public actor SuiteGate {
    public static let shared = SuiteGate()

    private var runs: [String: Task<RunResult, any Error>] = [:]

    public init() {}

    /// The result of running the suite at `url` (run on first request, then shared).
    ///
    /// - Parameter store: a run store to reuse baseline outcomes from and record the run in;
    ///   nil runs without one.
    /// - Parameter reporters: outputs of the run, e.g. `JUnitReporter(.file(url))` or
    ///   `HTMLReporter(folder:)`, written once when the suite first runs.
    public func result(for url: URL, store: RunStore? = nil, reporters: [any RunReporter] = []) async throws -> RunResult {
        let key = url.standardizedFileURL.path
        if let running = runs[key] { return try await running.value }
        let task = Task {
            let suite = try Suite.load(url, displayPath: DisplayPath.of(url))
            // The same orchestration as `vigil run`: with a store, a run that stops (a model
            // server failing midway, a broken output, a full disk) is recorded as failed, never
            // left looking as if it could finish; reporters (JUnit for the CI page, the HTML
            // report) follow a complete run.
            return try await Evaluation(runner: SuiteRunner(suite: suite), store: store, reporters: reporters).run().result
        }
        runs[key] = task
        return try await task.value
    }

    /// The ids of the suite's scenarios, in suite order (`clean`, `low-light@3`, …), for
    /// parameterised tests.
    public nonisolated static func scenarioIDs(in url: URL) throws -> [String] {
        try Suite.load(url, displayPath: DisplayPath.of(url)).scenarios.map(\.id)
    }

    /// Records one Swift Testing issue per failed condition on `scenario`, each with the gate's
    /// explanation and where the condition is written. Flagged verdicts (a scenario smaller than
    /// the suite's `min_samples`) do not decide the gate, so they record no issue.
    public nonisolated static func expectPasses(_ result: RunResult, on scenario: String,
                                                sourceLocation: SourceLocation = #_sourceLocation) {
        guard let found = result.scenarios.first(where: { $0.scenario.id == scenario }) else {
            Issue.record("scenario '\(scenario)' is not in run \(result.id)", sourceLocation: sourceLocation)
            return
        }
        for verdict in found.verdicts where verdict.failsGate {
            Issue.record("\(verdict.explanation)  [\(verdict.condition.source)]", sourceLocation: sourceLocation)
        }
    }

    /// The XCTest counterpart of `expectPasses`: one `XCTFail` per failed condition.
    public nonisolated static func assertPasses(_ result: RunResult, on scenario: String,
                                                file: StaticString = #filePath, line: UInt = #line) {
        guard let found = result.scenarios.first(where: { $0.scenario.id == scenario }) else {
            XCTFail("scenario '\(scenario)' is not in run \(result.id)", file: file, line: line)
            return
        }
        for verdict in found.verdicts where verdict.failsGate {
            XCTFail("\(verdict.explanation)  [\(verdict.condition.source)]", file: file, line: line)
        }
    }
}

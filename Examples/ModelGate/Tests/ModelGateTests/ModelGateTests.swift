import Foundation
import Testing
import Vigil
import VigilTesting

/// This package's folder, found from this file so that `swift test` works from any folder.
let package = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The suite this package gates.
let suite = package.appendingPathComponent("Suites/gate.yaml")

/// Where the run's JUnit XML goes, for the CI page: a fixed path the CI job collects, inside the
/// package's (ignored) build folder, replaced by each run.
let junitFile = package.appendingPathComponent(".build/vigil-junit.xml")

/// The gated run. The suite runs once per test process, whichever test asks first, and the
/// reporters are written then; every other test shares the result.
func gateResult() async throws -> RunResult {
    try await SuiteGate.shared.result(for: suite, reporters: [JUnitReporter(.file(junitFile))])
}

@Suite("Suites/gate.yaml: may the low-light candidate replace the baseline on the night camera?")
struct ModelGateTests {
    /// One test case per scenario (`low-light@3`, …): a regression fails the test named after
    /// its scenario, with the gate's explanation and the suite line of the failed condition.
    @Test(arguments: try SuiteGate.scenarioIDs(in: suite))
    func candidatePassesTheGate(on scenario: String) async throws {
        SuiteGate.expectPasses(try await gateResult(), on: scenario)
    }

    /// The same run as JUnit XML: one `<testcase>` per checked condition and scenario.
    @Test func theRunIsWrittenAsJUnitXML() async throws {
        let result = try await gateResult()
        let scenarios = try SuiteGate.scenarioIDs(in: suite)
        let xml = try String(contentsOf: junitFile, encoding: .utf8)
        let testcases = xml.components(separatedBy: "<testcase ").count - 1
        #expect(testcases == result.verdicts.count)
        #expect(testcases >= scenarios.count)
        #expect(xml.contains(#"<property name="verdict" value="\#(result.passed ? "pass" : "fail")"/>"#))
    }
}

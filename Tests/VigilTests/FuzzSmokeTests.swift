import Foundation
import Testing
import Vigil
import VigilFuzzing
import VigilTestSupport

/// A short, seeded run of `make fuzz`'s mutations over every reader: each input is accepted or
/// refused with a one-line InputError (a crash or a hang would stop the test run).
@Suite("Fuzzing smoke: every reader survives mutated bundled files")
struct FuzzSmokeTests {
    static let executions = 150

    /// Made once: the targets' fixed files are shared by the cases, which run in parallel
    /// (each writes its inputs under its own file name).
    static let targets = try! FuzzTarget.all(root: Repository.root, scratch: scratch)

    @Test(arguments: FuzzSmokeTests.targets.map(\.name))
    func readerRefusesMutationsInOneLine(_ name: String) throws {
        let target = try #require(Self.targets.first { $0.name == name })
        let report = try Fuzzer.run(target, seed: 7, executions: Self.executions, scratch: Self.scratch)
        #expect(report.executions == Self.executions)
        #expect(report.findings.map(\.problem) == [])
        #expect(report.refused > 0, "the mutations reach the reader's checks")
    }

    /// One level below the repository, so suites' relative paths resolve (`vigil-fuzz` uses
    /// `.build-fuzz`; the smoke test its own folder beside it).
    static let scratch = Repository.root.appendingPathComponent(".build-fuzz-smoke")
}

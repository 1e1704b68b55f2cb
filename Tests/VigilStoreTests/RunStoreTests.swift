import Foundation
import GRDB
import Testing
import Vigil
import VigilTestSupport
@testable import VigilStore

/// Builds a small, hand-made run result (no models needed): two scenarios, three samples.
func makeResult(id: String = RunID.make(), seed: UInt64 = 1, goldenIdentity: String = "g1",
                baselineIdentity: String = "model-a", reusedFrom: String? = nil,
                lowLight: Scenario = try! Scenario(id: "low-light@2")) -> RunResult {
    let classes = ["a", "b"]
    let scenarios = [Scenario.clean, lowLight]
    var outcomes: [String: [ModelRole: ScenarioOutcomes]] = [:]
    var results: [ScenarioResult] = []
    for (index, scenario) in scenarios.enumerated() {
        let baseline = (0..<3).map { i in
            Outcome(sampleID: "s\(i)", label: i % 2, probabilities: i == 2 ? [0.3, 0.7] : [0.8 - Float(index) * 0.1, 0.2 + Float(index) * 0.1], latencyMs: 1.5)
        }
        let candidate = (0..<3).map { i in Outcome(sampleID: "s\(i)", label: i % 2, probabilities: [0.4, 0.6], latencyMs: 0.5) }
        outcomes[scenario.id] = [.baseline: .classification(baseline), .candidate: .classification(candidate)]
        let b = ScenarioMetrics.classification(SuiteRunner.metrics(baseline, classes: classes))
        let c = ScenarioMetrics.classification(SuiteRunner.metrics(candidate, classes: classes))
        let condition = Condition(metric: MetricKey(.accuracy), scenario: "all", rule: .maxRegression, threshold: 0.01, source: "suite.yaml:9")
        results.append(ScenarioResult(scenario: scenario, baseline: b, candidate: c, baselineReusedFrom: reusedFrom,
                                      verdicts: [Gate.evaluate(condition, scenario: scenario, baseline: b, candidate: c)]))
    }
    return RunResult(
        id: id, startedAt: Date(timeIntervalSince1970: 1_800_000_000), finishedAt: Date(timeIntervalSince1970: 1_800_000_004),
        suite: SuiteInfo(name: "s", path: "suite.yaml", sha256: "abc"),
        goldenSet: GoldenSetInfo(name: "g", version: "1", path: "g", identity: goldenIdentity, samples: 3),
        seed: seed, batchSize: 4,
        baseline: ModelInfo(name: "a", spec: "a.yaml", sha256: "sha-a", identity: baselineIdentity),
        candidate: ModelInfo(name: "b", spec: "b.yaml", sha256: "sha-b", identity: "model-b"),
        environment: RunEnvironment(vigilVersion: "test", opencvVersion: "4.6.0", gitCommit: "deadbeef", workers: 1, opencvThreads: 1),
        primaryMetric: MetricKey(.accuracy), reportedMetrics: [MetricKey(.accuracy)], scenarios: results, outcomes: outcomes)
}

extension RunStore {
    func beginForTest(_ result: RunResult) throws {
        try begin(runID: result.id, startedAt: result.startedAt, suite: result.suite, goldenSet: result.goldenSet,
                  seed: result.seed, batchSize: result.batchSize, baseline: result.baseline, candidate: result.candidate)
    }
}

@Suite("Run store: lifecycle, reuse lookups and the schema")
struct RunStoreTests {
    func store() throws -> (RunStore, URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-store-\(UUID().uuidString)")
        return (try RunStore(path: folder.appendingPathComponent("nested/history.sqlite").path), folder)
    }

    @Test func aRunIsIncompleteUntilCompleted() throws {
        let (store, folder) = try store()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = makeResult()
        try store.beginForTest(result)
        #expect(try store.runs().map(\.status) == ["incomplete"])
        #expect(try store.cachedOutcomes(for: key(result, .clean)) == nil, "an incomplete run must not be reused")
        try store.complete(result)
        let runs = try store.runs()
        #expect(runs.map(\.status) == ["complete"])
        #expect(runs.first?.passed == result.passed)
        #expect(runs.first?.gitCommit == "deadbeef")
        #expect(try store.result(runID: result.id)?.scenarios == result.scenarios)
    }

    @Test func completionIsOneTransaction() throws {
        let (store, folder) = try store()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = makeResult()
        try store.beginForTest(result)
        // The same scenario twice collides on primary keys, so the writes fail midway.
        var broken = result
        broken.scenarios.append(broken.scenarios[0])
        #expect(throws: (any Error).self) { try store.complete(broken) }
        #expect(try store.runs().map(\.status) == ["incomplete"])
        #expect(try store.count("scenario_metrics") == 0)
        #expect(try store.count("verdicts") == 0)
        #expect(try store.count("outcomes") == 0)
    }

    func key(_ result: RunResult, _ scenario: Scenario, identity: String? = nil) -> OutcomeKey {
        OutcomeKey(modelIdentity: identity ?? result.baseline.identity, goldenSetIdentity: result.goldenSet.identity,
                   scenario: scenario, seed: result.seed, batchSize: result.batchSize)
    }

    @Test func cachedOutcomesRoundTripAndRespectTheKey() throws {
        let (store, folder) = try store()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = makeResult()
        try store.beginForTest(result)
        try store.complete(result)
        let lowLight = try Scenario(id: "low-light@2")
        let cached = try #require(try store.cachedOutcomes(for: key(result, lowLight)))
        #expect(cached.runID == result.id)
        #expect(cached.outcomes == result.outcomes(lowLight, .baseline))
        // The candidate's outcomes are found under its identity too (any role may serve).
        #expect(try store.cachedOutcomes(for: key(result, lowLight, identity: "model-b"))?.outcomes == result.outcomes(lowLight, .candidate))
        var other = key(result, lowLight)
        other.seed = 2
        #expect(try store.cachedOutcomes(for: other) == nil)
        other = key(result, lowLight)
        other.batchSize = 8
        #expect(try store.cachedOutcomes(for: other) == nil)
        other = key(result, lowLight)
        other.scenarioVersion += 1
        #expect(try store.cachedOutcomes(for: other) == nil)
        other = key(result, lowLight)
        other.scenarioParameters = "low-light{exposure=0.2,0.2,0.2,0.2,0.2}"
        #expect(try store.cachedOutcomes(for: other) == nil)
        #expect(try store.cachedOutcomes(for: key(result, Scenario(id: "occlusion@1"))) == nil)
    }

    /// Outcomes of a scenario whose parameters a suite set are found under those parameters
    /// only, and a stored baseline says how each scenario was made.
    @Test func outcomesAreKeyedByTheSuitesScenarioParameters() throws {
        let (store, folder) = try store()
        defer { try? FileManager.default.removeItem(at: folder) }
        let darker = try Scenario(id: "low-light@2").overriding(["low-light": ["exposure": [0.2]]])
        let result = makeResult(lowLight: darker)
        try store.beginForTest(result)
        try store.complete(result)
        #expect(try store.cachedOutcomes(for: key(result, Scenario(id: "low-light@2"))) == nil)
        #expect(try store.cachedOutcomes(for: key(result, darker))?.outcomes == result.outcomes(darker, .baseline))
        let computations = try store.storedBaseline(runID: result.id).scenarioComputations
        #expect(computations["low-light@2"] == ScenarioComputation(darker))
        #expect(computations["low-light@2"]?.parameters == "low-light{exposure=0.2,0.2,0.2,0.2,0.2}")
        #expect(computations["clean"] == ScenarioComputation(version: 1, parameters: ""))
        #expect(try store.count("outcomes WHERE scenario_parameters != ''") == 6)
    }

    @Test func reuseOfReusePointsAtTheRunThatComputed() throws {
        let (store, folder) = try store()
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = makeResult(id: "20260101-000000-aaaa")
        try store.beginForTest(first)
        try store.complete(first)
        var second = makeResult(id: "20260101-000001-bbbb", reusedFrom: first.id)
        second.startedAt = first.startedAt.addingTimeInterval(60)
        try store.beginForTest(second)
        try store.complete(second)
        #expect(try store.cachedOutcomes(for: key(second, .clean))?.runID == first.id)
    }

    @Test func storedBaselineAndRunIDPrefixes() throws {
        let (store, folder) = try store()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = makeResult(id: "20260101-000000-abcd")
        try store.beginForTest(result)
        #expect(inputError { _ = try store.storedBaseline(runID: result.id) }.contains("is incomplete"))
        try store.complete(result)
        #expect(try store.resolveRunID("20260101-000000") == result.id)
        #expect(inputError { _ = try store.resolveRunID("2027") }.contains("no run '2027'"))
        let baseline = try store.storedBaseline(runID: result.id)
        #expect(baseline.model.identity == "model-b" && baseline.model.spec == "b.yaml")
        #expect(baseline.outcomes["clean"] == result.outcomes(.clean, .candidate))
        #expect(try store.storedBaseline(runID: result.id, role: .baseline).model.name == "a")
    }

    @Test func probabilitiesAreLittleEndianFloat32() {
        let values: [Float] = [0.25, 1, 0, -2.5, .leastNonzeroMagnitude]
        let blob = RunStore.blob(values)
        #expect(blob.count == 20)
        #expect(Array(blob.prefix(4)) == [0x00, 0x00, 0x80, 0x3E])   // 0.25f
        #expect(RunStore.floats(blob) == values)
    }

    @Test func schemaIsQueryableWithPlainSQL() throws {
        let (store, folder) = try store()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = makeResult()
        try store.beginForTest(result)
        try store.complete(result)
        // The documented queries in SCHEMA.md work as written.
        let queue = try DatabaseQueue(path: store.path)
        let accuracy = try queue.read { db in
            try Double.fetchOne(db, sql: """
                SELECT value FROM scenario_metrics
                WHERE run_id = ? AND scenario = 'clean' AND role = 'baseline' AND metric = 'accuracy'
                """, arguments: [result.id])
        }
        #expect(accuracy == result.scenarios[0].baseline.value(MetricKey(.accuracy)))
        let wrong = try queue.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM outcomes WHERE run_id = ? AND correct = 0", arguments: [result.id])
        }
        let expected = result.outcomes.values.flatMap { $0.values.flatMap { $0.classification ?? [] } }.filter { !$0.correct }.count
        #expect(wrong == expected)
    }
}

extension RunStore {
    func count(_ table: String) throws -> Int {
        try DatabaseQueue(path: path).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM \(table)") ?? 0 }
    }
}

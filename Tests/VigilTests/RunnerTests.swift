import Foundation
import Synchronization
import Testing
import VigilTestSupport
@testable import Vigil

/// An in-memory outcome cache, to test reuse without a database.
final class MemoryCache: OutcomeCache, Sendable {
    let entries: Mutex<[OutcomeKey: CachedOutcomes]>

    init(_ entries: [OutcomeKey: CachedOutcomes] = [:]) {
        self.entries = Mutex(entries)
    }

    func cachedOutcomes(for key: OutcomeKey) throws -> CachedOutcomes? {
        entries.withLock { $0[key] }
    }

    func remember(_ result: RunResult, seed: UInt64, batchSize: Int) {
        entries.withLock { entries in
            for s in result.scenarios {
                let key = OutcomeKey(modelIdentity: result.baseline.identity, goldenSetIdentity: result.goldenSet.identity,
                                     scenario: s.scenario, seed: seed, batchSize: batchSize)
                entries[key] = CachedOutcomes(runID: result.id, outcomes: result.outcomes(s.scenario, .baseline)!)
            }
        }
    }
}

@Suite("Running suites with the real models")
struct RunnerTests {
    @Test func runsAreReproducibleAcrossRunsAndWorkerCounts() async throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let golden = try makeDigitsSubset(in: folder, count: 48)
        let suite = try Suite.load(writeSuite(in: folder, goldenSet: golden,
                                              scenarios: "[clean, low-light@4, motion-blur@3, occlusion@2]"))
        let one = try await SuiteRunner(suite: suite, options: RunOptions(workers: 1)).run()
        let two = try await SuiteRunner(suite: suite, options: RunOptions(workers: 2)).run()
        #expect(one.scenarios.count == 4)
        for (a, b) in zip(one.scenarios, two.scenarios) {
            for role in ModelRole.allCases {
                let x = one.classificationOutcomes(a.scenario, role), y = two.classificationOutcomes(b.scenario, role)
                #expect(x.count == 48)
                #expect(x.map(\.probabilities) == y.map(\.probabilities), "\(a.scenario) \(role)")
                #expect(x.map(\.sampleID) == golden.sampleIDs)
            }
            #expect(a.baseline.classification!.accuracy == b.baseline.classification!.accuracy
                    && a.candidate.classification!.calibration.ece == b.candidate.classification!.calibration.ece)
            #expect(a.verdicts.map(\.passed) == b.verdicts.map(\.passed))
        }
        #expect(one.environment.workers == 1 && two.environment.workers == 2)
    }

    @Test func baselineOutcomesAreReusedWhenTheKeyMatches() async throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let golden = try makeDigitsSubset(in: folder, count: 32)
        let suite = try Suite.load(writeSuite(in: folder, goldenSet: golden))
        let cache = MemoryCache()
        let first = try await SuiteRunner(suite: suite).run(cache: cache)
        #expect(first.scenarios.allSatisfy { $0.baselineReusedFrom == nil })
        cache.remember(first, seed: suite.seed, batchSize: suite.batchSize)

        let second = try await SuiteRunner(suite: suite).run(cache: cache)
        #expect(second.scenarios.allSatisfy { $0.baselineReusedFrom == first.id })
        #expect(second.scenarios.map(\.baseline) == first.scenarios.map(\.baseline))
        #expect(second.scenarios.map { $0.candidate.value(MetricKey(.accuracy)) } == first.scenarios.map { $0.candidate.value(MetricKey(.accuracy)) })

        let notReused = try await SuiteRunner(suite: suite, options: RunOptions(reuseBaseline: false)).run(cache: cache)
        #expect(notReused.scenarios.allSatisfy { $0.baselineReusedFrom == nil })

        // Another seed changes the scenario images: nothing may be reused.
        var reseeded = suite
        reseeded.seed = 8
        let third = try await SuiteRunner(suite: reseeded).run(cache: cache)
        #expect(third.scenarios.allSatisfy { $0.baselineReusedFrom == nil })
    }

    @Test func aStoredRunCanServeAsBaseline() async throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let golden = try makeDigitsSubset(in: folder, count: 16)
        let suite = try Suite.load(writeSuite(in: folder, goldenSet: golden))
        let first = try await SuiteRunner(suite: suite).run()
        let stored = StoredBaseline(runID: first.id, model: first.candidate, goldenSetIdentity: first.goldenSet.identity,
                                    seed: suite.seed,
                                    outcomes: Dictionary(uniqueKeysWithValues: first.scenarios.map { ($0.scenario.id, first.outcomes($0.scenario, .candidate)!) }))
        let second = try await SuiteRunner(suite: suite, options: RunOptions(storedBaseline: stored)).run()
        #expect(second.baseline == first.candidate)
        // Candidate against its own stored outcomes: the same predictions (latencies differ), so
        // no delta anywhere and the gate passes.
        for s in second.scenarios {
            #expect(second.classificationOutcomes(s.scenario, .baseline).map(\.probabilities)
                    == second.classificationOutcomes(s.scenario, .candidate).map(\.probabilities))
            #expect(s.baseline.classification!.confusion == s.candidate.classification!.confusion
                    && s.baseline.classification!.calibration.ece == s.candidate.classification!.calibration.ece)
        }
        #expect(second.passed)

        var otherSeed = stored
        otherSeed.seed = 99
        let message = await asyncInputError { _ = try await SuiteRunner(suite: suite, options: RunOptions(storedBaseline: otherSeed)).run() }
        #expect(message.contains("used seed 99, this suite uses 7"))

        // A stored run whose low-light images were made with other parameters or by an older
        // implementation is refused, saying which.
        var otherParameters = stored
        otherParameters.scenarioComputations = ["low-light@3": ScenarioComputation(version: 2, parameters: "low-light{exposure=0.2,0.2,0.2,0.2,0.2}")]
        let changed = await asyncInputError { _ = try await SuiteRunner(suite: suite, options: RunOptions(storedBaseline: otherParameters)).run() }
        #expect(changed == "run \(first.id) made scenario 'low-light@3' with parameters low-light{exposure=0.2,0.2,0.2,0.2,0.2} (now the defaults): its images differ from this suite's, so it cannot serve as the baseline")
        var older = stored
        older.scenarioComputations = ["low-light@3": ScenarioComputation(version: 1, parameters: "")]
        let outdated = await asyncInputError { _ = try await SuiteRunner(suite: suite, options: RunOptions(storedBaseline: older)).run() }
        #expect(outdated.contains("made scenario 'low-light@3' with implementation version 1 (now 2)"))
    }

    /// The models' footprint reaches every scenario's metrics, and a condition on it needs no
    /// scenario (it is judged once).
    @Test func footprintConditionsGateOnce() async throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let golden = try makeDigitsSubset(in: folder, count: 8)
        let suite = try Suite.load(writeSuite(in: folder, goldenSet: golden, conditions: """
              - metric: model_memory_mb
                at_most: 0.01
              - metric: model_size_mb
                scenario: all
                at_most: 500
            """))
        let result = try await SuiteRunner(suite: suite).run()
        let candidate = try #require(result.candidate.footprint)
        let memory = result.verdicts.filter { $0.condition.metric.metric == .modelMemoryMB }
        #expect(memory.count == 1 && memory[0].scenario == "clean" && !memory[0].passed)
        #expect(memory[0].explanation == "model_memory_mb on clean: candidate \(Formatting.value(candidate.memoryMB, .modelMemoryMB)) > 0.01 MB allowed — FAIL")
        #expect(result.verdicts.filter { $0.condition.metric.metric == .modelSizeMB }.count == 2)
        for scenario in result.scenarios {
            #expect(scenario.candidate.value(MetricKey(.modelSizeMB)) == candidate.sizeMB)
            #expect(scenario.baseline.value(MetricKey(.modelMemoryMB)) == result.baseline.footprint?.memoryMB)
        }
    }

    @Test func aCorruptedGoldenSetIsRefused() async throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let golden = try makeDigitsSubset(in: folder, count: 8)
        let set = try GoldenSet.load(golden)
        try Data("tampered".utf8).write(to: set.url(of: set.samples[3]))
        let suite = try Suite.load(writeSuite(in: folder, goldenSet: golden))
        let message = await asyncInputError { _ = try await SuiteRunner(suite: suite).run() }
        #expect(message.hasPrefix("golden set 'digits-subset' failed verification: "))
        #expect(message.contains("\(set.samples[3].path): changed"))
    }

    @Test func conditionsNamingUnknownClassesAreRefused() async throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let golden = try makeDigitsSubset(in: folder, count: 8)
        let suite = try Suite.load(writeSuite(in: folder, goldenSet: golden, conditions: """
              - metric: fpr
                class: "10"
                scenario: clean
                at_most: 0.1
            """))
        let message = await asyncInputError { _ = try await SuiteRunner(suite: suite).run() }
        #expect(message.hasSuffix("class '10' is not a class of golden set 'digits-subset' (did you mean '0'?)"), "\(message)")
    }

    @Test func progressIsReportedUpToTheTotal() async throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let golden = try makeDigitsSubset(in: folder, count: 40)
        let suite = try Suite.load(writeSuite(in: folder, goldenSet: golden))
        let seen = Mutex<[RunProgress]>([])
        _ = try await SuiteRunner(suite: suite, options: RunOptions(progress: { p in seen.withLock { $0.append(p) } })).run()
        let last = seen.withLock { $0.max { $0.done < $1.done } }
        #expect(last?.done == 2 * 2 * 40)   // 2 scenarios × 2 models × 40 images
        #expect(last?.total == 160)
    }
}

extension URL {
    /// Sample ids of the golden set in this folder, in manifest order.
    var sampleIDs: [String] { (try? GoldenSet.load(self).samples.map(\.id)) ?? [] }
}

@Suite("Runs judged with statistics")
struct StatisticalRunTests {
    @Test func conditionsWithSignificanceGetIntervalsAndPValues() async throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let golden = try makeDigitsSubset(in: folder, count: 60)
        let suite = try Suite.load(writeSuite(in: folder, goldenSet: golden, scenarios: "[clean, low-light@5]", conditions: """
              - metric: accuracy
                scenario: all
                max_regression: 0.0
                significance: 0.05
              - metric: brier
                scenario: low-light@5
                ci_max_regression: 0.0
                confidence: 0.9
            """, extra: "bootstrap: 200"))
        let result = try await SuiteRunner(suite: suite).run()
        for scenario in result.scenarios {
            let primary = try #require(scenario.comparison(of: MetricKey(.accuracy)))
            #expect(primary.test == "mcnemar-exact" && primary.pValue != nil && primary.interval?.replicates == 200)
            let significant = try #require(scenario.verdicts.first { $0.condition.significance != nil })
            #expect(significant.pValue == primary.pValue && significant.interval == primary.interval)
            #expect(significant.explanation.contains("McNemar p"))
        }
        let lowLight = try #require(result.scenarios.first { $0.scenario.id == "low-light@5" })
        let ci = try #require(lowLight.verdicts.first { $0.condition.rule == .ciMaxRegression })
        #expect(ci.interval?.level == 0.9 && ci.explanation.contains("90% CI"))
        // On low-light@5 the candidate is far better (+25 points on the full set): no regression.
        let accuracy = try #require(lowLight.verdicts.first { $0.condition.metric == MetricKey(.accuracy) })
        #expect(accuracy.passed && (accuracy.delta ?? 0) > 0)
        // The same seed gives the same intervals.
        let again = try await SuiteRunner(suite: suite).run()
        #expect(again.scenarios.map(\.comparisons) .map { $0.map(\.interval) } == result.scenarios.map(\.comparisons).map { $0.map(\.interval) })
    }
}

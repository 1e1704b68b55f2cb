import Foundation
import Testing
import VigilTestSupport
@testable import Vigil

@Suite("Gate verdicts and their explanations")
struct GateTests {
    /// Metrics for `n` samples of 2 classes where `correct` of them are right; class "b" is
    /// predicted for every mistake.
    func metrics(correct: Int, of n: Int, latency: Double = 1) -> ScenarioMetrics {
        var accumulator = ClassificationAccumulator(classes: ["a", "b"])
        for i in 0..<n {
            let right = i < correct
            accumulator.add(Outcome(sampleID: "\(i)", label: 0, probabilities: right ? [0.8, 0.2] : [0.3, 0.7],
                                    latencyMs: latency))
        }
        return .classification(accumulator.compute())
    }

    @Test func regressionOfExactlyTheAllowedAmountPasses() {
        // 0.99 − 0.98 is 0.010000000000000009 in doubles; the rule says "more than 1 point" fails.
        let condition = Condition(metric: MetricKey(.accuracy), scenario: "all", rule: .maxRegression, threshold: 0.01)
        let verdict = Gate.evaluate(condition, scenario: .clean, baseline: metrics(correct: 99, of: 100),
                                    candidate: metrics(correct: 98, of: 100))
        #expect(verdict.passed)
        #expect(verdict.explanation == "accuracy on clean: candidate 98.00% vs baseline 99.00% (−1.00 pp), a regression of 1.00 pp ≤ 1.00 pp allowed — pass")
    }

    @Test func regressionBeyondTheAllowedAmountFailsWithNumbers() throws {
        let condition = Condition(metric: MetricKey(.accuracy), scenario: "all", rule: .maxRegression, threshold: 0.01)
        let verdict = Gate.evaluate(condition, scenario: try Scenario(id: "low-light@3"),
                                    baseline: metrics(correct: 95, of: 100), candidate: metrics(correct: 93, of: 100))
        #expect(!verdict.passed)
        #expect(verdict.delta.map { abs($0 + 0.02) < 1e-12 } == true)
        #expect(verdict.explanation == "accuracy on low-light@3: candidate 93.00% vs baseline 95.00% (−2.00 pp), a regression of 2.00 pp > 1.00 pp allowed — FAIL")
    }

    @Test func lowerIsBetterMetricsRegressUpwards() {
        // FPR of class b rises from 0 (baseline perfect) to 0.1: a regression for a lower-is-better metric.
        let condition = Condition(metric: MetricKey(.fpr, className: "b"), scenario: "clean", rule: .maxRegression, threshold: 0.05)
        let verdict = Gate.evaluate(condition, scenario: .clean, baseline: metrics(correct: 100, of: 100),
                                    candidate: metrics(correct: 90, of: 100))
        #expect(!verdict.passed)
        #expect(verdict.explanation.contains("a regression of 10.00 pp > 5.00 pp allowed"))
        // And an improvement is never a regression.
        let improved = Gate.evaluate(condition, scenario: .clean, baseline: metrics(correct: 90, of: 100),
                                     candidate: metrics(correct: 100, of: 100))
        #expect(improved.passed && improved.explanation.contains("no regression"))
    }

    @Test func absoluteBounds() {
        let atLeast = Condition(metric: MetricKey(.accuracy), scenario: "clean", rule: .atLeast, threshold: 0.95)
        #expect(Gate.evaluate(atLeast, scenario: .clean, baseline: metrics(correct: 0, of: 10), candidate: metrics(correct: 19, of: 20)).passed)
        let failed = Gate.evaluate(atLeast, scenario: .clean, baseline: metrics(correct: 0, of: 10), candidate: metrics(correct: 18, of: 20))
        #expect(!failed.passed && failed.explanation == "accuracy on clean: candidate 90.00% < 95.00% required — FAIL")
        let latency = Condition(metric: MetricKey(.latencyP95), scenario: "clean", rule: .atMost, threshold: 5)
        #expect(Gate.evaluate(latency, scenario: .clean, baseline: metrics(correct: 1, of: 2), candidate: metrics(correct: 1, of: 2, latency: 5)).passed)
        #expect(!Gate.evaluate(latency, scenario: .clean, baseline: metrics(correct: 1, of: 2), candidate: metrics(correct: 1, of: 2, latency: 5.001)).passed)
    }

    @Test func anUndefinedValueFailsAndSaysWhy() {
        // Every sample is class a, so the FNR of class b (no positives) is undefined.
        let condition = Condition(metric: MetricKey(.fnr, className: "b"), scenario: "clean", rule: .atMost, threshold: 0.1)
        let verdict = Gate.evaluate(condition, scenario: .clean, baseline: metrics(correct: 5, of: 5), candidate: metrics(correct: 5, of: 5))
        #expect(!verdict.passed)
        #expect(verdict.explanation.contains("undefined for the candidate (no samples of class b)"))
    }

    @Test func scenarioSelectors() throws {
        let byKind = Condition(metric: MetricKey(.accuracy), scenario: "low-light", rule: .atLeast, threshold: 0)
        #expect(try byKind.applies(to: Scenario(id: "low-light@2")))
        #expect(!byKind.applies(to: .clean))
        let exact = Condition(metric: MetricKey(.accuracy), scenario: "low-light@2", rule: .atLeast, threshold: 0)
        #expect(try exact.applies(to: Scenario(id: "low-light@2")))
        #expect(try !exact.applies(to: Scenario(id: "low-light@3")))
        let all = Condition(metric: MetricKey(.accuracy), scenario: "all", rule: .atLeast, threshold: 0)
        #expect(try all.applies(to: .clean) && all.applies(to: Scenario(id: "occlusion@5")))
    }
}

@Suite("Gate verdicts that use statistics")
struct StatisticalGateTests {
    func metrics(correct: Int, of n: Int) -> ScenarioMetrics {
        var accumulator = ClassificationAccumulator(classes: ["a", "b"])
        for i in 0..<n {
            accumulator.add(label: 0, probabilities: i < correct ? [0.8, 0.2] : [0.3, 0.7])
        }
        return .classification(accumulator.compute())
    }

    func paired(lower: Double, upper: Double, p: Double, test: String = "mcnemar-exact") -> PairedDelta {
        PairedDelta(metric: MetricKey(.accuracy), baseline: nil, candidate: nil, delta: nil,
                    interval: Interval(lower: lower, upper: upper, level: 0.95, replicates: 1000), pValue: p,
                    test: test, level: 0.95, mcnemar: nil)
    }

    @Test func aRegressionBeyondTheLimitPassesWhenNotSignificant() {
        let condition = Condition(metric: MetricKey(.accuracy), scenario: "all", rule: .maxRegression, threshold: 0.01, significance: 0.05)
        let verdict = Gate.evaluate(condition, scenario: .clean, baseline: metrics(correct: 95, of: 100),
                                    candidate: metrics(correct: 93, of: 100), paired: paired(lower: -0.05, upper: 0.01, p: 0.32))
        #expect(verdict.passed)
        #expect(verdict.explanation == "accuracy on clean: candidate 93.00% vs baseline 95.00% (−2.00 pp; 95% CI −5.00 pp … +1.00 pp; McNemar p = 0.3200), a regression of 2.00 pp > 1.00 pp allowed but not significant at α = 0.05 — pass")
        #expect(verdict.pValue == 0.32 && verdict.interval?.lower == -0.05)
    }

    @Test func aSignificantRegressionBeyondTheLimitFails() {
        let condition = Condition(metric: MetricKey(.accuracy), scenario: "all", rule: .maxRegression, threshold: 0.01, significance: 0.05)
        let verdict = Gate.evaluate(condition, scenario: .clean, baseline: metrics(correct: 95, of: 100),
                                    candidate: metrics(correct: 93, of: 100), paired: paired(lower: -0.03, upper: -0.01, p: 0.00001))
        #expect(!verdict.passed)
        #expect(verdict.explanation.hasSuffix("McNemar p < 0.0001), a regression of 2.00 pp > 1.00 pp allowed and significant at α = 0.05 — FAIL"))
        // Within the limit, significance does not matter.
        let small = Gate.evaluate(condition, scenario: .clean, baseline: metrics(correct: 95, of: 100),
                                  candidate: metrics(correct: 94, of: 100), paired: paired(lower: -0.02, upper: -0.001, p: 0.001))
        #expect(small.passed)
    }

    @Test func confidenceIntervalRule() {
        // "Fail if the upper CI bound of the delta is below −1 point" for accuracy.
        let condition = Condition(metric: MetricKey(.accuracy), scenario: "all", rule: .ciMaxRegression, threshold: 0.01)
        let b = metrics(correct: 95, of: 100), c = metrics(correct: 92, of: 100)
        let fails = Gate.evaluate(condition, scenario: .clean, baseline: b, candidate: c, paired: paired(lower: -0.05, upper: -0.012, p: 0.01))
        #expect(!fails.passed && fails.explanation.contains("the whole interval is a regression beyond 1.00 pp allowed"))
        let passes = Gate.evaluate(condition, scenario: .clean, baseline: b, candidate: c, paired: paired(lower: -0.05, upper: -0.008, p: 0.01))
        #expect(passes.passed && passes.explanation.contains("the interval reaches a regression of only 0.80 pp ≤ 1.00 pp allowed"))
        // For a lower-is-better metric the interval mirrors: a rise in ECE is the regression.
        let ece = Condition(metric: MetricKey(.ece), scenario: "all", rule: .ciMaxRegression, threshold: 0.01)
        let worse = Gate.evaluate(ece, scenario: .clean, baseline: b, candidate: c,
                                  paired: PairedDelta(metric: MetricKey(.ece), baseline: nil, candidate: nil, delta: nil,
                                                      interval: Interval(lower: 0.02, upper: 0.04, level: 0.9, replicates: 500),
                                                      pValue: 0.001, test: "paired-bootstrap", level: 0.9, mcnemar: nil))
        #expect(!worse.passed && worse.explanation.contains("90% CI +2.00 pp … +4.00 pp; bootstrap p = 0.0010"))
        let missing = Gate.evaluate(condition, scenario: .clean, baseline: b, candidate: c, paired: nil)
        #expect(!missing.passed && missing.explanation.contains("no confidence interval could be computed"))
    }

    /// A failed check on a flagged (too small) scenario is reported but does not fail the gate.
    @Test func flaggedVerdictsDoNotDecideTheGate() throws {
        let condition = Condition(metric: MetricKey(.accuracy), scenario: "all", rule: .maxRegression, threshold: 0.01)
        let b = metrics(correct: 10, of: 10), c = metrics(correct: 8, of: 10)
        var verdict = Gate.evaluate(condition, scenario: try Scenario(id: "ink=heavy"), baseline: b, candidate: c)
        #expect(!verdict.passed)
        verdict.flag = "only 10 samples (min_samples 30): shown, not gated"
        let flagged = ScenarioResult(scenario: try Scenario(id: "ink=heavy"), baseline: b, candidate: c,
                                     baselineReusedFrom: nil, verdicts: [verdict])
        #expect(flagged.passed)
        verdict.flag = nil
        let gated = ScenarioResult(scenario: try Scenario(id: "ink=heavy"), baseline: b, candidate: c,
                                   baselineReusedFrom: nil, verdicts: [verdict])
        #expect(!gated.passed)
    }
}

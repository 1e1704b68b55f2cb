import Foundation

/// A rule the candidate must satisfy, as data: a metric, the scenarios it applies to, and
/// either an absolute bound or an allowed regression against the baseline, optionally judged
/// with statistics so that noise does not fail a gate.
///
/// ```yaml
/// - metric: accuracy          # absolute bound on the candidate
///   scenario: clean
///   at_least: 0.95
/// - metric: accuracy          # "no scenario regresses by more than 1 point"
///   scenario: all
///   max_regression: 0.01      # in the metric's own units: 0.01 = 1 percentage point
///   significance: 0.05        # ...and fail only if the regression is significant (p < 0.05)
/// - metric: ece               # fail only if the whole confidence interval of the regression
///   scenario: low-light       # lies beyond 1 point ("the upper CI bound of the delta is
///   ci_max_regression: 0.01   # below −1 point" for a metric where higher is better)
/// ```
public struct Condition: Sendable, Hashable, Codable {
    public enum Rule: String, Sendable, Hashable, Codable, CaseIterable {
        case atLeast = "at_least"
        case atMost = "at_most"
        /// The candidate may be worse than the baseline by at most `threshold` (in the direction
        /// the metric gets worse: lower accuracy, higher FPR, …).
        case maxRegression = "max_regression"
        /// Fails only when the paired-bootstrap confidence interval of the regression lies
        /// entirely beyond `threshold`.
        case ciMaxRegression = "ci_max_regression"
    }

    public var metric: MetricKey
    /// `all`, a scenario family (every severity of it in the suite: `low-light`,
    /// `low-light+motion-blur`, `ink=heavy:fog`), or an exact id (`low-light@3`).
    public var scenario: String
    public var rule: Rule
    public var threshold: Double
    /// With `max_regression`: the regression must also be significant at this level (paired
    /// test: McNemar's exact test for accuracy, paired bootstrap otherwise) to fail.
    public var significance: Double?
    /// Confidence level of intervals for `ci_max_regression` (default 0.95).
    public var confidence: Double?
    /// Where the condition is written, `file:line`, for messages.
    public var source: String

    public init(metric: MetricKey, scenario: String, rule: Rule, threshold: Double, significance: Double? = nil,
                confidence: Double? = nil, source: String = "") {
        self.metric = metric
        self.scenario = scenario
        self.rule = rule
        self.threshold = threshold
        self.significance = significance
        self.confidence = confidence
        self.source = source
    }

    /// The condition in a few words, as a test name: `accuracy ≥ 95.00%`, `fpr[9] ≤ 1.00%`,
    /// `accuracy regression ≤ 1.00 pp`, `map50 regression ≤ 2.00 pp unless not significant at α = 0.05`,
    /// `accuracy regression ≤ 2.00 pp by its 95% CI`.
    public var title: String {
        let metric = self.metric.metric
        switch rule {
        case .atLeast: return "\(self.metric) ≥ \(Formatting.value(threshold, metric))"
        case .atMost: return "\(self.metric) ≤ \(Formatting.value(threshold, metric))"
        case .maxRegression:
            return "\(self.metric) regression ≤ \(Formatting.delta(threshold, metric))"
                + (significance.map { " unless not significant at α = \($0)" } ?? "")
        case .ciMaxRegression:
            return "\(self.metric) regression ≤ \(Formatting.delta(threshold, metric)) by its \(Int(((confidence ?? 0.95) * 100).rounded()))% CI"
        }
    }

    /// Whether judging this condition needs the paired comparison (interval and p-value).
    public var needsStatistics: Bool { significance != nil || rule == .ciMaxRegression }

    /// Whether this condition covers `candidate`.
    public func applies(to candidate: Scenario) -> Bool {
        scenario == "all" || scenario == candidate.id || scenario == candidate.family
    }
}

/// The gate's decision on one condition for one scenario, with its reasons.
public struct ConditionVerdict: Sendable, Hashable, Codable {
    public var condition: Condition
    public var scenario: String
    public var baseline: Double?
    public var candidate: Double?
    /// candidate − baseline, when both are defined.
    public var delta: Double?
    /// The paired-bootstrap interval of the delta and the paired test's p-value, for
    /// conditions that use statistics.
    public var interval: Interval?
    public var pValue: Double?
    public var passed: Bool
    /// One sentence: the numbers, the bound, and the outcome.
    public var explanation: String
    /// Set when the scenario has fewer samples than the suite's `min_samples` (a thin slice):
    /// why the verdict is shown but does not decide the gate.
    public var flag: String?

    /// A failure that decides the gate (flagged verdicts never do).
    public var failsGate: Bool { !passed && flag == nil }
}

/// Evaluates conditions. Comparisons allow 1e-12 of slack, so that a regression of exactly the
/// allowed amount (0.99 − 0.98 is 0.01000000000000001 in floating point) passes as written.
public enum Gate {
    static let slack = 1e-12

    /// Judges one condition on one scenario. `paired` is the paired comparison of the
    /// condition's metric (needed when the condition uses statistics; see
    /// `Condition.needsStatistics`).
    public static func evaluate(_ condition: Condition, scenario: Scenario, baseline: ScenarioMetrics,
                                candidate: ScenarioMetrics, paired: PairedDelta? = nil) -> ConditionVerdict {
        let key = condition.metric
        let metric = key.metric
        let b = baseline.value(key), c = candidate.value(key)
        let delta = b.flatMap { b in c.map { $0 - b } }
        let subject = "\(key) on \(scenario.id)"
        func verdict(_ passed: Bool, _ text: String) -> ConditionVerdict {
            ConditionVerdict(condition: condition, scenario: scenario.id, baseline: b, candidate: c, delta: delta,
                             interval: paired?.interval, pValue: paired?.pValue,
                             passed: passed, explanation: "\(subject): \(text) — \(passed ? "pass" : "FAIL")")
        }
        guard let c else {
            return verdict(false, "undefined for the candidate\(undefinedReason(key, candidate)); a bound cannot hold on an undefined value")
        }
        let shown = Formatting.value(c, metric)
        switch condition.rule {
        case .atLeast:
            let passed = c >= condition.threshold - slack
            return verdict(passed, "candidate \(shown) \(passed ? "≥" : "<") \(Formatting.value(condition.threshold, metric)) required")
        case .atMost:
            let passed = c <= condition.threshold + slack
            return verdict(passed, "candidate \(shown) \(passed ? "≤" : ">") \(Formatting.value(condition.threshold, metric)) allowed")
        case .maxRegression, .ciMaxRegression:
            guard let b, let delta else {
                return verdict(false, "undefined for the baseline\(undefinedReason(key, baseline)); no regression can be measured")
            }
            // A regression is a change in the direction the metric gets worse.
            let sign = metric.higherIsBetter ? -1.0 : 1.0
            let regression = sign * delta
            let allowed = Formatting.delta(condition.threshold, metric)
            var change = "candidate \(shown) vs baseline \(Formatting.value(b, metric)) (\(Formatting.signedDelta(delta, metric))"
            if let interval = paired?.interval {
                change += "; \(Int((interval.level * 100).rounded()))% CI \(Formatting.signedDelta(interval.lower, metric)) … \(Formatting.signedDelta(interval.upper, metric))"
            }
            if let p = paired?.pValue {
                change += "; \(paired?.test == "mcnemar-exact" ? "McNemar" : "bootstrap") p \(p < 0.0001 ? "" : "= ")\(Formatting.pValue(p))"
            }
            change += ")"
            if condition.rule == .ciMaxRegression {
                guard let interval = paired?.interval else {
                    return verdict(false, "\(change); no confidence interval could be computed, so the condition cannot be judged")
                }
                // The regression's interval is the delta's, mirrored for higher-is-better metrics.
                let nearest = min(sign * interval.lower, sign * interval.upper)
                let passed = nearest <= condition.threshold + slack
                return verdict(passed, passed
                    ? "\(change), the interval reaches a regression of only \(Formatting.delta(max(nearest, 0), metric)) ≤ \(allowed) allowed"
                    : "\(change), the whole interval is a regression beyond \(allowed) allowed")
            }
            if regression <= 0 {
                return verdict(true, "\(change), no regression")
            }
            let beyond = regression > condition.threshold + slack
            let regressed = "a regression of \(Formatting.delta(regression, metric))"
            guard beyond else { return verdict(true, "\(change), \(regressed) ≤ \(allowed) allowed") }
            if let alpha = condition.significance {
                guard let p = paired?.pValue else {
                    return verdict(false, "\(change), \(regressed) > \(allowed) allowed; no p-value could be computed")
                }
                return p < alpha
                    ? verdict(false, "\(change), \(regressed) > \(allowed) allowed and significant at α = \(alpha)")
                    : verdict(true, "\(change), \(regressed) > \(allowed) allowed but not significant at α = \(alpha)")
            }
            return verdict(false, "\(change), \(regressed) > \(allowed) allowed")
        }
    }

    static func undefinedReason(_ key: MetricKey, _ metrics: ScenarioMetrics) -> String {
        if key.metric.isModelProperty { return " (this model's format does not report it; `vigil model check` says why)" }
        switch metrics {
        case .classification(let m):
            guard let name = key.className, let entry = m.perClass.first(where: { $0.className == name }) else {
                return m.n == 0 ? " (no samples)" : ""
            }
            switch key.metric {
            case .fnr where entry.support == 0: return " (no samples of class \(name))"
            case .fpr where entry.support == m.n: return " (every sample is class \(name))"
            default: return ""
            }
        case .detection(let m):
            if m.nImages == 0 { return " (no images)" }
            guard let name = key.className else {
                return [.latencyP50, .latencyP95, .throughput].contains(key.metric) ? " (latency unknown: detections read from a file)" : ""
            }
            let entry = m.perClass.first { $0.name == name }
            switch key.metric {
            case .fnr where (entry?.tp ?? 0) + (entry?.fn ?? 0) == 0: return " (no annotated '\(name)' objects)"
            case .recall where (entry?.tp ?? 0) + (entry?.fn ?? 0) == 0: return " (no annotated '\(name)' objects)"
            case .ap where entry?.ap == nil: return " (no annotated '\(name)' objects)"
            case .ap50 where entry?.ap50 == nil: return " (no annotated '\(name)' objects)"
            case .precision where (entry?.tp ?? 0) + (entry?.fp ?? 0) == 0: return " (no '\(name)' detections at the operating point)"
            case .imageFPR where m.imageFPR.first(where: { $0.name == name })?.negativeImages == 0: return " (every image has a '\(name)' object)"
            default: return ""
            }
        }
    }
}

/// Number formatting shared by verdicts and reporters: shares as percentages with two decimals
/// and their differences in percentage points; other metrics in their own units.
public enum Formatting {
    /// A share as a percentage with two decimals, and its interval when there is one:
    /// "51.42% [50.12% … 52.55%]"; "—" when undefined.
    public static func percent(_ value: Double?, interval: Interval? = nil) -> String {
        func shown(_ value: Double?) -> String { value.map { String(format: "%.2f%%", $0 * 100) } ?? "—" }
        return shown(value) + (interval.map { " [\(shown($0.lower)) … \(shown($0.upper))]" } ?? "")
    }

    public static func value(_ value: Double?, _ metric: Metric) -> String {
        guard let value else { return "—" }
        return metric.isShare ? String(format: "%.2f%%", value * 100) : inUnit(value, metric.unit)
    }

    public static func delta(_ value: Double, _ metric: Metric) -> String {
        metric.isShare ? String(format: "%.2f pp", value * 100) : inUnit(value, metric.unit)
    }

    /// A value or difference of a metric that is not a share, in its unit.
    static func inUnit(_ value: Double, _ unit: Metric.Unit) -> String {
        switch unit {
        case .milliseconds: String(format: "%.3f ms", value)
        case .perSecond: String(format: "%.0f/s", value)
        case .megabytes: String(format: abs(value) < 10 ? "%.2f MB" : "%.1f MB", value)
        case .share, .number: String(format: "%.4f", value)
        }
    }

    /// A coordinate or size for messages: whole numbers without decimals, others with up to
    /// four (`12`, `12.5`, `0.3333`).
    public static func number(_ value: Double) -> String {
        // As Python's json writes them, which is where such values come from.
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
        if value.isFinite, value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        var text = String(format: "%.4f", value)
        while text.hasSuffix("0") { text.removeLast() }
        return text
    }

    /// p-values: four decimals, or "< 0.0001".
    public static func pValue(_ p: Double) -> String {
        p < 0.0001 ? "< 0.0001" : String(format: "%.4f", p)
    }

    public static func signedDelta(_ value: Double?, _ metric: Metric) -> String {
        guard let value else { return "—" }
        let text = delta(abs(value), metric)
        return (value < 0 ? "−" : "+") + text
    }
}

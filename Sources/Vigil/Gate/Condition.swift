import Foundation

/// A rule the candidate must satisfy, as data: a metric, the scenarios it applies to, and
/// either an absolute bound or an allowed regression against the baseline.
///
/// ```yaml
/// - metric: accuracy          # absolute bound on the candidate
///   scenario: clean
///   at_least: 0.95
/// - metric: accuracy          # "no scenario regresses by more than 1 point"
///   scenario: all
///   max_regression: 0.01      # in the metric's own units: 0.01 = 1 percentage point
/// ```
public struct Condition: Sendable, Hashable, Codable {
    public enum Rule: String, Sendable, Hashable, Codable, CaseIterable {
        case atLeast = "at_least"
        case atMost = "at_most"
        /// The candidate may be worse than the baseline by at most `threshold` (in the direction
        /// the metric gets worse: lower accuracy, higher FPR, …).
        case maxRegression = "max_regression"
    }

    public var metric: MetricKey
    /// `all`, a scenario name (every severity of it in the suite), or an exact id (`low-light@3`).
    public var scenario: String
    public var rule: Rule
    public var threshold: Double
    /// Where the condition is written, `file:line`, for messages.
    public var source: String

    public init(metric: MetricKey, scenario: String, rule: Rule, threshold: Double, source: String = "") {
        self.metric = metric
        self.scenario = scenario
        self.rule = rule
        self.threshold = threshold
        self.source = source
    }

    /// Whether this condition covers `candidate`.
    public func applies(to candidate: Scenario) -> Bool {
        scenario == "all" || scenario == candidate.id || scenario == candidate.kind.rawValue
    }

    /// "accuracy ≥ 95.00% on clean", "accuracy regresses ≤ 1.00 pp on all".
    public var summary: String {
        let bound = Formatting.value(threshold, metric.metric)
        switch rule {
        case .atLeast: return "\(metric) ≥ \(bound) on \(scenario)"
        case .atMost: return "\(metric) ≤ \(bound) on \(scenario)"
        case .maxRegression: return "\(metric) regresses by ≤ \(Formatting.delta(threshold, metric.metric)) vs baseline on \(scenario)"
        }
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
    public var passed: Bool
    /// One sentence: the numbers, the bound, and the outcome.
    public var explanation: String
}

/// Evaluates conditions. Comparisons allow 1e-12 of slack, so that a regression of exactly the
/// allowed amount (0.99 − 0.98 is 0.01000000000000001 in floating point) passes as written.
public enum Gate {
    static let slack = 1e-12

    public static func evaluate(_ condition: Condition, scenario: Scenario,
                                baseline: ClassificationMetrics, candidate: ClassificationMetrics) -> ConditionVerdict {
        let key = condition.metric
        let metric = key.metric
        let b = baseline.value(key), c = candidate.value(key)
        let delta = b.flatMap { b in c.map { $0 - b } }
        let subject = "\(key) on \(scenario.id)"
        func verdict(_ passed: Bool, _ text: String) -> ConditionVerdict {
            ConditionVerdict(condition: condition, scenario: scenario.id, baseline: b, candidate: c, delta: delta,
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
        case .maxRegression:
            guard let b, let delta else {
                return verdict(false, "undefined for the baseline\(undefinedReason(key, baseline)); no regression can be measured")
            }
            let regression = metric.higherIsBetter ? -delta : delta
            let passed = regression <= condition.threshold + slack
            let change = "candidate \(shown) vs baseline \(Formatting.value(b, metric)) (\(Formatting.signedDelta(delta, metric)))"
            let allowed = Formatting.delta(condition.threshold, metric)
            if regression <= 0 {
                return verdict(passed, "\(change), no regression")
            }
            return verdict(passed, "\(change), a regression of \(Formatting.delta(regression, metric)) \(passed ? "≤" : ">") \(allowed) allowed")
        }
    }

    static func undefinedReason(_ key: MetricKey, _ metrics: ClassificationMetrics) -> String {
        guard let name = key.className, let entry = metrics.perClass.first(where: { $0.className == name }) else {
            return metrics.n == 0 ? " (no samples)" : ""
        }
        switch key.metric {
        case .fnr where entry.support == 0: return " (no samples of class \(name))"
        case .fpr where entry.support == metrics.n: return " (every sample is class \(name))"
        default: return ""
        }
    }
}

/// Number formatting shared by verdicts and reporters: shares as percentages with two decimals
/// and their differences in percentage points; other metrics in their own units.
public enum Formatting {
    public static func value(_ value: Double?, _ metric: Metric) -> String {
        guard let value else { return "—" }
        if metric.isShare { return String(format: "%.2f%%", value * 100) }
        switch metric {
        case .latencyP50, .latencyP95: return String(format: "%.3f ms", value)
        case .throughput: return String(format: "%.0f/s", value)
        default: return String(format: "%.4f", value)
        }
    }

    public static func delta(_ value: Double, _ metric: Metric) -> String {
        if metric.isShare { return String(format: "%.2f pp", value * 100) }
        switch metric {
        case .latencyP50, .latencyP95: return String(format: "%.3f ms", value)
        case .throughput: return String(format: "%.0f/s", value)
        default: return String(format: "%.4f", value)
        }
    }

    public static func signedDelta(_ value: Double?, _ metric: Metric) -> String {
        guard let value else { return "—" }
        let text = delta(abs(value), metric)
        return (value < 0 ? "−" : "+") + text
    }
}

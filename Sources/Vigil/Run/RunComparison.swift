import Foundation

/// One model of one stored run against one model of another run on the same golden set — this
/// release's candidate against the last release's, say — scenario by scenario: each metric's
/// values, the delta (second − first) and, for metrics that can be resampled, a paired
/// bootstrap interval and p-value (McNemar's exact test for accuracy) over the samples both runs
/// scored, computed from the stored per-sample outcomes (`vigil compare`).
public struct RunComparison: Sendable, Codable {
    public struct Side: Sendable, Codable {
        public var run: String
        public var role: ModelRole
        public var model: String
        public var sha256: String
        public var suite: String
    }

    public struct ScenarioComparison: Sendable, Codable {
        public var scenario: String
        /// Samples compared.
        public var n: Int
        /// One per metric; for metrics that cannot be resampled (rank-based, latency), the values
        /// and delta only (`test` "none").
        public var metrics: [MetricComparison]
    }

    /// One metric of A and B on one scenario: `delta` = b − a, its paired interval and p-value.
    public struct MetricComparison: Sendable, Codable {
        public var metric: MetricKey
        public var a: Double?
        public var b: Double?
        public var delta: Double?
        public var interval: Interval?
        public var pValue: Double?
        /// "mcnemar-exact", "paired-bootstrap" or "none".
        public var test: String

        enum CodingKeys: String, CodingKey { case metric, a, b, delta, interval, pValue = "p_value", test }

        init(_ paired: PairedDelta) {
            metric = paired.metric
            a = paired.baseline
            b = paired.candidate
            delta = paired.delta
            interval = paired.interval
            pValue = paired.pValue
            test = paired.test
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(metric.description, forKey: .metric)
            try c.encode(a, forKey: .a)
            try c.encode(b, forKey: .b)
            try c.encode(delta, forKey: .delta)
            try c.encode(interval, forKey: .interval)
            try c.encode(pValue, forKey: .pValue)
            try c.encode(test, forKey: .test)
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            metric = try MetricKey(parsing: c.decode(String.self, forKey: .metric))
            a = try c.decodeIfPresent(Double.self, forKey: .a)
            b = try c.decodeIfPresent(Double.self, forKey: .b)
            delta = try c.decodeIfPresent(Double.self, forKey: .delta)
            interval = try c.decodeIfPresent(Interval.self, forKey: .interval)
            pValue = try c.decodeIfPresent(Double.self, forKey: .pValue)
            test = try c.decode(String.self, forKey: .test)
        }
    }

    public var first: Side
    public var second: Side
    public var goldenSet: GoldenSetInfo
    /// Bootstrap replicates per scenario.
    public var bootstrap: Int
    public var scenarios: [ScenarioComparison]
    /// Scenarios not compared, and why (in one run only, other parameters, other samples).
    public var skipped: [String]

    enum CodingKeys: String, CodingKey {
        case first = "a", second = "b", goldenSet = "golden_set", bootstrap, scenarios, skipped
    }

    /// Compares `role` of `first` with `role` of `second` (both with their outcomes loaded).
    /// `metrics` default to the second run's primary and reported metrics. Detection needs the
    /// golden set (its boxes are the truth the outcomes are matched to).
    public static func compare(_ first: RunResult, _ second: RunResult, firstRole: ModelRole = .candidate,
                               secondRole: ModelRole = .candidate, metrics: [MetricKey]? = nil, bootstrap replicates: Int = 1000,
                               goldenSet: GoldenSet? = nil) throws -> RunComparison {
        guard first.goldenSet.identity == second.goldenSet.identity else {
            throw InputError("runs \(first.id) and \(second.id) are on different golden sets: \(first.goldenSet.name) \(first.goldenSet.version) "
                             + "(identity \(first.goldenSet.identity.prefix(12))…) and \(second.goldenSet.name) \(second.goldenSet.version) "
                             + "(identity \(second.goldenSet.identity.prefix(12))…); their metrics are not comparable")
        }
        let task = second.goldenSet.task
        let keys = metrics ?? ([second.primaryMetric] + second.reportedMetrics).reduce(into: [MetricKey]()) { if !$0.contains($1) { $0.append($1) } }
        for key in keys where !key.metric.applies(to: task) {
            throw InputError("metric '\(key)' is not defined for \(task.rawValue) golden sets like '\(second.goldenSet.name)'")
        }
        if task == .detection {
            guard let goldenSet, goldenSet.identity == second.goldenSet.identity else {
                throw InputError("comparing detection runs needs their golden set's boxes (golden set '\(second.goldenSet.name)')")
            }
            guard first.operatingPoint != nil, second.operatingPoint != nil else {
                throw InputError("run \(first.operatingPoint == nil ? first.id : second.id) has no detection operating point")
            }
        }
        let resampled = keys.filter { $0.metric.isResampleable(for: task) }
        let firstByID = Dictionary(first.scenarios.map { ($0.scenario.id, $0) }, uniquingKeysWith: { a, _ in a })
        var compared: [ScenarioComparison] = [], skipped: [String] = []
        let indices = task == .detection ? try SuiteRunner.sampleIndices(second.scenarios.map(\.scenario), goldenSet!, suitePath: second.suite.path) : []
        for (position, b) in second.scenarios.enumerated() {
            let id = b.scenario.id
            guard let a = firstByID[id] else { skipped.append("\(id): only in run \(second.id)"); continue }
            guard a.scenario.parameterKey == b.scenario.parameterKey else {
                skipped.append("\(id): the suites set different parameters (\(a.scenario.parameterKey.isEmpty ? "defaults" : a.scenario.parameterKey) "
                               + "and \(b.scenario.parameterKey.isEmpty ? "defaults" : b.scenario.parameterKey))")
                continue
            }
            guard let x = first.outcomes[id]?[firstRole], let y = second.outcomes[id]?[secondRole] else {
                skipped.append("\(id): no stored outcomes"); continue
            }
            guard x.sampleIDs == y.sampleIDs else {
                skipped.append("\(id): the runs scored different samples (\(x.count) and \(y.count))"); continue
            }
            let bootstrap = Bootstrap(replicates: replicates, seed: Seeds.sample(run: second.seed, scenario: b.scenario, sampleID: "compare"))
            var paired: [PairedDelta] = []
            if !resampled.isEmpty {
                switch (x, y) {
                case (.classification(let xs), .classification(let ys)):
                    paired = try SuiteRunner.accumulator(xs, classes: first.goldenSet.classes)
                        .compare(with: SuiteRunner.accumulator(ys, classes: second.goldenSet.classes), keys: resampled, bootstrap: bootstrap)
                case (.detection(let xs), .detection(let ys)):
                    let pointA = first.operatingPoint!, pointB = second.operatingPoint!
                    let evaluationA = DetectionRunEvaluation(goldenSet: goldenSet!, indices: indices[position], outcomes: xs, iou: pointA.iou,
                                                             scoreThreshold: pointA.scoreThreshold(firstRole))
                    let evaluationB = DetectionRunEvaluation(goldenSet: goldenSet!, indices: indices[position], outcomes: ys, iou: pointB.iou,
                                                             scoreThreshold: pointB.scoreThreshold(secondRole))
                    paired = evaluationA.compare(with: evaluationB, keys: resampled, classes: goldenSet!.classes, bootstrap: bootstrap)
                case (.classification, .detection), (.detection, .classification):
                    skipped.append("\(id): the runs' outcomes are of different tasks"); continue
                }
            }
            let metricsA = firstRole == .baseline ? a.baseline : a.candidate, metricsB = secondRole == .baseline ? b.baseline : b.candidate
            let comparisons = keys.map { key in
                MetricComparison(paired.first { $0.metric == key } ?? {
                    let u = metricsA.value(key), v = metricsB.value(key)
                    return PairedDelta(metric: key, baseline: u, candidate: v, delta: v.flatMap { v in u.map { v - $0 } }, interval: nil,
                                       pValue: nil, test: "none", level: bootstrap.confidence, mcnemar: nil)
                }())
            }
            compared.append(ScenarioComparison(scenario: id, n: y.count, metrics: comparisons))
        }
        for a in first.scenarios where !second.scenarios.contains(where: { $0.scenario.id == a.scenario.id }) {
            skipped.append("\(a.scenario.id): only in run \(first.id)")
        }
        func side(_ result: RunResult, _ role: ModelRole) -> Side {
            let model = role == .baseline ? result.baseline : result.candidate
            return Side(run: result.id, role: role, model: model.name, sha256: model.sha256, suite: result.suite.name)
        }
        return RunComparison(first: side(first, firstRole), second: side(second, secondRole), goldenSet: second.goldenSet,
                             bootstrap: replicates, scenarios: compared, skipped: skipped)
    }

    /// The table `vigil compare` prints.
    public var text: String {
        var lines = [
            "A: run \(first.run) \(first.role.rawValue) \(first.model) (sha256 \(first.sha256.prefix(12)), suite \(first.suite))",
            "B: run \(second.run) \(second.role.rawValue) \(second.model) (sha256 \(second.sha256.prefix(12)), suite \(second.suite))",
            "golden set \(goldenSet.name) \(goldenSet.version), identity \(goldenSet.identity.prefix(12)) · delta = B − A · "
                + "paired bootstrap over samples, \(bootstrap) replicates"
                + (scenarios.contains { $0.metrics.contains { $0.test == "mcnemar-exact" } } ? "; p of accuracy by McNemar's exact test" : ""),
            "",
        ]
        var rows = [["scenario", "n", "metric", "A", "B", "delta", "95% CI of delta", "p", ""]]
        for scenario in scenarios {
            for (index, c) in scenario.metrics.enumerated() {
                let metric = c.metric.metric
                let interval = c.interval.map { "\(Formatting.signedDelta($0.lower, metric)) … \(Formatting.signedDelta($0.upper, metric))" } ?? ""
                let p = c.pValue.map { $0 < 0.001 ? "<0.001" : String(format: "%.3f", $0) } ?? ""
                let significant = (c.pValue ?? 1) < 0.05 ? "*" : ""
                rows.append([index == 0 ? scenario.scenario : "", index == 0 ? "\(scenario.n)" : "", c.metric.description,
                             Formatting.value(c.a, metric), Formatting.value(c.b, metric),
                             Formatting.signedDelta(c.delta, metric), interval, p, significant])
            }
        }
        lines += TerminalReport.layout(rows, rightAligned: [1, 3, 4, 5, 6, 7])
        lines.append("")
        lines.append("* p < 0.05: the difference is unlikely to be resampling noise (not corrected for the number of comparisons).")
        lines += skipped.map { "not compared: \($0)" }
        return lines.joined(separator: "\n")
    }
}

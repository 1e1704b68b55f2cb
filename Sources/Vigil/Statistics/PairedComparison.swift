import Foundation

/// One metric of two models on the same samples: the delta (candidate − baseline), its
/// bootstrap interval and a p-value.
public struct PairedDelta: Sendable, Hashable, Codable {
    public var metric: MetricKey
    public var baseline: Double?
    public var candidate: Double?
    public var delta: Double?
    /// Percentile interval of the paired bootstrap (the same resampled samples for both models).
    public var interval: Interval?
    /// Two-sided p-value for "no difference": McNemar's exact test for accuracy, the paired
    /// bootstrap otherwise.
    public var pValue: Double?
    /// "mcnemar-exact" or "paired-bootstrap".
    public var test: String
    /// The confidence level the interval was computed at.
    public var level: Double
    /// The discordant pairs, for accuracy.
    public var mcnemar: McNemar?

    enum CodingKeys: String, CodingKey {
        case metric, baseline, candidate, delta, interval, pValue = "p_value", test, level, mcnemar
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(metric.description, forKey: .metric)
        try c.encode(baseline, forKey: .baseline)
        try c.encode(candidate, forKey: .candidate)
        try c.encode(delta, forKey: .delta)
        try c.encode(interval, forKey: .interval)
        try c.encode(pValue, forKey: .pValue)
        try c.encode(test, forKey: .test)
        try c.encode(level, forKey: .level)
        try c.encodeIfPresent(mcnemar, forKey: .mcnemar)
    }

    public init(metric: MetricKey, baseline: Double?, candidate: Double?, delta: Double?, interval: Interval?,
                pValue: Double?, test: String, level: Double, mcnemar: McNemar?) {
        self.metric = metric
        self.baseline = baseline
        self.candidate = candidate
        self.delta = delta
        self.interval = interval
        self.pValue = pValue
        self.test = test
        self.level = level
        self.mcnemar = mcnemar
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let name = try c.decode(String.self, forKey: .metric)
        metric = try MetricKey(parsing: name)
        baseline = try c.decodeIfPresent(Double.self, forKey: .baseline)
        candidate = try c.decodeIfPresent(Double.self, forKey: .candidate)
        delta = try c.decodeIfPresent(Double.self, forKey: .delta)
        interval = try c.decodeIfPresent(Interval.self, forKey: .interval)
        pValue = try c.decodeIfPresent(Double.self, forKey: .pValue)
        test = try c.decode(String.self, forKey: .test)
        level = try c.decode(Double.self, forKey: .level)
        mcnemar = try c.decodeIfPresent(McNemar.self, forKey: .mcnemar)
    }
}

extension MetricKey {
    /// Parses `accuracy` or `fpr[9]`.
    public init(parsing text: String) throws {
        if let open = text.firstIndex(of: "["), text.hasSuffix("]") {
            let name = String(text[..<open])
            let className = String(text[text.index(after: open)..<text.index(before: text.endIndex)])
            guard let metric = Metric(rawValue: name), metric.isPerClass else {
                throw InputError("unknown per-class metric '\(name)'" + Suggestion.hint(for: name, in: Metric.allCases.filter(\.isPerClass).map(\.rawValue)))
            }
            self.init(metric, className: className)
            return
        }
        guard let metric = Metric(rawValue: text), !metric.isPerClass else {
            throw InputError("unknown metric '\(text)'" + Suggestion.hint(for: text, in: Metric.allCases.map(\.rawValue)))
        }
        self.init(metric)
    }
}

extension ClassificationAccumulator {
    /// The metrics shown with intervals by default: accuracy, top-5 accuracy (5+ classes),
    /// macro F1, ECE, Brier, NLL.
    public var headlineMetrics: [MetricKey] {
        ([.accuracy] + (classes.count >= 5 ? [.top5Accuracy] : []) + [.macroF1, .ece, .brier, .nll]).map { MetricKey($0) }
    }

    static func checkResampleable(_ keys: [MetricKey]) throws {
        for key in keys where !key.metric.isResampleable(for: .classification) {
            throw InputError("\(key) cannot be bootstrapped (it is rank-based or a latency); choose another metric")
        }
    }

    /// Bootstrap percentile intervals for `keys` (resampling samples).
    public func intervals(for keys: [MetricKey], threshold: Double? = nil, bootstrap: Bootstrap) throws -> [MetricKey: Interval] {
        try Self.checkResampleable(keys)
        let table = ClassificationTable(accumulator: self)
        let parts = ClassificationAggregates.Parts.needed(by: keys, threshold: threshold)
        let classes = self.classes
        let replicates = bootstrap.run(samples: table.n) { weights in
            let metrics = table.metrics(classes: classes, threshold: threshold, weights: weights, parts: parts)
            return keys.map { metrics.value($0) }
        }
        var result: [MetricKey: Interval] = [:]
        for (index, key) in keys.enumerated() {
            result[key] = bootstrap.interval(replicates.map { $0[index] })
        }
        return result
    }

    /// Paired comparison with `candidate` on the same samples in the same order: deltas
    /// (candidate − self), paired-bootstrap intervals and p-values, McNemar for accuracy.
    public func compare(with candidate: ClassificationAccumulator, keys: [MetricKey], threshold: Double? = nil,
                        bootstrap: Bootstrap) throws -> [PairedDelta] {
        guard candidate.classes == classes else {
            throw InputError("a paired comparison needs both models to score the same classes: the baseline has \(classes.count) "
                             + "(\(classes.prefix(5).joined(separator: ", "))\(classes.count > 5 ? ", …" : "")), the candidate \(candidate.classes.count)")
        }
        guard candidate.labels == labels else {
            throw InputError("a paired comparison needs both models' predictions for the same samples in the same order with the same labels "
                             + "(the baseline has \(labels.count), the candidate \(candidate.labels.count))")
        }
        try Self.checkResampleable(keys)
        for key in keys {
            if let name = key.className, !classes.contains(name) {
                throw InputError("metric '\(key)': there is no class '\(name)' (classes: \(classes.prefix(10).joined(separator: ", "))\(classes.count > 10 ? ", …" : ""))")
            }
        }
        let baselineTable = ClassificationTable(accumulator: self)
        let candidateTable = ClassificationTable(accumulator: candidate)
        let parts = ClassificationAggregates.Parts.needed(by: keys, threshold: threshold)
        let classes = self.classes
        let replicates = bootstrap.run(samples: baselineTable.n) { weights in
            let a = baselineTable.metrics(classes: classes, threshold: threshold, weights: weights, parts: parts)
            let b = candidateTable.metrics(classes: classes, threshold: threshold, weights: weights, parts: parts)
            return keys.map { key in b.value(key).flatMap { bv in a.value(key).map { bv - $0 } } }
        }
        // Point values from the same tables (the keys are count- and sum-based; no need for the
        // rank-based metrics `compute()` adds).
        let a = baselineTable.metrics(classes: classes, threshold: threshold)
        let b = candidateTable.metrics(classes: classes, threshold: threshold)
        return keys.enumerated().map { index, key in
            let deltas = replicates.map { $0[index] }
            let av = a.value(key), bv = b.value(key)
            var result = PairedDelta(metric: key, baseline: av, candidate: bv, delta: bv.flatMap { bv in av.map { bv - $0 } },
                                     interval: bootstrap.interval(deltas), pValue: Bootstrap.pValue(deltas: deltas),
                                     test: "paired-bootstrap", level: bootstrap.confidence, mcnemar: nil)
            if key.metric == .accuracy {
                var onlyBaseline = 0, onlyCandidate = 0
                for i in 0..<baselineTable.n {
                    let x = baselineTable.predicted[i] == labels[i], y = candidateTable.predicted[i] == labels[i]
                    if x && !y { onlyBaseline += 1 }
                    if y && !x { onlyCandidate += 1 }
                }
                let test = McNemar(onlyFirstCorrect: onlyBaseline, onlySecondCorrect: onlyCandidate)
                result.mcnemar = test
                result.pValue = test.pValue
                result.test = "mcnemar-exact"
            }
            return result
        }
    }
}

import Foundation

/// What one model did on one sample under one scenario.
public struct Outcome: Sendable, Hashable, Codable {
    public var sampleID: String
    /// Index of the true class.
    public var label: Int
    /// Index of the most probable class (the first one on ties, as numpy's argmax).
    public var predicted: Int
    /// Probability of `predicted`.
    public var confidence: Float
    public var probabilities: [Float]
    public var latencyMs: Double

    public var correct: Bool { predicted == label }

    public init(sampleID: String, label: Int, probabilities: [Float], latencyMs: Double) {
        self.sampleID = sampleID
        self.label = label
        self.probabilities = probabilities
        self.latencyMs = latencyMs
        predicted = argmax(probabilities)
        confidence = probabilities.isEmpty ? 0 : probabilities[predicted]
    }
}

/// Index of the largest value, the first one on ties (numpy's argmax).
func argmax<C: RandomAccessCollection>(_ values: C) -> Int where C.Element: Comparable, C.Index == Int {
    var best = values.startIndex
    for index in values.indices where values[index] > values[best] {
        best = index
    }
    return best - values.startIndex
}

/// Per-class results, one-vs-rest. Undefined values (a zero denominator) are nil, as
/// scikit-learn reports them with `zero_division=np.nan`.
public struct ClassMetrics: Sendable, Hashable, Codable {
    public var className: String
    /// Samples whose label is this class (TP + FN).
    public var support: Int
    /// Samples predicted as this class at the argmax (TP + FP).
    public var predicted: Int
    /// At the argmax: TP / (TP + FP), TP / (TP + FN), 2TP / (2TP + FP + FN).
    public var precision: Double?
    public var recall: Double?
    public var f1: Double?
    /// FP / (FP + TN) and FN / (FN + TP), at the argmax or, when the metrics were computed with
    /// a threshold, for "p(class) ≥ threshold".
    public var fpr: Double?
    public var fnr: Double?
    /// One-vs-rest ROC AUC and average precision of p(class); nil without positives or negatives
    /// (AUC) or without positives (AP).
    public var rocAUC: Double?
    public var averagePrecision: Double?

    enum CodingKeys: String, CodingKey {
        case className = "class", support, predicted, precision, recall, f1, fpr, fnr
        case rocAUC = "roc_auc", averagePrecision = "average_precision"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(className, forKey: .className)
        try c.encode(support, forKey: .support)
        try c.encode(predicted, forKey: .predicted)
        try c.encode(precision, forKey: .precision)
        try c.encode(recall, forKey: .recall)
        try c.encode(f1, forKey: .f1)
        try c.encode(fpr, forKey: .fpr)
        try c.encode(fnr, forKey: .fnr)
        try c.encode(rocAUC, forKey: .rocAUC)
        try c.encode(averagePrecision, forKey: .averagePrecision)
    }
}

/// Precision, recall and F1 averaged over classes.
public struct Averages: Sendable, Hashable, Codable {
    public var precision: Double?
    public var recall: Double?
    public var f1: Double?

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(precision, forKey: .precision)
        try c.encode(recall, forKey: .recall)
        try c.encode(f1, forKey: .f1)
    }
}

/// One bin of a reliability diagram.
public struct ReliabilityBin: Sendable, Hashable, Codable {
    public var lower: Double
    public var upper: Double
    public var count: Int
    /// Mean top-label confidence of the bin's samples; nil for an empty bin.
    public var confidence: Double?
    /// Share of the bin's samples that were predicted correctly; nil for an empty bin.
    public var accuracy: Double?

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(lower, forKey: .lower)
        try c.encode(upper, forKey: .upper)
        try c.encode(count, forKey: .count)
        try c.encode(confidence, forKey: .confidence)
        try c.encode(accuracy, forKey: .accuracy)
    }
}

/// Calibration of the predicted probabilities (definitions in Sources/Vigil/Metrics/METRICS.md).
public struct CalibrationMetrics: Sendable, Hashable, Codable {
    public var ece: Double?
    public var mce: Double?
    public var rmsce: Double?
    public var adaptiveECE: Double?
    public var classwiseECE: Double?
    public var brier: Double?
    public var nll: Double?
    public var bins: [ReliabilityBin]

    enum CodingKeys: String, CodingKey {
        case ece, mce, rmsce, adaptiveECE = "adaptive_ece", classwiseECE = "classwise_ece", brier, nll, bins
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(ece, forKey: .ece)
        try c.encode(mce, forKey: .mce)
        try c.encode(rmsce, forKey: .rmsce)
        try c.encode(adaptiveECE, forKey: .adaptiveECE)
        try c.encode(classwiseECE, forKey: .classwiseECE)
        try c.encode(brier, forKey: .brier)
        try c.encode(nll, forKey: .nll)
        try c.encode(bins, forKey: .bins)
    }
}

/// Everything Vigil computes for a classifier on one set of samples. Encoded with the keys of
/// `vigil score classification --json`; undefined values are `null`.
public struct ClassificationMetrics: Sendable, Hashable, Codable {
    public var n: Int
    public var accuracy: Double?
    /// Present when there are at least 5 classes.
    public var top5Accuracy: Double?
    public var macro: Averages
    public var weighted: Averages
    public var perClass: [ClassMetrics]
    /// Rows are true classes, columns predicted classes.
    public var confusion: [[Int]]
    public var calibration: CalibrationMetrics
    /// The probability threshold FPR and FNR were computed at; nil for the argmax.
    public var threshold: Double?
    public var latencyP50Ms: Double?
    public var latencyP95Ms: Double?
    public var throughputIPS: Double?
    /// The model's footprint (runs only; nil when its format cannot know it).
    public var modelSizeMB: Double?
    public var modelMemoryMB: Double?

    enum CodingKeys: String, CodingKey {
        case n, accuracy, top5Accuracy = "top5_accuracy", macro, weighted, perClass = "per_class"
        case confusion = "confusion_matrix", calibration, threshold
        case latencyP50Ms = "latency_p50_ms", latencyP95Ms = "latency_p95_ms", throughputIPS = "throughput_ips"
        case modelSizeMB = "model_size_mb", modelMemoryMB = "model_memory_mb"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(n, forKey: .n)
        try c.encode(accuracy, forKey: .accuracy)
        if let top5Accuracy { try c.encode(top5Accuracy, forKey: .top5Accuracy) }
        try c.encode(macro, forKey: .macro)
        try c.encode(weighted, forKey: .weighted)
        try c.encode(perClass, forKey: .perClass)
        try c.encode(confusion, forKey: .confusion)
        try c.encode(calibration, forKey: .calibration)
        try c.encode(threshold, forKey: .threshold)
        try c.encodeIfPresent(latencyP50Ms, forKey: .latencyP50Ms)
        try c.encodeIfPresent(latencyP95Ms, forKey: .latencyP95Ms)
        try c.encodeIfPresent(throughputIPS, forKey: .throughputIPS)
        try c.encodeIfPresent(modelSizeMB, forKey: .modelSizeMB)
        try c.encodeIfPresent(modelMemoryMB, forKey: .modelMemoryMB)
    }

    /// The value of `key`; nil when it is undefined or the class is unknown.
    public func value(_ key: MetricKey) -> Double? {
        func perClass(_ read: (ClassMetrics) -> Double?) -> Double? {
            guard let name = key.className, let entry = self.perClass.first(where: { $0.className == name }) else { return nil }
            return read(entry)
        }
        switch key.metric {
        case .accuracy: return accuracy
        case .top5Accuracy: return top5Accuracy
        case .macroPrecision: return macro.precision
        case .macroRecall: return macro.recall
        case .macroF1: return macro.f1
        case .weightedF1: return weighted.f1
        case .precision: return perClass { $0.precision }
        case .recall: return perClass { $0.recall }
        case .f1: return perClass { $0.f1 }
        case .fpr: return perClass { $0.fpr }
        case .fnr: return perClass { $0.fnr }
        case .rocAUC: return perClass { $0.rocAUC }
        case .averagePrecision: return perClass { $0.averagePrecision }
        case .ece: return calibration.ece
        case .mce: return calibration.mce
        case .rmsce: return calibration.rmsce
        case .adaptiveECE: return calibration.adaptiveECE
        case .classwiseECE: return calibration.classwiseECE
        case .brier: return calibration.brier
        case .nll: return calibration.nll
        case .latencyP50: return latencyP50Ms
        case .latencyP95: return latencyP95Ms
        case .throughput: return throughputIPS
        case .modelSizeMB: return modelSizeMB
        case .modelMemoryMB: return modelMemoryMB
        default: return nil  // another task's metric
        }
    }
}

/// Collects classification samples (label, class probabilities, optional latency) and computes
/// `ClassificationMetrics`. Accumulators over disjoint parts of a data set merge by appending,
/// and the merged result equals the single-pass result exactly: counts are integers, every
/// floating-point sum is an order-independent `ExactSum`, and the rank-based metrics sort into
/// a canonical order.
///
/// ```swift
/// var accumulator = ClassificationAccumulator(classes: ["cat", "dog"])
/// accumulator.add(label: 0, probabilities: [0.8, 0.2])
/// let metrics = accumulator.compute()
/// ```
public struct ClassificationAccumulator: Sendable {
    public let classes: [String]
    public let binCount: Int
    /// One label per sample.
    public private(set) var labels: [Int] = []
    /// Row-major, `classes.count` probabilities per sample.
    public private(set) var probabilities: [Double] = []
    /// Empty, or one latency per sample.
    public private(set) var latencies: [Double] = []

    public init(classes: [String], bins: Int = 15) {
        precondition(bins >= 1 && !classes.isEmpty)
        self.classes = classes
        binCount = bins
    }

    public var count: Int { labels.count }

    public mutating func add(label: Int, probabilities row: [Double], latencyMs: Double? = nil) {
        precondition(row.count == classes.count, "a sample has \(row.count) probabilities for \(classes.count) classes")
        precondition(classes.indices.contains(label), "label \(label) is not a class index")
        precondition((latencyMs != nil) == (latencies.count == labels.count) || labels.isEmpty,
                     "either every sample has a latency or none has")
        labels.append(label)
        probabilities.append(contentsOf: row)
        if let latencyMs { latencies.append(latencyMs) }
    }

    public mutating func add(_ outcome: Outcome) {
        add(label: outcome.label, probabilities: outcome.probabilities.map(Double.init), latencyMs: outcome.latencyMs)
    }

    public mutating func merge(_ other: ClassificationAccumulator) {
        precondition(other.classes == classes && other.binCount == binCount, "accumulators differ in classes or bins")
        labels += other.labels
        probabilities += other.probabilities
        latencies += other.latencies
    }

    /// - Parameter threshold: when given, FPR and FNR count a sample as predicted positive for a
    ///   class when its probability is at least `threshold`, instead of at the argmax.
    public func compute(threshold: Double? = nil) -> ClassificationMetrics {
        let table = ClassificationTable(accumulator: self)
        var metrics = table.metrics(classes: classes, threshold: threshold)
        metrics.threshold = threshold
        metrics.calibration.adaptiveECE = table.adaptiveECE()
        for c in classes.indices {
            let (auc, ap) = table.ranking(of: c)
            metrics.perClass[c].rocAUC = auc
            metrics.perClass[c].averagePrecision = ap
        }
        if latencies.count == labels.count, let latency = LatencySummary(latencies) {
            metrics.latencyP50Ms = latency.p50
            metrics.latencyP95Ms = latency.p95
            metrics.throughputIPS = latency.throughputIPS
        }
        return metrics
    }

    /// `torch.linspace(0, 1, count)` in float32: the first half counts up from 0, the second
    /// half down from 1, both with step (1 - 0) / (count - 1).
    static func linspaceFloat32(_ count: Int) -> [Float] {
        let step = Float(1) / Float(count - 1)
        let half = count / 2
        return (0..<count).map { i in i < half ? Float(i) * step : 1 - step * Float(count - 1 - i) }
    }

    /// numpy's default percentile ("linear"): position q·(n−1) between order statistics,
    /// interpolated the way numpy's `_lerp` does (from the nearer end), so results match bit for bit.
    public static func percentile(_ sorted: [Double], _ q: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let position = q * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = min(lower + 1, sorted.count - 1)
        let t = position - Double(lower)
        let a = sorted[lower], b = sorted[upper], difference = b - a
        return t >= 0.5 ? b - difference * (1 - t) : a + difference * t
    }
}

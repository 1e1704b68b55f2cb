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
        var best = 0
        for index in probabilities.indices where probabilities[index] > probabilities[best] {
            best = index
        }
        predicted = best
        confidence = probabilities.isEmpty ? 0 : probabilities[best]
    }
}

/// Per-class results, one-vs-rest at the argmax prediction.
public struct ClassMetrics: Sendable, Hashable, Codable {
    public var className: String
    /// Samples whose label is this class (TP + FN).
    public var support: Int
    /// Samples predicted as this class (TP + FP).
    public var predicted: Int
    public var precision: Double
    public var recall: Double
    public var f1: Double
    /// nil when undefined (no negatives for FPR, no positives for FNR).
    public var fpr: Double?
    public var fnr: Double?
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
}

/// Everything Vigil computes for a classifier on one scenario.
public struct ClassificationMetrics: Sendable, Hashable, Codable {
    public var n: Int
    public var accuracy: Double?
    public var macroF1: Double?
    public var perClass: [ClassMetrics]
    /// Rows are true classes, columns predicted classes.
    public var confusion: [[Int]]
    public var ece: Double?
    public var brier: Double?
    public var reliability: [ReliabilityBin]
    public var latencyP50Ms: Double?
    public var latencyP95Ms: Double?
    public var throughputIPS: Double?

    /// The value of `key`; nil when it is undefined or the class is unknown.
    public func value(_ key: MetricKey) -> Double? {
        func perClass(_ read: (ClassMetrics) -> Double?) -> Double? {
            guard let name = key.className, let entry = self.perClass.first(where: { $0.className == name }) else { return nil }
            return read(entry)
        }
        switch key.metric {
        case .accuracy: return accuracy
        case .macroF1: return macroF1
        case .precision: return perClass { $0.precision }
        case .recall: return perClass { $0.recall }
        case .f1: return perClass { $0.f1 }
        case .fpr: return perClass { $0.fpr }
        case .fnr: return perClass { $0.fnr }
        case .ece: return ece
        case .brier: return brier
        case .latencyP50: return latencyP50Ms
        case .latencyP95: return latencyP95Ms
        case .throughput: return throughputIPS
        }
    }
}

/// Accumulates classification outcomes one at a time; accumulators over disjoint parts of a
/// golden set can be merged, and the merged result equals the single-pass result exactly
/// (counts are integers and every floating-point sum is an `ExactSum`).
///
/// Calibration follows torchmetrics' `multiclass_calibration_error` (top-label, `norm="l1"`):
/// confidence = max probability; bins are `torch.linspace(0, 1, bins + 1)` in float32; a
/// confidence c falls in bin i when edge[i] ≤ c < edge[i+1]. Deliberate difference: a confidence
/// of exactly 1.0 goes into the last bin. (torchmetrics' bucketize puts it in an extra bin of its
/// own — torchmetrics issue #3510 — which changes ECE whenever a model is fully confident.)
/// ECE = Σ_b (n_b / N) |accuracy_b − confidence_b|.
public struct ClassificationAccumulator: Sendable {
    public let classes: [String]
    public let binCount: Int
    private let edges: [Float]

    private var confusion: [Int]
    private var binCounts: [Int]
    private var binCorrect: [Int]
    private var binConfidence: [ExactSum]
    private var brierSum = ExactSum()
    private var latencies: [Double] = []

    public init(classes: [String], bins: Int = 15) {
        precondition(bins >= 1)
        self.classes = classes
        binCount = bins
        edges = Self.linspaceFloat32(bins + 1)
        confusion = Array(repeating: 0, count: classes.count * classes.count)
        binCounts = Array(repeating: 0, count: bins)
        binCorrect = Array(repeating: 0, count: bins)
        binConfidence = Array(repeating: ExactSum(), count: bins)
    }

    /// `torch.linspace(0, 1, count)` in float32: the first half counts up from 0, the second
    /// half down from 1, both with step (1 - 0) / (count - 1).
    static func linspaceFloat32(_ count: Int) -> [Float] {
        let step = Float(1) / Float(count - 1)
        let half = count / 2
        return (0..<count).map { i in i < half ? Float(i) * step : 1 - step * Float(count - 1 - i) }
    }

    /// The bin of a confidence: the last edge ≤ c, with 1.0 (and anything above) in the last bin.
    func bin(of confidence: Float) -> Int {
        var low = 0, high = binCount  // edges[low] <= c is the invariant for c >= 0
        while high - low > 1 {
            let mid = (low + high) / 2
            if edges[mid] <= confidence { low = mid } else { high = mid }
        }
        return low
    }

    public var count: Int { binCounts.reduce(0, +) }

    public mutating func add(_ outcome: Outcome) {
        precondition(outcome.probabilities.count == classes.count, "outcome has the wrong number of classes")
        confusion[outcome.label * classes.count + outcome.predicted] += 1
        let b = bin(of: outcome.confidence)
        binCounts[b] += 1
        if outcome.correct { binCorrect[b] += 1 }
        binConfidence[b].add(Double(outcome.confidence))
        var squares = 0.0
        for (index, p) in outcome.probabilities.enumerated() {
            let target = index == outcome.label ? 1.0 : 0.0
            squares += (Double(p) - target) * (Double(p) - target)
        }
        brierSum.add(squares)
        latencies.append(outcome.latencyMs)
    }

    public mutating func merge(_ other: ClassificationAccumulator) {
        precondition(other.classes == classes && other.binCount == binCount, "accumulators differ in classes or bins")
        for i in confusion.indices { confusion[i] += other.confusion[i] }
        for b in 0..<binCount {
            binCounts[b] += other.binCounts[b]
            binCorrect[b] += other.binCorrect[b]
            binConfidence[b].merge(other.binConfidence[b])
        }
        brierSum.merge(other.brierSum)
        latencies += other.latencies
    }

    public func compute() -> ClassificationMetrics {
        let k = classes.count
        let n = count
        func ratio(_ a: Int, _ b: Int) -> Double? { b == 0 ? nil : Double(a) / Double(b) }
        let rows = (0..<k).map { Array(confusion[($0 * k)..<(($0 + 1) * k)]) }
        let correct = (0..<k).reduce(0) { $0 + rows[$1][$1] }
        var perClass: [ClassMetrics] = []
        for c in 0..<k {
            let tp = rows[c][c]
            let support = rows[c].reduce(0, +)
            let predicted = (0..<k).reduce(0) { $0 + rows[$1][c] }
            let fp = predicted - tp, fn = support - tp, tn = n - tp - fp - fn
            let precision = ratio(tp, predicted) ?? 0
            let recall = ratio(tp, support) ?? 0
            // F1 = 2TP / (2TP + FP + FN): equal to the harmonic mean and defined as 0 when both are 0.
            let f1 = ratio(2 * tp, 2 * tp + fp + fn) ?? 0
            perClass.append(ClassMetrics(className: classes[c], support: support, predicted: predicted,
                                         precision: precision, recall: recall, f1: f1,
                                         fpr: ratio(fp, fp + tn), fnr: ratio(fn, fn + tp)))
        }
        var reliability: [ReliabilityBin] = []
        var eceSum = ExactSum()
        for b in 0..<binCount {
            let count = binCounts[b]
            let confidence = count == 0 ? nil : binConfidence[b].value / Double(count)
            let accuracy = ratio(binCorrect[b], count)
            reliability.append(ReliabilityBin(lower: Double(edges[b]), upper: Double(edges[b + 1]), count: count,
                                              confidence: confidence, accuracy: accuracy))
            if let confidence, let accuracy {
                eceSum.add(Double(count) / Double(n) * abs(accuracy - confidence))
            }
        }
        let sorted = latencies.sorted()
        var latencyTotal = ExactSum()
        for value in sorted { latencyTotal.add(value) }
        return ClassificationMetrics(
            n: n,
            accuracy: ratio(correct, n),
            macroF1: k == 0 || n == 0 ? nil : perClass.reduce(0) { $0 + $1.f1 } / Double(k),
            perClass: perClass,
            confusion: rows,
            ece: n == 0 ? nil : eceSum.value,
            brier: n == 0 ? nil : brierSum.value / Double(n),
            reliability: reliability,
            latencyP50Ms: Self.percentile(sorted, 0.50),
            latencyP95Ms: Self.percentile(sorted, 0.95),
            throughputIPS: latencyTotal.value > 0 ? Double(n) / (latencyTotal.value / 1000) : nil)
    }

    /// numpy's default percentile ("linear"): position q·(n−1) between order statistics,
    /// interpolated the way numpy's `_lerp` does (from the nearer end), so results match bit for bit.
    static func percentile(_ sorted: [Double], _ q: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let position = q * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = min(lower + 1, sorted.count - 1)
        let t = position - Double(lower)
        let a = sorted[lower], b = sorted[upper], difference = b - a
        return t >= 0.5 ? b - difference * (1 - t) : a + difference * t
    }
}

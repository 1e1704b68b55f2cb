import Foundation

/// Per-sample columns derived once from an accumulator's samples: the argmax, its confidence and
/// calibration bin, top-5 hits. Both the exact metrics and every bootstrap replicate read them.
struct ClassificationTable: Sendable {
    let k: Int
    let n: Int
    let binCount: Int
    /// `binCount + 1` edges: torch.linspace(0, 1, bins + 1) in float32, held as doubles.
    let edges: [Double]
    let labels: [Int]
    let probabilities: [Double]
    let predicted: [Int]
    let confidence: [Double]
    let confidenceBin: [Int]
    /// Per sample: whether the label is among the 5 highest-ranked classes (nil below 5 classes).
    let top5: [Bool]?
    /// Per sample: Σ_c (p_c − [c = label])², and −ln of the label's probability clipped to
    /// [ε, 1 − ε] (ε = 2^−52, scikit-learn's log_loss).
    let brierTerm: [Double]
    let nllTerm: [Double]

    init(accumulator a: ClassificationAccumulator) {
        k = a.classes.count
        n = a.labels.count
        binCount = a.binCount
        edges = ClassificationAccumulator.linspaceFloat32(a.binCount + 1).map(Double.init)
        labels = a.labels
        probabilities = a.probabilities
        var predicted = [Int](repeating: 0, count: n), confidence = [Double](repeating: 0, count: n)
        var confidenceBin = [Int](repeating: 0, count: n)
        var top5 = k >= 5 ? [Bool](repeating: false, count: n) : nil
        var brierTerm = [Double](repeating: 0, count: n), nllTerm = [Double](repeating: 0, count: n)
        let epsilon = Double.ulpOfOne
        for i in 0..<n {
            let row = a.probabilities[(i * k)..<((i + 1) * k)]
            let best = argmax(row)
            predicted[i] = best
            confidence[i] = row[row.startIndex + best]
            confidenceBin[i] = Self.bin(of: confidence[i], edges: edges)
            if top5 != nil {
                top5![i] = Self.rank(of: a.labels[i], in: row) < 5
            }
            var squares = 0.0
            for (c, p) in row.enumerated() {
                let target = c == a.labels[i] ? 1.0 : 0.0
                squares += (p - target) * (p - target)
            }
            brierTerm[i] = squares
            nllTerm[i] = -Foundation.log(min(max(row[row.startIndex + a.labels[i]], epsilon), 1 - epsilon))
        }
        self.brierTerm = brierTerm
        self.nllTerm = nllTerm
        self.predicted = predicted
        self.confidence = confidence
        self.confidenceBin = confidenceBin
        self.top5 = top5
    }

    /// The bin whose lower edge is the last edge ≤ value; 1.0 (and above) in the last bin,
    /// below 0 in the first.
    static func bin(of value: Double, edges: [Double]) -> Int {
        let bins = edges.count - 1
        var low = 0, high = bins
        while high - low > 1 {
            let mid = (low + high) / 2
            if edges[mid] <= value { low = mid } else { high = mid }
        }
        return low
    }

    /// Rank of class `label` in scikit-learn's top-k order: classes sorted by probability
    /// descending, ties broken towards the higher class index (a reversed stable argsort).
    static func rank(of label: Int, in row: ArraySlice<Double>) -> Int {
        let p = row[row.startIndex + label]
        var rank = 0
        for (j, q) in row.enumerated() where q > p || (q == p && j > label) {
            rank += 1
        }
        return rank
    }

    /// The count- and sum-based metrics of these samples, each weighted by how often it was drawn
    /// (nil: once each, with exact sums). Rank-based metrics and latency are not included.
    func metrics(classes: [String], threshold: Double?, weights: [Int]? = nil,
                 parts: ClassificationAggregates.Parts = .all) -> ClassificationMetrics {
        ClassificationAggregates(table: self, threshold: threshold, weights: weights, parts: parts)
            .finalize(classes: classes, edges: edges)
    }

    func probability(_ sample: Int, _ c: Int) -> Double {
        probabilities[sample * k + c]
    }

    /// Adaptive ECE: samples sorted by (confidence, correct — wrong first), cut into `binCount`
    /// contiguous groups whose sizes differ by at most one (numpy.array_split: the first n mod B
    /// groups take one more), then Σ (n_g / n) |accuracy_g − confidence_g|.
    func adaptiveECE() -> Double? {
        guard n > 0 else { return nil }
        let order = (0..<n).sorted { a, b in
            let ca = confidence[a], cb = confidence[b]
            if ca != cb { return ca < cb }
            let ra = predicted[a] == labels[a], rb = predicted[b] == labels[b]
            return !ra && rb
        }
        let base = n / binCount, extra = n % binCount
        var start = 0
        var total = ExactSum()
        for g in 0..<binCount {
            let size = base + (g < extra ? 1 : 0)
            guard size > 0 else { continue }
            var confidenceSum = ExactSum()
            var correct = 0
            for i in order[start..<(start + size)] {
                confidenceSum.add(confidence[i])
                if predicted[i] == labels[i] { correct += 1 }
            }
            let gap = abs(Double(correct) / Double(size) - confidenceSum.value / Double(size))
            total.add(Double(size) / Double(n) * gap)
            start += size
        }
        return total.value
    }

    /// One-vs-rest ROC AUC and average precision of class `c`'s probability.
    ///
    /// AUC is the Mann–Whitney statistic: the share of (positive, negative) pairs ranked in the
    /// right order, ties counting one half — equal to the trapezoidal area under scikit-learn's
    /// ROC curve. AP is scikit-learn's step integral Σ (R_t − R_{t−1}) P_t over the distinct
    /// score thresholds, highest first.
    func ranking(of c: Int) -> (auc: Double?, ap: Double?) {
        var scored = [(score: Double, positive: Bool)]()
        scored.reserveCapacity(n)
        for i in 0..<n { scored.append((probability(i, c), labels[i] == c)) }
        scored.sort { $0.score < $1.score }
        let positives = scored.reduce(0) { $0 + ($1.positive ? 1 : 0) }
        let negatives = n - positives
        // Groups of tied scores, ascending.
        var groups: [(positive: Int, negative: Int)] = []
        var index = 0
        while index < scored.count {
            // The group starts with `index` itself, so the loop always moves on (a NaN equals
            // nothing, not even itself; scores are checked finite where they enter).
            var end = index + 1, p = scored[index].positive ? 1 : 0, q = 1 - p
            while end < scored.count, scored[end].score == scored[index].score {
                if scored[end].positive { p += 1 } else { q += 1 }
                end += 1
            }
            groups.append((p, q))
            index = end
        }
        var auc: Double?
        if positives > 0 && negatives > 0 {
            var pairs = 0.0, negativesBelow = 0
            for group in groups {
                pairs += Double(group.positive) * (Double(negativesBelow) + 0.5 * Double(group.negative))
                negativesBelow += group.negative
            }
            auc = pairs / (Double(positives) * Double(negatives))
        }
        var ap: Double?
        if positives > 0 {
            var tp = 0, fp = 0
            var sum = ExactSum()
            for group in groups.reversed() {
                tp += group.positive
                fp += group.negative
                if group.positive > 0 {
                    sum.add(Double(group.positive) / Double(positives) * (Double(tp) / Double(tp + fp)))
                }
            }
            ap = sum.value
        }
        return (auc, ap)
    }
}

/// A running sum: exact (order-independent) for reported metrics, plain for bootstrap replicates
/// where speed matters more than the last bit.
protocol RunningSum {
    init()
    mutating func add(_ value: Double)
    var value: Double { get }
}

extension ExactSum: RunningSum {}

struct PlainSum: RunningSum {
    private(set) var value = 0.0
    mutating func add(_ value: Double) { self.value += value }
}

/// What the classification metrics are computed from: counts and sums over samples, optionally
/// weighted by how often each sample was drawn (bootstrap replicates).
struct ClassificationAggregates {
    /// What to aggregate beyond the confusion matrix (a bootstrap replicate computes only what
    /// its metrics need).
    struct Parts: OptionSet {
        let rawValue: Int
        /// Top-label confidence bins: ECE, MCE, RMSCE, reliability.
        static let calibration = Parts(rawValue: 1)
        /// Brier score and NLL (a pass over every class probability).
        static let scores = Parts(rawValue: 2)
        static let classwise = Parts(rawValue: 4)
        static let thresholded = Parts(rawValue: 8)
        static let all: Parts = [.calibration, .scores, .classwise, .thresholded]

        /// The parts `keys` need.
        static func needed(by keys: [MetricKey], threshold: Double?) -> Parts {
            var parts: Parts = []
            for key in keys {
                switch key.metric {
                case .ece, .mce, .rmsce: parts.insert(.calibration)
                case .brier, .nll: parts.insert(.scores)
                case .classwiseECE: parts.insert(.classwise)
                case .fpr where threshold != nil, .fnr where threshold != nil: parts.insert(.thresholded)
                default: break
                }
            }
            return parts
        }
    }

    var n = 0
    var confusion: [Int]
    var top5Hits = 0
    var binCount: [Int]
    var binCorrect: [Int]
    var binConfidence: [Double]
    var classBinCount: [Int]
    var classBinPositives: [Int]
    var classBinProbability: [Double]
    var brier = 0.0
    var nll = 0.0
    /// Per class at the threshold: (TP, FP, FN, TN).
    var thresholded: [(tp: Int, fp: Int, fn: Int, tn: Int)]?
    let k: Int
    let bins: Int
    let hasTop5: Bool

    init(table: ClassificationTable, threshold: Double?, weights: [Int]?, parts: Parts = .all) {
        if weights == nil {
            self.init(table: table, threshold: threshold, weights: nil, parts: parts, sum: ExactSum.self)
        } else {
            self.init(table: table, threshold: threshold, weights: weights, parts: parts, sum: PlainSum.self)
        }
    }

    private init<S: RunningSum>(table t: ClassificationTable, threshold: Double?, weights: [Int]?, parts: Parts, sum: S.Type) {
        k = t.k
        bins = t.binCount
        hasTop5 = t.top5 != nil
        confusion = Array(repeating: 0, count: k * k)
        binCount = Array(repeating: 0, count: bins)
        binCorrect = Array(repeating: 0, count: bins)
        let useClasswise = parts.contains(.classwise), useCalibration = parts.contains(.calibration)
        let useScores = parts.contains(.scores)
        let perClassPass = useClasswise || (threshold != nil && parts.contains(.thresholded))
        classBinCount = Array(repeating: 0, count: useClasswise ? k * bins : 0)
        classBinPositives = Array(repeating: 0, count: useClasswise ? k * bins : 0)
        var binSums = [S](repeating: S(), count: bins)
        var classBinSums = [S](repeating: S(), count: useClasswise ? k * bins : 0)
        var brierSum = S(), nllSum = S()
        var counts = threshold != nil && parts.contains(.thresholded)
            ? [(tp: Int, fp: Int, fn: Int, tn: Int)](repeating: (0, 0, 0, 0), count: k) : nil
        for i in 0..<t.n {
            let w = weights?[i] ?? 1
            guard w > 0 else { continue }
            let weight = Double(w)
            let label = t.labels[i], predicted = t.predicted[i]
            n += w
            confusion[label * k + predicted] += w
            if t.top5?[i] == true { top5Hits += w }
            if useCalibration {
                let b = t.confidenceBin[i]
                binCount[b] += w
                if predicted == label { binCorrect[b] += w }
                binSums[b].add(weight * t.confidence[i])
            }
            if useScores {
                brierSum.add(weight * t.brierTerm[i])
                nllSum.add(weight * t.nllTerm[i])
            }
            guard perClassPass else { continue }
            for c in 0..<k {
                let p = t.probabilities[i * k + c]
                if useClasswise {
                    let cb = c * bins + ClassificationTable.bin(of: p, edges: t.edges)
                    classBinCount[cb] += w
                    if c == label { classBinPositives[cb] += w }
                    classBinSums[cb].add(weight * p)
                }
                if let threshold, counts != nil {
                    let positive = p >= threshold, actual = c == label
                    switch (actual, positive) {
                    case (true, true): counts![c].tp += w
                    case (false, true): counts![c].fp += w
                    case (true, false): counts![c].fn += w
                    case (false, false): counts![c].tn += w
                    }
                }
            }
        }
        binConfidence = binSums.map(\.value)
        classBinProbability = classBinSums.map(\.value)
        brier = brierSum.value
        nll = nllSum.value
        thresholded = counts
    }

    /// The metrics these aggregates determine (everything but the rank-based ones and latency).
    func finalize(classes: [String], edges: [Double]) -> ClassificationMetrics {
        func ratio(_ a: Int, _ b: Int) -> Double? { b == 0 ? nil : Double(a) / Double(b) }
        let rows = (0..<k).map { Array(confusion[($0 * k)..<(($0 + 1) * k)]) }
        var perClass: [ClassMetrics] = []
        var correct = 0
        for c in 0..<k {
            let tp = rows[c][c]
            correct += tp
            let support = rows[c].reduce(0, +)
            let predicted = (0..<k).reduce(0) { $0 + rows[$1][c] }
            let fp = predicted - tp, fn = support - tp, tn = n - tp - fp - fn
            var entry = ClassMetrics(className: classes[c], support: support, predicted: predicted,
                                     precision: ratio(tp, tp + fp), recall: ratio(tp, tp + fn),
                                     f1: ratio(2 * tp, 2 * tp + fp + fn),
                                     fpr: ratio(fp, fp + tn), fnr: ratio(fn, fn + tp), rocAUC: nil, averagePrecision: nil)
            if let counts = thresholded?[c] {
                entry.fpr = ratio(counts.fp, counts.fp + counts.tn)
                entry.fnr = ratio(counts.fn, counts.fn + counts.tp)
            }
            perClass.append(entry)
        }
        var reliability: [ReliabilityBin] = []
        var ece = ExactSum(), squared = ExactSum()
        var mce: Double?
        for b in 0..<bins {
            let count = binCount[b]
            let confidence = count == 0 ? nil : binConfidence[b] / Double(count)
            let accuracy = ratio(binCorrect[b], count)
            reliability.append(ReliabilityBin(lower: edges[b], upper: edges[b + 1], count: count,
                                              confidence: confidence, accuracy: accuracy))
            if let confidence, let accuracy {
                let gap = abs(accuracy - confidence)
                ece.add(Double(count) / Double(n) * gap)
                squared.add(Double(count) / Double(n) * gap * gap)
                mce = max(mce ?? 0, gap)
            }
        }
        var classwise: Double?
        if !classBinCount.isEmpty && n > 0 {
            var total = ExactSum()
            for c in 0..<k {
                var perClassECE = ExactSum()
                for b in 0..<bins {
                    let index = c * bins + b
                    let count = classBinCount[index]
                    guard count > 0 else { continue }
                    let frequency = Double(classBinPositives[index]) / Double(count)
                    let mean = classBinProbability[index] / Double(count)
                    perClassECE.add(Double(count) / Double(n) * abs(frequency - mean))
                }
                total.add(perClassECE.value)
            }
            classwise = total.value / Double(k)
        }
        return ClassificationMetrics(
            n: n,
            accuracy: ratio(correct, n),
            top5Accuracy: hasTop5 ? ratio(top5Hits, n) : nil,
            macro: Self.macro(perClass),
            weighted: Self.weighted(perClass),
            perClass: perClass,
            confusion: rows,
            calibration: CalibrationMetrics(
                ece: n == 0 ? nil : ece.value, mce: n == 0 ? nil : mce,
                rmsce: n == 0 ? nil : squared.value.squareRoot(),
                adaptiveECE: nil, classwiseECE: classwise,
                brier: n == 0 ? nil : brier / Double(n), nll: n == 0 ? nil : nll / Double(n),
                bins: reliability),
            threshold: nil, latencyP50Ms: nil, latencyP95Ms: nil, throughputIPS: nil)
    }

    /// Unweighted mean over the classes where the value is defined (scikit-learn with
    /// `zero_division=np.nan` leaves undefined classes out of the average).
    static func macro(_ classes: [ClassMetrics]) -> Averages {
        func mean(_ read: (ClassMetrics) -> Double?) -> Double? {
            let values = classes.compactMap(read)
            return values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
        }
        return Averages(precision: mean(\.precision), recall: mean(\.recall), f1: mean(\.f1))
    }

    /// Support-weighted mean over the classes where the value is defined.
    static func weighted(_ classes: [ClassMetrics]) -> Averages {
        func mean(_ read: (ClassMetrics) -> Double?) -> Double? {
            var total = 0.0, weight = 0
            for entry in classes {
                guard let value = read(entry) else { continue }
                total += Double(entry.support) * value
                weight += entry.support
            }
            return weight == 0 ? nil : total / Double(weight)
        }
        return Averages(precision: mean(\.precision), recall: mean(\.recall), f1: mean(\.f1))
    }
}

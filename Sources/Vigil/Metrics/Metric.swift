/// The metrics a suite's conditions and reports can name.
///
/// Definitions (classification, one-vs-rest per class at the argmax prediction):
/// - `accuracy`: share of samples whose argmax class is the label.
/// - `precision`, `recall`, `f1`: as scikit-learn's `precision_recall_fscore_support`, with 0
///   where the denominator is 0 (scikit-learn's `zero_division=0`).
/// - `macro_f1`: unweighted mean of per-class F1 over all classes.
/// - `fpr` = FP / (FP + TN), `fnr` = FN / (FN + TP); undefined (null) when the denominator is 0.
/// - `ece`: top-label expected calibration error, 15 equal-width bins (see
///   `ClassificationAccumulator`).
/// - `brier`: mean over samples of Σ_k (p_k − y_k)², y one-hot (range 0…2).
/// - `latency_p50_ms`, `latency_p95_ms`: percentiles of per-image inference latency, linear
///   interpolation between order statistics (numpy's default).
/// - `throughput_ips`: images per second of inference time (n / Σ latency), for one worker.
public enum Metric: String, Sendable, Codable, CaseIterable {
    case accuracy
    case macroF1 = "macro_f1"
    case precision, recall, f1, fpr, fnr
    case ece, brier
    case latencyP50 = "latency_p50_ms"
    case latencyP95 = "latency_p95_ms"
    case throughput = "throughput_ips"

    /// Metrics that need a `class:`.
    public var isPerClass: Bool {
        switch self {
        case .precision, .recall, .f1, .fpr, .fnr: true
        default: false
        }
    }

    /// Whether a larger value is an improvement; decides the sign of a regression.
    public var higherIsBetter: Bool {
        switch self {
        case .accuracy, .macroF1, .precision, .recall, .f1, .throughput: true
        case .fpr, .fnr, .ece, .brier, .latencyP50, .latencyP95: false
        }
    }

    /// Shares in [0, 1], shown as percentages, whose deltas are in percentage points.
    public var isShare: Bool {
        switch self {
        case .accuracy, .macroF1, .precision, .recall, .f1, .fpr, .fnr, .ece: true
        case .brier, .latencyP50, .latencyP95, .throughput: false
        }
    }
}

/// A metric, for one class where the metric is per class. Written `fpr[9]` in tables and JSON.
public struct MetricKey: Sendable, Hashable, Codable, CustomStringConvertible, Comparable {
    public var metric: Metric
    public var className: String?

    public init(_ metric: Metric, className: String? = nil) {
        self.metric = metric
        self.className = className
    }

    public var description: String {
        className.map { "\(metric.rawValue)[\($0)]" } ?? metric.rawValue
    }

    public static func < (a: MetricKey, b: MetricKey) -> Bool {
        let ia = Metric.allCases.firstIndex(of: a.metric)!, ib = Metric.allCases.firstIndex(of: b.metric)!
        return ia != ib ? ia < ib : (a.className ?? "") < (b.className ?? "")
    }
}

/// The metrics a suite's conditions and reports can name. Definitions, with formulas, are in
/// Sources/Vigil/Metrics/METRICS.md; in short (classification, one-vs-rest per class):
/// - `accuracy`, `top5_accuracy` (scikit-learn's `top_k_accuracy_score` tie order);
/// - `precision`, `recall`, `f1` per class at the argmax and their `macro_*` / `weighted_f1`
///   averages, as scikit-learn's `precision_recall_fscore_support` with `zero_division=np.nan`
///   (undefined values are null and left out of averages);
/// - `fpr` = FP / (FP + TN), `fnr` = FN / (FN + TP);
/// - `roc_auc`, `average_precision` per class (scikit-learn's one-vs-rest definitions);
/// - `ece`, `mce`, `rmsce` (top-label, 15 equal-width bins, torchmetrics' edges, 1.0 in the last
///   bin), `adaptive_ece` (equal-mass bins), `classwise_ece`, `brier`, `nll`;
/// - `latency_p50_ms`, `latency_p95_ms`, `throughput_ips` (per-image inference latency);
/// - `model_size_mb`, `model_memory_mb` (the model's file, and weights plus intermediate blobs
///   at the spec's input size; the same in every scenario; both tasks).
public struct Metric: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The name in suites, tables, JSON and the store (`accuracy`, `latency_p95_ms`).
    public let rawValue: String
    /// Whether it is computed per class and needs a `class:`.
    public let isPerClass: Bool
    /// Whether a larger value is an improvement; decides the sign of a regression.
    public let higherIsBetter: Bool
    public let unit: Unit
    /// Properties of the model rather than of its outputs: the same in every scenario.
    public let isModelProperty: Bool

    /// How values are shown: shares as percentages (deltas in percentage points), the others in
    /// their units.
    public enum Unit: String, Sendable {
        case share, milliseconds, perSecond, megabytes, number
    }

    public init(_ name: String, perClass: Bool = false, higherIsBetter: Bool, unit: Unit, modelProperty: Bool = false) {
        rawValue = name
        isPerClass = perClass
        self.higherIsBetter = higherIsBetter
        self.unit = unit
        isModelProperty = modelProperty
    }

    /// Shares in [0, 1], shown as percentages, whose deltas are in percentage points.
    public var isShare: Bool { unit == .share }

    public var description: String { rawValue }

    /// Metrics are the same metric when their names are.
    public static func == (a: Metric, b: Metric) -> Bool { a.rawValue == b.rawValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }

    /// The metric named `rawValue` in any task's catalogue.
    public init?(rawValue: String) {
        guard let known = Metric.allCases.first(where: { $0.rawValue == rawValue }) else { return nil }
        self = known
    }

    /// Every task's metrics, each once, in catalogue order (the order of tables and sorting).
    public static let allCases: [Metric] = MetricCatalogue.all.reduce(into: []) { all, catalogue in
        for metric in catalogue.metrics where !all.contains(metric) { all.append(metric) }
    }

    public init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let metric = Metric(rawValue: name) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown metric '\(name)'"))
        }
        self = metric
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// Whether the metric is defined for golden sets of `task`.
    public func applies(to task: VisionTask) -> Bool { MetricCatalogue.of(task).metrics.contains(self) }

    /// Whether a paired bootstrap can resample it for golden sets of `task` (see each task's
    /// catalogue).
    public func isResampleable(for task: VisionTask) -> Bool { MetricCatalogue.of(task).resampleable.contains(self) }

    // Metrics of more than one task.
    public static let precision = Metric("precision", perClass: true, higherIsBetter: true, unit: .share)
    public static let recall = Metric("recall", perClass: true, higherIsBetter: true, unit: .share)
    public static let fnr = Metric("fnr", perClass: true, higherIsBetter: false, unit: .share)
    public static let latencyP50 = Metric("latency_p50_ms", higherIsBetter: false, unit: .milliseconds)
    public static let latencyP95 = Metric("latency_p95_ms", higherIsBetter: false, unit: .milliseconds)
    public static let throughput = Metric("throughput_ips", higherIsBetter: true, unit: .perSecond)
    public static let modelSizeMB = Metric("model_size_mb", higherIsBetter: false, unit: .megabytes, modelProperty: true)
    public static let modelMemoryMB = Metric("model_memory_mb", higherIsBetter: false, unit: .megabytes, modelProperty: true)
}

/// A task's metrics: what suites of golden sets of that task can name, and which of them a
/// paired bootstrap can resample. Each task declares its own, beside its scoring
/// (`MetricCatalogue.classification` in Tasks/Classification/ClassificationCatalogue.swift,
/// `.detection` in Tasks/Detection/DetectionCatalogue.swift).
public struct MetricCatalogue: Sendable {
    public let task: VisionTask
    /// In the order tables show them.
    public let metrics: [Metric]
    public let resampleable: Set<Metric>

    public init(task: VisionTask, metrics: [Metric], resampleable: Set<Metric>) {
        precondition(resampleable.isSubset(of: Set(metrics)), "a resampleable metric is one of the catalogue's")
        self.task = task
        self.metrics = metrics
        self.resampleable = resampleable
    }

    /// The catalogues of every task, in the order their metrics are listed.
    static let all: [MetricCatalogue] = VisionTask.allCases.map(of)

    /// The catalogue of `task`.
    public static func of(_ task: VisionTask) -> MetricCatalogue {
        switch task {
        case .classification: classification
        case .detection: detection
        }
    }
}

/// A metric, for one class where the metric is per class. Written `fpr[9]` in tables and JSON.
public struct MetricKey: Sendable, Hashable, Codable, CustomStringConvertible, Comparable {
    public var metric: Metric
    public var className: String?

    enum CodingKeys: String, CodingKey { case metric, className = "class" }

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

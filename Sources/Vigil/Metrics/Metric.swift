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
public enum Metric: String, Sendable, Codable, CaseIterable {
    case accuracy
    case top5Accuracy = "top5_accuracy"
    case macroPrecision = "macro_precision"
    case macroRecall = "macro_recall"
    case macroF1 = "macro_f1"
    case weightedF1 = "weighted_f1"
    case precision, recall, f1, fpr, fnr
    case rocAUC = "roc_auc"
    case averagePrecision = "average_precision"
    case ece, mce, rmsce
    case adaptiveECE = "adaptive_ece"
    case classwiseECE = "classwise_ece"
    case brier, nll
    case latencyP50 = "latency_p50_ms"
    case latencyP95 = "latency_p95_ms"
    case throughput = "throughput_ips"
    case modelSizeMB = "model_size_mb"
    case modelMemoryMB = "model_memory_mb"
    // Detection (COCO): mean AP over categories at IoU .50:.95, .50, .75; AR with 100
    // detections; per category AP, AP50 and the image-level false positive rate; false
    // positives per image at the operating point. Detection also uses precision, recall and
    // fnr per class (at the operating point) and the latency metrics.
    case map, map50, map75, ar100
    case ap, ap50
    case imageFPR = "image_fpr"
    case fpPerImage = "fp_per_image"

    /// Properties of the model rather than of its outputs: the same in every scenario.
    public var isModelProperty: Bool { self == .modelSizeMB || self == .modelMemoryMB }

    /// Metrics that need a `class:`.
    public var isPerClass: Bool {
        switch self {
        case .precision, .recall, .f1, .fpr, .fnr, .rocAUC, .averagePrecision, .ap, .ap50, .imageFPR: true
        default: false
        }
    }

    /// Metrics of object detection only.
    public var isDetection: Bool {
        switch self {
        case .map, .map50, .map75, .ar100, .ap, .ap50, .imageFPR, .fpPerImage: true
        default: false
        }
    }

    /// Whether the metric is defined for golden sets of `task`.
    public func applies(to task: VisionTask) -> Bool {
        switch task {
        case .detection:
            switch self {
            case .precision, .recall, .fnr, .latencyP50, .latencyP95, .throughput, .modelSizeMB, .modelMemoryMB: true
            default: isDetection
            }
        case .classification: !isDetection
        }
    }

    /// Whether a paired bootstrap can resample it for golden sets of `task`: for
    /// classification from per-sample counts and sums (not the rank-based metrics or latency),
    /// for detection mAP and mAP50 from weighted precision–recall curves and the operating-point
    /// metrics from per-image counts.
    public func isResampleable(for task: VisionTask) -> Bool {
        switch task {
        case .classification: return isResampleable
        case .detection:
            switch self {
            case .map, .map50, .precision, .recall, .fnr, .imageFPR, .fpPerImage: return true
            default: return false
            }
        }
    }

    /// Whether a larger value is an improvement; decides the sign of a regression.
    public var higherIsBetter: Bool {
        switch self {
        case .accuracy, .top5Accuracy, .macroPrecision, .macroRecall, .macroF1, .weightedF1, .precision, .recall, .f1,
             .rocAUC, .averagePrecision, .throughput, .map, .map50, .map75, .ar100, .ap, .ap50: true
        case .fpr, .fnr, .ece, .mce, .rmsce, .adaptiveECE, .classwiseECE, .brier, .nll, .latencyP50, .latencyP95,
             .imageFPR, .fpPerImage, .modelSizeMB, .modelMemoryMB: false
        }
    }

    /// Shares in [0, 1], shown as percentages, whose deltas are in percentage points.
    public var isShare: Bool {
        switch self {
        case .accuracy, .top5Accuracy, .macroPrecision, .macroRecall, .macroF1, .weightedF1, .precision, .recall, .f1,
             .fpr, .fnr, .rocAUC, .averagePrecision, .ece, .mce, .rmsce, .adaptiveECE, .classwiseECE,
             .map, .map50, .map75, .ar100, .ap, .ap50, .imageFPR: true
        case .brier, .nll, .latencyP50, .latencyP95, .throughput, .fpPerImage, .modelSizeMB, .modelMemoryMB: false
        }
    }

    /// Whether the classification bootstrap can resample it (computed from per-sample counts and
    /// sums; the rank-based metrics, latency and detection metrics are not).
    public var isResampleable: Bool {
        switch self {
        case .rocAUC, .averagePrecision, .adaptiveECE, .latencyP50, .latencyP95, .throughput, .modelSizeMB, .modelMemoryMB: false
        default: !isDetection
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

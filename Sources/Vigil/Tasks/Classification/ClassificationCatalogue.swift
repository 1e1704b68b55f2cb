/// Classification's metrics (definitions: METRICS.md, "Classification" and "Calibration").
extension Metric {
    public static let accuracy = Metric("accuracy", higherIsBetter: true, unit: .share)
    public static let top5Accuracy = Metric("top5_accuracy", higherIsBetter: true, unit: .share)
    public static let macroPrecision = Metric("macro_precision", higherIsBetter: true, unit: .share)
    public static let macroRecall = Metric("macro_recall", higherIsBetter: true, unit: .share)
    public static let macroF1 = Metric("macro_f1", higherIsBetter: true, unit: .share)
    public static let weightedF1 = Metric("weighted_f1", higherIsBetter: true, unit: .share)
    public static let f1 = Metric("f1", perClass: true, higherIsBetter: true, unit: .share)
    public static let fpr = Metric("fpr", perClass: true, higherIsBetter: false, unit: .share)
    public static let rocAUC = Metric("roc_auc", perClass: true, higherIsBetter: true, unit: .share)
    public static let averagePrecision = Metric("average_precision", perClass: true, higherIsBetter: true, unit: .share)
    public static let ece = Metric("ece", higherIsBetter: false, unit: .share)
    public static let mce = Metric("mce", higherIsBetter: false, unit: .share)
    public static let rmsce = Metric("rmsce", higherIsBetter: false, unit: .share)
    public static let adaptiveECE = Metric("adaptive_ece", higherIsBetter: false, unit: .share)
    public static let classwiseECE = Metric("classwise_ece", higherIsBetter: false, unit: .share)
    public static let brier = Metric("brier", higherIsBetter: false, unit: .number)
    public static let nll = Metric("nll", higherIsBetter: false, unit: .number)
}

extension MetricCatalogue {
    /// Everything computed from per-sample counts and sums can be resampled; the rank-based
    /// metrics (ROC AUC, average precision, adaptive ECE's equal-mass bins), latency and the
    /// model's footprint cannot.
    public static let classification: MetricCatalogue = {
        let metrics: [Metric] = [
            .accuracy, .top5Accuracy, .macroPrecision, .macroRecall, .macroF1, .weightedF1, .precision, .recall, .f1, .fpr, .fnr,
            .rocAUC, .averagePrecision, .ece, .mce, .rmsce, .adaptiveECE, .classwiseECE, .brier, .nll,
            .latencyP50, .latencyP95, .throughput, .modelSizeMB, .modelMemoryMB,
        ]
        let notResampled: Set<Metric> = [.rocAUC, .averagePrecision, .adaptiveECE, .latencyP50, .latencyP95, .throughput,
                                         .modelSizeMB, .modelMemoryMB]
        return MetricCatalogue(task: .classification, metrics: metrics, resampleable: Set(metrics).subtracting(notResampled))
    }()
}

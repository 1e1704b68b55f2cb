import Foundation

/// How the bootstrap behind intervals and p-values was run, recorded with results.
public struct BootstrapInfo: Sendable, Hashable, Codable {
    public var replicates: Int
    public var seed: UInt64
    public var confidence: Double

    public init(_ bootstrap: Bootstrap) {
        replicates = bootstrap.replicates
        seed = bootstrap.seed
        confidence = bootstrap.confidence
    }
}

/// A score: metrics (at the top level of the JSON) plus bootstrap intervals of the headline
/// metrics and how the bootstrap was run.
public struct Score<Metrics: Encodable & Sendable>: Sendable, Encodable {
    public var metrics: Metrics
    public var intervals: [MetricKey: Interval]
    public var bootstrap: BootstrapInfo?

    enum CodingKeys: String, CodingKey { case intervals, bootstrap }

    public init(metrics: Metrics, intervals: [MetricKey: Interval], bootstrap: BootstrapInfo?) {
        self.metrics = metrics
        self.intervals = intervals
        self.bootstrap = bootstrap
    }

    public func encode(to encoder: any Encoder) throws {
        try metrics.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Dictionary(uniqueKeysWithValues: intervals.map { ($0.key.description, $0.value) }), forKey: .intervals)
        try c.encode(bootstrap, forKey: .bootstrap)
    }
}

/// `vigil score classification`'s result.
public typealias ClassificationScore = Score<ClassificationMetrics>
/// `vigil score detection`'s result.
public typealias DetectionScore = Score<DetectionMetrics>

extension Score where Metrics == ClassificationMetrics {
    /// Scores labels and predictions files (see `ClassificationFiles`).
    public static func evaluate(_ data: ClassificationFiles.Labelled, threshold: Double?, bootstrap: Bootstrap?) throws -> Self {
        let metrics = data.accumulator.compute(threshold: threshold)
        let intervals = try bootstrap.map {
            try data.accumulator.intervals(for: data.accumulator.headlineMetrics, threshold: threshold, bootstrap: $0)
        } ?? [:]
        return Self(metrics: metrics, intervals: intervals, bootstrap: bootstrap.map(BootstrapInfo.init))
    }
}

extension Score where Metrics == DetectionMetrics {
    public static func evaluate(_ scorer: DetectionScorer, iou: Double, scoreThreshold: Double, bootstrap: Bootstrap?) -> Self {
        var intervals: [MetricKey: Interval] = [:]
        if let bootstrap {
            let (map, map50) = scorer.intervals(bootstrap: bootstrap)
            intervals[MetricKey(.map)] = map
            intervals[MetricKey(.map50)] = map50
        }
        return Self(metrics: scorer.metrics(iou: iou, scoreThreshold: scoreThreshold), intervals: intervals,
                    bootstrap: bootstrap.map(BootstrapInfo.init))
    }
}

/// `vigil score compare`'s result.
public struct ComparisonScore: Sendable, Encodable {
    public var task: String
    public var n: Int
    public var deltas: [PairedDelta]
    public var bootstrap: BootstrapInfo

    public init(task: String, n: Int, deltas: [PairedDelta], bootstrap: BootstrapInfo) {
        self.task = task
        self.n = n
        self.deltas = deltas
        self.bootstrap = bootstrap
    }
}

/// Plain-text renderings of scores for the terminal.
public enum ScoreReport {
    static func withInterval(_ value: Double?, _ key: MetricKey, _ intervals: [MetricKey: Interval]) -> String {
        let shown = Formatting.value(value, key.metric)
        guard let interval = intervals[key] else { return shown }
        return "\(shown)  [\(Formatting.value(interval.lower, key.metric)) … \(Formatting.value(interval.upper, key.metric)), \(Int((interval.level * 100).rounded()))% CI]"
    }

    public static func classification(_ score: ClassificationScore) -> String {
        let m = score.metrics
        var lines = ["\(m.n) samples, \(m.perClass.count) classes" + (m.threshold.map { ", FPR/FNR at p ≥ \($0)" } ?? ", FPR/FNR at the argmax")]
        var rows: [[String]] = []
        func add(_ name: String, _ metric: Metric, _ value: Double?) {
            rows.append([name, withInterval(value, MetricKey(metric), score.intervals)])
        }
        add("accuracy", .accuracy, m.accuracy)
        if m.top5Accuracy != nil { add("top-5 accuracy", .top5Accuracy, m.top5Accuracy) }
        rows.append(["macro P / R / F1", [m.macro.precision, m.macro.recall, m.macro.f1].map { Formatting.value($0, .f1) }.joined(separator: " / ")])
        rows.append(["weighted P / R / F1", [m.weighted.precision, m.weighted.recall, m.weighted.f1].map { Formatting.value($0, .f1) }.joined(separator: " / ")])
        add("macro F1", .macroF1, m.macro.f1)
        add("ECE (15 bins)", .ece, m.calibration.ece)
        add("MCE", .mce, m.calibration.mce)
        add("RMSCE", .rmsce, m.calibration.rmsce)
        add("adaptive ECE", .adaptiveECE, m.calibration.adaptiveECE)
        add("classwise ECE", .classwiseECE, m.calibration.classwiseECE)
        add("Brier", .brier, m.calibration.brier)
        add("NLL", .nll, m.calibration.nll)
        lines += TerminalReport.layout(rows)
        lines.append("")
        var table = [["class", "support", "precision", "recall", "f1", "fpr", "fnr", "roc_auc", "ap"]]
        for c in m.perClass {
            table.append([c.className, "\(c.support)"] + [c.precision, c.recall, c.f1, c.fpr, c.fnr, c.rocAUC, c.averagePrecision]
                .map { Formatting.value($0, .f1) })
        }
        lines += TerminalReport.layout(table, rightAligned: Set(1...8))
        return lines.joined(separator: "\n")
    }

    public static func detection(_ score: DetectionScore) -> String {
        let m = score.metrics
        let labels = [
            ("Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ]", Metric.map),
            ("Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ]", .map50),
            ("Average Precision  (AP) @[ IoU=0.75      | area=   all | maxDets=100 ]", .map75),
            ("Average Precision  (AP) @[ IoU=0.50:0.95 | area= small | maxDets=100 ]", nil),
            ("Average Precision  (AP) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ]", nil),
            ("Average Precision  (AP) @[ IoU=0.50:0.95 | area= large | maxDets=100 ]", nil),
            ("Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ]", nil),
            ("Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets= 10 ]", nil),
            ("Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ]", .ar100),
            ("Average Recall     (AR) @[ IoU=0.50:0.95 | area= small | maxDets=100 ]", nil),
            ("Average Recall     (AR) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ]", nil),
            ("Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ]", nil),
        ]
        var lines = ["\(m.nImages) images, \(m.perClass.count) categories"]
        for ((label, metric), value) in zip(labels, m.stats) {
            var line = " \(label) = \(String(format: "%.3f", value))"
            if let metric, let interval = score.intervals[MetricKey(metric)] {
                line += String(format: "  [%.3f … %.3f, %d%% CI]", interval.lower, interval.upper, Int((interval.level * 100).rounded()))
            }
            lines.append(line)
        }
        lines.append("")
        lines.append("per category at IoU ≥ \(m.iou), score ≥ \(m.scoreThreshold):")
        var table = [["category", "ap", "ap50", "tp", "fp", "fn", "precision", "recall", "fnr", "image_fpr"]]
        for (c, image) in zip(m.perClass, m.imageFPR) {
            table.append(["\(c.categoryID) \(c.name)", Formatting.value(c.ap, .ap), Formatting.value(c.ap50, .ap50),
                          "\(c.tp)", "\(c.fp)", "\(c.fn)", Formatting.value(c.precision, .precision),
                          Formatting.value(c.recall, .recall), Formatting.value(c.fnr, .fnr), Formatting.value(image.fpr, .imageFPR)])
        }
        lines += TerminalReport.layout(table, rightAligned: Set(1...9))
        return lines.joined(separator: "\n")
    }

    public static func comparison(_ score: ComparisonScore) -> String {
        var rows = [["metric", "baseline", "candidate", "delta", "\(Int((score.bootstrap.confidence * 100).rounded()))% CI of delta", "p", "test"]]
        for d in score.deltas {
            let metric = d.metric.metric
            let interval = d.interval.map { "\(Formatting.signedDelta($0.lower, metric)) … \(Formatting.signedDelta($0.upper, metric))" } ?? "—"
            rows.append([d.metric.description, Formatting.value(d.baseline, metric), Formatting.value(d.candidate, metric),
                         Formatting.signedDelta(d.delta, metric), interval, d.pValue.map(Formatting.pValue) ?? "—",
                         d.test + (d.mcnemar.map { " (b=\($0.onlyFirstCorrect), c=\($0.onlySecondCorrect))" } ?? "")])
        }
        return (["\(score.task): \(score.n) paired \(score.task == "detection" ? "images" : "samples"), \(score.bootstrap.replicates) bootstrap replicates, seed \(score.bootstrap.seed)"]
                + TerminalReport.layout(rows, rightAligned: [1, 2, 3, 5])).joined(separator: "\n")
    }
}

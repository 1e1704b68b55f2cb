import Foundation

/// Semantic segmentation metrics with the dataset-level definitions of mmsegmentation's
/// `IoUMetric` and the Cityscapes benchmark: per class, pixels are counted over every image
/// (pixels whose truth is the ignore index left out), then
///
/// - IoU_c = TP / (TP + FP + FN) = |truth c ∧ prediction c| / |truth c ∨ prediction c|,
///   Dice_c = 2 TP / (2 TP + FP + FN); undefined for a class in neither truth nor prediction;
/// - mIoU and mean Dice: the mean over the classes where they are defined (present in truth or
///   prediction), as mmsegmentation's `nanmean`;
/// - pixel accuracy: Σ TP / Σ truth pixels (mmsegmentation's aAcc);
/// - frequency-weighted IoU: Σ_c (truth pixels of c / truth pixels) · IoU_c.
public enum SemanticSegmentation {
    /// One image's per-class pixel counts (ignored pixels left out).
    public struct ImageCounts: Sendable, Hashable {
        public var id: String
        /// Pixels where truth and prediction are both the class.
        public var intersection: [Int]
        public var predicted: [Int]
        public var truth: [Int]

        /// Counts one image's masks (row-major class indices of the same size). A truth value
        /// that is neither a class nor `ignoreIndex`, and a predicted value that is not a class,
        /// are refused with their position.
        public init(id: String, truth: [UInt8], prediction: [UInt8], width: Int, classes: Int, ignoreIndex: Int?) throws {
            precondition(truth.count == prediction.count)
            self.id = id
            intersection = [Int](repeating: 0, count: classes)
            predicted = intersection
            self.truth = intersection
            let ignore = ignoreIndex ?? -1
            for index in truth.indices {
                let t = Int(truth[index])
                if t == ignore { continue }
                let p = Int(prediction[index])
                guard t < classes else {
                    throw InputError("\(id): truth pixel (\(index % width), \(index / width)) is class \(t), not one of 0…\(classes - 1)"
                                     + (ignoreIndex.map { " or the ignore index \($0)" } ?? ""))
                }
                guard p < classes else {
                    throw InputError("\(id): predicted pixel (\(index % width), \(index / width)) is class \(p), not one of 0…\(classes - 1)")
                }
                self.truth[t] += 1
                predicted[p] += 1
                if t == p { intersection[t] += 1 }
            }
        }
    }

    /// One class's scores over the data set.
    public struct ClassScore: Sendable, Hashable, Codable {
        public var classIndex: Int
        public var iou: Double?
        public var dice: Double?
        /// Truth pixels of the class.
        public var support: Int

        enum CodingKeys: String, CodingKey { case classIndex = "class", iou, dice, support }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(classIndex, forKey: .classIndex)
            try c.encode(iou, forKey: .iou)
            try c.encode(dice, forKey: .dice)
            try c.encode(support, forKey: .support)
        }
    }

    public struct Metrics: Sendable, Hashable, Codable {
        public var miou: Double?
        public var meanDice: Double?
        public var pixelAccuracy: Double?
        public var fwIoU: Double?
        public var perClass: [ClassScore]
        /// Images.
        public var n: Int

        enum CodingKeys: String, CodingKey {
            case miou, meanDice = "mean_dice", pixelAccuracy = "pixel_accuracy", fwIoU = "fw_iou", perClass = "per_class", n
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(miou, forKey: .miou)
            try c.encode(meanDice, forKey: .meanDice)
            try c.encode(pixelAccuracy, forKey: .pixelAccuracy)
            try c.encode(fwIoU, forKey: .fwIoU)
            try c.encode(perClass, forKey: .perClass)
            try c.encode(n, forKey: .n)
        }
    }

    /// The metrics over `images`, each counted `weights[i]` times (a bootstrap resample), or once.
    public static func metrics(_ images: [ImageCounts], classes: Int, weights: [Int]? = nil) -> Metrics {
        var intersection = [Int](repeating: 0, count: classes), predicted = intersection, truth = intersection
        var n = 0
        for (index, image) in images.enumerated() {
            let w = weights?[index] ?? 1
            guard w > 0 else { continue }
            n += w
            for c in 0..<classes {
                intersection[c] += w * image.intersection[c]
                predicted[c] += w * image.predicted[c]
                truth[c] += w * image.truth[c]
            }
        }
        let totalTruth = truth.reduce(0, +)
        var perClass: [ClassScore] = []
        var iouSum = 0.0, diceSum = 0.0, defined = 0, weighted = 0.0
        for c in 0..<classes {
            let union = predicted[c] + truth[c] - intersection[c]
            var score = ClassScore(classIndex: c, iou: nil, dice: nil, support: truth[c])
            if union > 0 {
                let iou = Double(intersection[c]) / Double(union)
                let dice = 2 * Double(intersection[c]) / Double(predicted[c] + truth[c])
                score.iou = iou
                score.dice = dice
                iouSum += iou
                diceSum += dice
                defined += 1
                weighted += Double(truth[c]) * iou
            }
            perClass.append(score)
        }
        return Metrics(miou: defined > 0 ? iouSum / Double(defined) : nil,
                       meanDice: defined > 0 ? diceSum / Double(defined) : nil,
                       pixelAccuracy: totalTruth > 0 ? Double(intersection.reduce(0, +)) / Double(totalTruth) : nil,
                       fwIoU: totalTruth > 0 ? weighted / Double(totalTruth) : nil,
                       perClass: perClass, n: n)
    }

    /// What `vigil score segmentation` prints: the metrics and their bootstrap intervals
    /// (resampling images).
    public struct Score: Sendable, Codable {
        public var metrics: Metrics
        public var intervals: [String: Interval]

        public func encode(to encoder: any Encoder) throws {
            try metrics.encode(to: encoder)
            if !intervals.isEmpty {
                var c = encoder.container(keyedBy: ExtraKeys.self)
                try c.encode(intervals, forKey: .intervals)
            }
        }

        enum ExtraKeys: String, CodingKey { case intervals }
    }

    /// The metrics with intervals, by their JSON names.
    static let headline = ["miou", "mean_dice", "pixel_accuracy", "fw_iou"]

    static func headlineValues(_ m: Metrics) -> [Double?] { [m.miou, m.meanDice, m.pixelAccuracy, m.fwIoU] }

    /// Paired comparison of two models' masks of the same images in the same order: deltas
    /// (candidate − baseline) of mIoU, mean Dice, pixel accuracy and fwIoU with paired-bootstrap
    /// intervals over images and p-values.
    public static func compare(baseline: [ImageCounts], candidate: [ImageCounts], classes: Int,
                               bootstrap: Bootstrap) throws -> [NamedDelta] {
        guard baseline.map(\.id) == candidate.map(\.id), zip(baseline, candidate).allSatisfy({ $0.truth == $1.truth }) else {
            throw InputError("a paired comparison needs both models' masks of the same images, in the same order, against the same truth")
        }
        return bootstrap.pairedDeltas(headline, samples: baseline.count,
                                      baseline: { headlineValues(metrics(baseline, classes: classes, weights: $0)) },
                                      candidate: { headlineValues(metrics(candidate, classes: classes, weights: $0)) })
    }

    public static func score(_ images: [ImageCounts], classes: Int, bootstrap: Bootstrap?) -> Score {
        let intervals = bootstrap?.intervals(headline, samples: images.count) { weights in headlineValues(metrics(images, classes: classes, weights: weights)) } ?? [:]
        return Score(metrics: metrics(images, classes: classes), intervals: intervals)
    }
}

extension SemanticSegmentation.Score {
    /// The text `vigil score segmentation` prints: the metrics with their intervals, then one
    /// row per class.
    public var text: String {
        func shown(_ name: String, _ value: Double?) -> String { Formatting.percent(value, interval: intervals[name]) }
        let m = metrics
        let present = m.perClass.filter { $0.iou != nil }.count
        var lines = ["\(m.n) images, \(m.perClass.count) classes (\(present) in truth or prediction, which the means average)"
                     + (intervals.isEmpty ? "" : " · \(Int((intervals.values.first?.level ?? 0.95) * 100))% bootstrap intervals over images")]
        lines += TerminalReport.layout([
            ["mIoU", shown("miou", m.miou)], ["mean Dice", shown("mean_dice", m.meanDice)],
            ["pixel accuracy", shown("pixel_accuracy", m.pixelAccuracy)], ["frequency-weighted IoU", shown("fw_iou", m.fwIoU)],
        ])
        lines.append("")
        lines += TerminalReport.layout([["class", "IoU", "Dice", "truth pixels"]]
            + m.perClass.map { ["\($0.classIndex)", Formatting.percent($0.iou), Formatting.percent($0.dice), "\($0.support)"] }, rightAligned: [1, 2, 3])
        return lines.joined(separator: "\n")
    }
}

import Foundation

/// What a detector did on one golden-set image.
public struct DetectionOutcome: Sendable, Hashable, Codable {
    public var sampleID: String
    /// After the backend's post-processing, in the image's pixels.
    public var detections: [Detection]
    /// Inference time per image (NaN when unknown: detections read from a file).
    public var latencyMs: Double

    public init(sampleID: String, detections: [Detection], latencyMs: Double) {
        self.sampleID = sampleID
        self.detections = detections
        self.latencyMs = latencyMs
    }
}

/// One image at an operating point (IoU threshold, score threshold): which detections are
/// true positives, false positives, ignored (matched to a crowd region) or below the score
/// threshold, and which annotated objects were missed. The matching is COCO's greedy matching,
/// class by class; it is the one matcher of the operating point: `DetectionScorer` sums these
/// per image into the per-class TP / FP / FN and image FPR, and runs store and draw them.
public struct ImageMatch: Sendable, Hashable {
    /// One class on one image at the operating point.
    public struct ClassCounts: Sendable, Hashable {
        public var tp = 0, fp = 0, fn = 0
        /// The image has an annotation of the class (a crowd region counts).
        public var hasTruth = false
        /// The image has a detection of the class at or above the score threshold.
        public var hasDetection = false
    }

    /// An annotated object as matching sees it.
    public struct Truth: Sendable, Hashable {
        public var classIndex: Int
        public var box: Box
        public var isCrowd: Bool

        public init(classIndex: Int, box: Box, isCrowd: Bool) {
            self.classIndex = classIndex
            self.box = box
            self.isCrowd = isCrowd
        }
    }

    public enum Status: String, Sendable, Hashable, Codable {
        case truePositive = "tp"
        case falsePositive = "fp"
        /// Matched to a crowd region: neither rewarded nor counted as a false positive.
        case ignored
        case belowThreshold = "below_threshold"
    }

    /// The image's annotated objects, in the sample's order.
    public var truth: [Truth]
    /// Per detection of the outcome, in its order.
    public var statuses: [Status]
    /// Per detection: the index (in the sample's `objects`) of the object it matched.
    public var matchedObject: [Int?]
    /// Per object of the sample: true when it is not a crowd region and no detection matched it.
    public var missed: [Bool]
    /// Per class index present on the image (in its objects or detections).
    public var classCounts: [Int: ClassCounts]

    public var truePositives: Int { statuses.count { $0 == .truePositive } }
    public var falsePositives: Int { statuses.count { $0 == .falsePositive } }
    public var misses: Int { missed.count { $0 } }

    /// Matches one image's detections against its objects (class indices in the golden set's
    /// order). Detections scoring below `scoreThreshold` take no part.
    public static func match(objects: [Truth], detections: [Detection], iou: Double, scoreThreshold: Double) -> ImageMatch {
        var statuses = detections.map { $0.score >= scoreThreshold ? Status.falsePositive : .belowThreshold }
        var matchedObject = [Int?](repeating: nil, count: detections.count)
        var missed = objects.map { !$0.isCrowd }
        // Class by class: objects in the sample's order, kept detections by score (highest
        // first, ties in the outcome's order); one sort each, then runs of one class.
        let truthOrder = objects.indices.sorted { (objects[$0].classIndex, $0) < (objects[$1].classIndex, $1) }
        let keptOrder = detections.indices.filter { detections[$0].score >= scoreThreshold }.sorted { a, b in
            let da = detections[a], db = detections[b]
            if da.classIndex != db.classIndex { return da.classIndex < db.classIndex }
            return da.score != db.score ? da.score > db.score : a < b
        }
        var matcher = Matcher()
        var ious: [Double] = [], crowd: [Bool] = []
        var t = 0, d = 0
        while d < keptOrder.count {
            let k = detections[keptOrder[d]].classIndex
            while t < truthOrder.count && objects[truthOrder[t]].classIndex < k { t += 1 }
            var truthEnd = t, keptEnd = d
            while truthEnd < truthOrder.count && objects[truthOrder[truthEnd]].classIndex == k { truthEnd += 1 }
            while keptEnd < keptOrder.count && detections[keptOrder[keptEnd]].classIndex == k { keptEnd += 1 }
            let truth = truthOrder[t..<truthEnd], kept = keptOrder[d..<keptEnd]
            ious.removeAll(keepingCapacity: true)
            for di in kept {
                for gi in truth { ious.append(COCOEvaluation.iou(detections[di].box, objects[gi].box, crowd: objects[gi].isCrowd)) }
            }
            crowd.removeAll(keepingCapacity: true)
            for gi in truth { crowd.append(objects[gi].isCrowd) }
            matcher.match(ious: ious, detections: kept.count, truthIgnored: crowd, truthCrowd: crowd,
                          detectionOutside: Array(repeating: false, count: kept.count), thresholds: [iou])
            for (position, di) in kept.enumerated() {
                guard matcher.matched[position] != 0 else { continue }
                let object = truth[truth.startIndex + matcher.truthAtFirstThreshold[position]]
                matchedObject[di] = object
                if matcher.ignored[position] != 0 {
                    statuses[di] = .ignored
                } else {
                    statuses[di] = .truePositive
                    missed[object] = false
                }
            }
            t = truthEnd
            d = keptEnd
        }
        var counts: [Int: ClassCounts] = [:]
        for (d, status) in statuses.enumerated() where status != .belowThreshold {
            let k = detections[d].classIndex
            counts[k, default: ClassCounts()].hasDetection = true
            if status == .truePositive { counts[k]!.tp += 1 }
            if status == .falsePositive { counts[k]!.fp += 1 }
        }
        for (o, object) in objects.enumerated() {
            counts[object.classIndex, default: ClassCounts()].hasTruth = true
            if missed[o] { counts[object.classIndex]!.fn += 1 }
        }
        return ImageMatch(truth: objects, statuses: statuses, matchedObject: matchedObject, missed: missed, classCounts: counts)
    }
}

/// Detection metrics of one model on one scenario of a run, from the golden set's boxes and the
/// model's outcomes: COCO evaluation (`DetectionScorer`, equal to pycocotools), the operating
/// point, false positives per image and latency; plus what paired comparisons need.
public struct DetectionRunEvaluation: Sendable {
    public let scorer: DetectionScorer
    /// Per image, in the scenario's sample order.
    public let matches: [ImageMatch]
    public let metrics: DetectionMetrics

    /// `indices` are the scenario's samples (manifest indices), `outcomes` one per sample in the
    /// same order. Images get COCO ids 1… in that order, classes ids 1… in the golden set's
    /// order, and boxes' areas are width × height.
    public init(goldenSet: GoldenSet, indices: [Int], outcomes: [DetectionOutcome], iou: Double, scoreThreshold: Double) {
        precondition(indices.count == outcomes.count, "one outcome per sample")
        let classes = goldenSet.classes
        var images: [COCOGroundTruth.Image] = [], annotations: [COCOGroundTruth.Annotation] = [], results: [COCODetection] = []
        for (position, (index, outcome)) in zip(indices, outcomes).enumerated() {
            let sample = goldenSet.samples[index]
            let imageID = position + 1
            images.append(.init(id: imageID, width: sample.width, height: sample.height, fileName: sample.path))
            for object in sample.objects ?? [] {
                annotations.append(.init(id: annotations.count + 1, imageID: imageID,
                                         categoryID: goldenSet.classIndex(of: object.className)! + 1, bbox: object.box,
                                         area: object.box.width * object.box.height, isCrowd: object.isCrowd))
            }
            for d in outcome.detections {
                results.append(COCODetection(imageID: imageID, categoryID: d.classIndex + 1, bbox: d.box, score: d.score))
            }
        }
        let truth = COCOGroundTruth(images: images, annotations: annotations,
                                    categories: classes.enumerated().map { .init(id: $0.offset + 1, name: $0.element) })
        scorer = DetectionScorer(groundTruth: truth, detections: results)
        // Image ids 1… in sample order are also the scorer's (ascending) image order.
        matches = scorer.imageMatches(iou: iou, scoreThreshold: scoreThreshold)
        var metrics = scorer.metrics(iou: iou, scoreThreshold: scoreThreshold, matches: matches)
        let falsePositives = matches.reduce(0) { $0 + $1.falsePositives }
        metrics.fpPerImage = outcomes.isEmpty ? nil : Double(falsePositives) / Double(outcomes.count)
        if let latency = LatencySummary(outcomes.map(\.latencyMs)) {
            metrics.latencyP50Ms = latency.p50
            metrics.latencyP95Ms = latency.p95
            metrics.throughputIPS = latency.throughputIPS
        }
        self.metrics = metrics
    }

    /// The operating-point metrics of `key` for images weighted by how often a bootstrap
    /// replicate drew them (nil weights: each image once).
    func operatingPointValue(_ key: MetricKey, classIndex: Int?, weights: [Int]?) -> Double? {
        var tp = 0, fp = 0, fn = 0, negatives = 0, falsePositiveImages = 0, images = 0
        for (i, match) in matches.enumerated() {
            let w = weights?[i] ?? 1
            guard w > 0 else { continue }
            images += w
            if let k = classIndex {
                let c = match.classCounts[k] ?? ImageMatch.ClassCounts()
                tp += w * c.tp
                fp += w * c.fp
                fn += w * c.fn
                if !c.hasTruth {
                    negatives += w
                    if c.hasDetection { falsePositiveImages += w }
                }
            } else {
                fp += w * match.falsePositives
            }
        }
        func ratio(_ a: Int, _ b: Int) -> Double? { b == 0 ? nil : Double(a) / Double(b) }
        switch key.metric {
        case .precision: return ratio(tp, tp + fp)
        case .recall: return ratio(tp, tp + fn)
        case .fnr: return ratio(fn, tp + fn)
        case .imageFPR: return ratio(falsePositiveImages, negatives)
        case .fpPerImage: return ratio(fp, images)
        default: return nil
        }
    }

    /// Paired comparisons with the candidate's evaluation of the same images: candidate −
    /// baseline for each key, with paired-bootstrap intervals and p-values over images. mAP and
    /// mAP50 are recomputed from the weighted precision–recall curves; the operating-point
    /// metrics from weighted counts.
    public func compare(with candidate: DetectionRunEvaluation, keys: [MetricKey], classes: [String],
                        bootstrap: Bootstrap) -> [PairedDelta] {
        let classIndex = keys.map { key in key.className.flatMap { classes.firstIndex(of: $0) } }
        let replicates = bootstrap.run(samples: matches.count) { weights in
            var meanAP: (a: (map: Double?, map50: Double?), b: (map: Double?, map50: Double?))?
            return keys.enumerated().map { index, key -> Double? in
                switch key.metric {
                case .map, .map50:
                    if meanAP == nil { meanAP = (scorer.meanAP(weights: weights), candidate.scorer.meanAP(weights: weights)) }
                    let (a, b) = meanAP!
                    let (x, y) = key.metric == .map ? (a.map, b.map) : (a.map50, b.map50)
                    return y.flatMap { y in x.map { y - $0 } }
                default:
                    let x = operatingPointValue(key, classIndex: classIndex[index], weights: weights)
                    let y = candidate.operatingPointValue(key, classIndex: classIndex[index], weights: weights)
                    return y.flatMap { y in x.map { y - $0 } }
                }
            }
        }
        return keys.enumerated().map { index, key in
            let a = metrics.value(key), b = candidate.metrics.value(key)
            let deltas = replicates.map { $0[index] }
            return PairedDelta(metric: key, baseline: a, candidate: b, delta: b.flatMap { y in a.map { y - $0 } },
                               interval: bootstrap.interval(deltas), pValue: Bootstrap.pValue(deltas: deltas),
                               test: "paired-bootstrap", level: bootstrap.confidence, mcnemar: nil)
        }
    }
}

/// Median, 95th percentile and throughput of per-image latencies (numpy's percentile
/// definition); undefined when there are none or any is unknown (NaN).
public struct LatencySummary: Sendable, Hashable {
    public var p50: Double
    public var p95: Double
    /// Images per second of inference time; nil when the total time is zero.
    public var throughputIPS: Double?

    public init?(_ latencies: [Double]) {
        guard !latencies.isEmpty, !latencies.contains(where: \.isNaN) else { return nil }
        let sorted = latencies.sorted()
        var total = ExactSum()
        for value in sorted { total.add(value) }
        p50 = ClassificationAccumulator.percentile(sorted, 0.50)!
        p95 = ClassificationAccumulator.percentile(sorted, 0.95)!
        throughputIPS = total.value > 0 ? Double(sorted.count) / (total.value / 1000) : nil
    }
}

import Foundation

/// Per-category detection results: COCO AP, and counts at one operating point.
public struct DetectionClassMetrics: Sendable, Hashable, Codable {
    public var categoryID: Int
    public var name: String
    /// AP over IoU .50:.95 and at .50 (area all, 100 detections); nil without ground truth.
    public var ap: Double?
    public var ap50: Double?
    /// At the operating point (IoU threshold, score threshold): matched detections, unmatched
    /// detections, unmatched ground truth. Crowd regions and detections on them count in none.
    public var tp: Int
    public var fp: Int
    public var fn: Int
    public var precision: Double?
    public var recall: Double?
    public var fnr: Double?

    enum CodingKeys: String, CodingKey { case categoryID = "category_id", name, ap, ap50, tp, fp, fn, precision, recall, fnr }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(categoryID, forKey: .categoryID)
        try c.encode(name, forKey: .name)
        try c.encode(ap, forKey: .ap)
        try c.encode(ap50, forKey: .ap50)
        try c.encode(tp, forKey: .tp)
        try c.encode(fp, forKey: .fp)
        try c.encode(fn, forKey: .fn)
        try c.encode(precision, forKey: .precision)
        try c.encode(recall, forKey: .recall)
        try c.encode(fnr, forKey: .fnr)
    }
}

/// Image-level false positive rate of a category: of the images with no annotation of it, the
/// share with at least one detection of it at or above the score threshold.
public struct ImageFalsePositiveRate: Sendable, Hashable, Codable {
    public var categoryID: Int
    public var name: String
    /// nil when every image has the category.
    public var fpr: Double?
    public var negativeImages: Int
    public var falsePositiveImages: Int

    enum CodingKeys: String, CodingKey {
        case categoryID = "category_id", name, fpr, negativeImages = "negative_images", falsePositiveImages = "false_positive_images"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(categoryID, forKey: .categoryID)
        try c.encode(name, forKey: .name)
        try c.encode(fpr, forKey: .fpr)
        try c.encode(negativeImages, forKey: .negativeImages)
        try c.encode(falsePositiveImages, forKey: .falsePositiveImages)
    }
}

/// What `vigil score detection` reports. The first twelve values are pycocotools'
/// `COCOeval.summarize()` stats in its order and meaning.
public struct DetectionMetrics: Sendable, Hashable, Codable {
    public var map: Double
    public var map50: Double
    public var map75: Double
    public var mapSmall: Double
    public var mapMedium: Double
    public var mapLarge: Double
    public var ar1: Double
    public var ar10: Double
    public var ar100: Double
    public var arSmall: Double
    public var arMedium: Double
    public var arLarge: Double
    public var perClass: [DetectionClassMetrics]
    public var imageFPR: [ImageFalsePositiveRate]
    public var nImages: Int
    /// The operating point of the per-class counts and the image FPR.
    public var iou: Double
    public var scoreThreshold: Double
    /// False positives at the operating point over all classes, per image (runs only).
    public var fpPerImage: Double?
    /// Per-image inference latency (runs only; nil when unknown).
    public var latencyP50Ms: Double?
    public var latencyP95Ms: Double?
    public var throughputIPS: Double?
    /// The model's footprint (runs only; nil when its format cannot know it).
    public var modelSizeMB: Double?
    public var modelMemoryMB: Double?

    enum CodingKeys: String, CodingKey {
        case map, map50, map75, mapSmall = "map_small", mapMedium = "map_medium", mapLarge = "map_large"
        case ar1, ar10, ar100, arSmall = "ar_small", arMedium = "ar_medium", arLarge = "ar_large"
        case perClass = "per_class", imageFPR = "image_fpr", nImages = "n_images", iou, scoreThreshold = "score_threshold"
        case fpPerImage = "fp_per_image", latencyP50Ms = "latency_p50_ms", latencyP95Ms = "latency_p95_ms", throughputIPS = "throughput_ips"
        case modelSizeMB = "model_size_mb", modelMemoryMB = "model_memory_mb"
    }

    public init(map: Double, map50: Double, map75: Double, mapSmall: Double, mapMedium: Double, mapLarge: Double,
                ar1: Double, ar10: Double, ar100: Double, arSmall: Double, arMedium: Double, arLarge: Double,
                perClass: [DetectionClassMetrics], imageFPR: [ImageFalsePositiveRate], nImages: Int, iou: Double,
                scoreThreshold: Double) {
        self.map = map
        self.map50 = map50
        self.map75 = map75
        self.mapSmall = mapSmall
        self.mapMedium = mapMedium
        self.mapLarge = mapLarge
        self.ar1 = ar1
        self.ar10 = ar10
        self.ar100 = ar100
        self.arSmall = arSmall
        self.arMedium = arMedium
        self.arLarge = arLarge
        self.perClass = perClass
        self.imageFPR = imageFPR
        self.nImages = nImages
        self.iou = iou
        self.scoreThreshold = scoreThreshold
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(map, forKey: .map)
        try c.encode(map50, forKey: .map50)
        try c.encode(map75, forKey: .map75)
        try c.encode(mapSmall, forKey: .mapSmall)
        try c.encode(mapMedium, forKey: .mapMedium)
        try c.encode(mapLarge, forKey: .mapLarge)
        try c.encode(ar1, forKey: .ar1)
        try c.encode(ar10, forKey: .ar10)
        try c.encode(ar100, forKey: .ar100)
        try c.encode(arSmall, forKey: .arSmall)
        try c.encode(arMedium, forKey: .arMedium)
        try c.encode(arLarge, forKey: .arLarge)
        try c.encode(perClass, forKey: .perClass)
        try c.encode(imageFPR, forKey: .imageFPR)
        try c.encode(nImages, forKey: .nImages)
        try c.encode(iou, forKey: .iou)
        try c.encode(scoreThreshold, forKey: .scoreThreshold)
        try c.encodeIfPresent(fpPerImage, forKey: .fpPerImage)
        try c.encodeIfPresent(latencyP50Ms, forKey: .latencyP50Ms)
        try c.encodeIfPresent(latencyP95Ms, forKey: .latencyP95Ms)
        try c.encodeIfPresent(throughputIPS, forKey: .throughputIPS)
        try c.encodeIfPresent(modelSizeMB, forKey: .modelSizeMB)
        try c.encodeIfPresent(modelMemoryMB, forKey: .modelMemoryMB)
    }

    /// The value of `key`; nil when it is undefined, the class is unknown, or the metric is not
    /// a detection metric. pycocotools' −1 ("no ground truth") becomes nil.
    public func value(_ key: MetricKey) -> Double? {
        func defined(_ v: Double) -> Double? { v < 0 ? nil : v }
        func perClass(_ read: (DetectionClassMetrics) -> Double?) -> Double? {
            guard let name = key.className, let entry = self.perClass.first(where: { $0.name == name }) else { return nil }
            return read(entry)
        }
        switch key.metric {
        case .map: return defined(map)
        case .map50: return defined(map50)
        case .map75: return defined(map75)
        case .ar100: return defined(ar100)
        case .ap: return perClass { $0.ap }
        case .ap50: return perClass { $0.ap50 }
        case .precision: return perClass { $0.precision }
        case .recall: return perClass { $0.recall }
        case .fnr: return perClass { $0.fnr }
        case .imageFPR:
            guard let name = key.className else { return nil }
            return imageFPR.first { $0.name == name }?.fpr
        case .fpPerImage: return fpPerImage
        case .latencyP50: return latencyP50Ms
        case .latencyP95: return latencyP95Ms
        case .throughput: return throughputIPS
        case .modelSizeMB: return modelSizeMB
        case .modelMemoryMB: return modelMemoryMB
        default: return nil
        }
    }

    /// The twelve summary numbers, in pycocotools' order.
    public var stats: [Double] {
        [map, map50, map75, mapSmall, mapMedium, mapLarge, ar1, ar10, ar100, arSmall, arMedium, arLarge]
    }
}

/// Detection metrics for one set of detections against COCO ground truth.
///
/// ```swift
/// let truth = try COCOGroundTruth.load(URL(fileURLWithPath: "gt.json"))
/// let detections = try COCODetection.load(URL(fileURLWithPath: "dt.json"), groundTruth: truth)
/// let scorer = DetectionScorer(groundTruth: truth, detections: detections)
/// print(scorer.metrics(iou: 0.5, scoreThreshold: 0.3).map)
/// ```
public struct DetectionScorer: Sendable {
    public let groundTruth: COCOGroundTruth
    public let detections: [COCODetection]
    public let evaluation: COCOEvaluation

    public init(groundTruth: COCOGroundTruth, detections: [COCODetection]) {
        self.groundTruth = groundTruth
        self.detections = detections
        evaluation = COCOEvaluation(groundTruth: groundTruth, detections: detections)
    }

    public func metrics(iou: Double = 0.5, scoreThreshold: Double = 0) -> DetectionMetrics {
        metrics(iou: iou, scoreThreshold: scoreThreshold, matches: imageMatches(iou: iou, scoreThreshold: scoreThreshold))
    }

    /// The metrics with the operating point summed from `matches`, which must be
    /// `imageMatches(iou:scoreThreshold:)` for the same operating point.
    func metrics(iou: Double, scoreThreshold: Double, matches: [ImageMatch]) -> DetectionMetrics {
        let s = evaluation.stats
        let categories = evaluation.categories
        func ratio(_ a: Int, _ b: Int) -> Double? { b == 0 ? nil : Double(a) / Double(b) }
        var perClass: [DetectionClassMetrics] = [], imageFPR: [ImageFalsePositiveRate] = []
        for (k, category) in categories.enumerated() {
            var c = ImageMatch.ClassCounts(), negatives = 0, falsePositiveImages = 0
            for counts in matches.map({ $0.classCounts[k] ?? ImageMatch.ClassCounts() }) {
                c.tp += counts.tp
                c.fp += counts.fp
                c.fn += counts.fn
                if !counts.hasTruth {
                    negatives += 1
                    if counts.hasDetection { falsePositiveImages += 1 }
                }
            }
            let (ap, ap50) = evaluation.averagePrecision(category: k)
            perClass.append(DetectionClassMetrics(categoryID: category.id, name: category.name, ap: ap, ap50: ap50,
                                                  tp: c.tp, fp: c.fp, fn: c.fn, precision: ratio(c.tp, c.tp + c.fp),
                                                  recall: ratio(c.tp, c.tp + c.fn), fnr: ratio(c.fn, c.tp + c.fn)))
            imageFPR.append(ImageFalsePositiveRate(categoryID: category.id, name: category.name,
                                                   fpr: ratio(falsePositiveImages, negatives), negativeImages: negatives,
                                                   falsePositiveImages: falsePositiveImages))
        }
        return DetectionMetrics(map: s[0], map50: s[1], map75: s[2], mapSmall: s[3], mapMedium: s[4], mapLarge: s[5],
                                ar1: s[6], ar10: s[7], ar100: s[8], arSmall: s[9], arMedium: s[10], arLarge: s[11],
                                perClass: perClass, imageFPR: imageFPR, nImages: evaluation.imageIDs.count,
                                iou: iou, scoreThreshold: scoreThreshold)
    }

    /// The operating point image by image, in `evaluation.imageIDs` order: greedy COCO matching
    /// at one IoU threshold over all detections with score ≥ the threshold (no per-image cap: an
    /// operating point is about what a deployed detector emits), area range "all", crowd regions
    /// ignored (`ImageMatch.match`). Class indices are positions in `evaluation.categories`;
    /// detections of other categories take no part.
    public func imageMatches(iou: Double, scoreThreshold: Double) -> [ImageMatch] {
        let categoryIndex = IDIndex(evaluation.categories.map(\.id)), imageIndex = IDIndex(evaluation.imageIDs)
        let annotations = groundTruth.annotations, detections = self.detections
        let truthByImage = Buckets(count: evaluation.imageIDs.count, items: annotations.count) {
            categoryIndex[annotations[$0].categoryID] == nil ? nil : imageIndex[annotations[$0].imageID]
        }
        let detectionsByImage = Buckets(count: evaluation.imageIDs.count, items: detections.count) {
            categoryIndex[detections[$0].categoryID] == nil ? nil : imageIndex[detections[$0].imageID]
        }
        let slots = SharedSlots<ImageMatch>(count: evaluation.imageIDs.count)
        DispatchQueue.concurrentPerform(iterations: evaluation.imageIDs.count) { i in
            let objects = truthByImage[i].map {
                let a = annotations[Int($0)]
                return ImageMatch.Truth(classIndex: categoryIndex[a.categoryID]!, box: a.bbox, isCrowd: a.isCrowd)
            }
            let found = detectionsByImage[i].map {
                let d = detections[Int($0)]
                return Detection(classIndex: categoryIndex[d.categoryID]!, box: d.bbox, score: d.score)
            }
            slots[i] = ImageMatch.match(objects: objects, detections: found, iou: iou, scoreThreshold: scoreThreshold)
        }
        return slots.values
    }

    /// mAP (IoU .50:.95) and mAP50 over categories with ground truth, for images weighted by how
    /// often a bootstrap replicate drew them (`weights[imageIndex]`, images in id order).
    /// Detections of equal score are taken in image order, the copies of a drawn image together.
    func meanAP(weights: [Int]) -> (map: Double?, map50: Double?) {
        var aps = PlainSum(), ap50s = PlainSum(), count = 0
        let R = COCOEvaluation.R, T = COCOEvaluation.T
        for ranked in evaluation.ranked {
            guard let curve = ranked.curve(maxDetections: COCOEvaluation.maxDetections.last!, weights: weights) else { continue }
            aps.add(curve.precision.reduce(0, +) / Double(T * R))
            ap50s.add(curve.precision[0..<R].reduce(0, +) / Double(R))
            count += 1
        }
        return count == 0 ? (nil, nil) : (aps.value / Double(count), ap50s.value / Double(count))
    }

    /// Bootstrap intervals for mAP and mAP50, resampling images.
    public func intervals(bootstrap: Bootstrap) -> (map: Interval?, map50: Interval?) {
        let replicates = bootstrap.run(samples: evaluation.imageIDs.count) { weights in
            let (map, map50) = meanAP(weights: weights)
            return [map, map50]
        }
        return (bootstrap.interval(replicates.map { $0[0] }), bootstrap.interval(replicates.map { $0[1] }))
    }

    /// Paired comparison with another detector's results on the same ground truth: deltas of
    /// mAP and mAP50 (candidate − self) with paired-bootstrap intervals and p-values.
    public func compare(with candidate: DetectionScorer, bootstrap: Bootstrap) -> [PairedDelta] {
        let replicates = bootstrap.run(samples: evaluation.imageIDs.count) { weights in
            let a = meanAP(weights: weights), b = candidate.meanAP(weights: weights)
            return [b.map.flatMap { x in a.map.map { x - $0 } }, b.map50.flatMap { x in a.map50.map { x - $0 } }]
        }
        let a = evaluation.stats, b = candidate.evaluation.stats
        return [(Metric.map, 0), (Metric.map50, 1)].map { metric, index in
            let deltas = replicates.map { $0[index] }
            let av = a[index] < 0 ? nil : a[index], bv = b[index] < 0 ? nil : b[index]
            return PairedDelta(metric: MetricKey(metric), baseline: av, candidate: bv,
                               delta: bv.flatMap { x in av.map { x - $0 } }, interval: bootstrap.interval(deltas),
                               pValue: Bootstrap.pValue(deltas: deltas), test: "paired-bootstrap", level: bootstrap.confidence,
                               mcnemar: nil)
        }
    }
}

import Foundation

/// Bounding-box detection evaluation with the semantics of pycocotools' `COCOeval` (iouType
/// `bbox`): IoU thresholds .50:.05:.95, 101 recall points, the all/small/medium/large area
/// ranges, at most 1/10/100 detections per image, crowd regions as ignore regions, greedy
/// matching of detections in descending score order, and the same tie rules (stable sorts:
/// detections of equal score keep image order, then their order in the results file).
///
/// One deliberate difference: pycocotools records a match by the matched annotation's id and
/// tests `id != 0` for "matched", so a correct detection of an annotation whose id is 0 counts
/// as a false positive there. Vigil keeps a separate matched flag, so annotation id 0 is an id
/// like any other. (Results are identical whenever no annotation has id 0.)
public struct COCOEvaluation: Sendable {
    public static let iouThresholds = numpyLinspace(0.5, 0.95, 10)
    public static let recallThresholds = numpyLinspace(0, 1, 101)
    public static let areaRanges: [(label: String, lower: Double, upper: Double)] = [
        ("all", 0, 1e10), ("small", 0, 32 * 32), ("medium", 32 * 32, 96 * 96), ("large", 96 * 96, 1e10),
    ]
    public static let maxDetections = [1, 10, 100]

    /// `numpy.linspace(start, stop, count)`: i · ((stop − start) / (count − 1)) + start, the last
    /// value set to `stop`, so thresholds equal pycocotools' to the last bit.
    public static func numpyLinspace(_ start: Double, _ stop: Double, _ count: Int) -> [Double] {
        let step = (stop - start) / Double(count - 1)
        return (0..<count).map { $0 == count - 1 ? stop : Double($0) * step + start }
    }

    public let imageIDs: [Int]
    public let categories: [COCOGroundTruth.Category]
    /// precision[t][r][k][a][m] flattened (T × R × K × A × M); −1 where a category has no
    /// ground truth (as pycocotools).
    public let precision: [Double]
    /// recall[t][k][a][m] flattened; −1 where a category has no ground truth.
    public let recall: [Double]
    /// Sorted detections per category (area "all", up to 100 per image), kept for the bootstrap.
    let ranked: [RankedDetections]

    static var T: Int { iouThresholds.count }
    static var R: Int { recallThresholds.count }
    static var A: Int { areaRanges.count }
    static var M: Int { maxDetections.count }

    public init(groundTruth: COCOGroundTruth, detections: [COCODetection]) {
        let imageIDs = Array(Set(groundTruth.images.map(\.id))).sorted()
        let categories = groundTruth.categories.sorted { $0.id < $1.id }
        let imageIndex = Dictionary(uniqueKeysWithValues: imageIDs.enumerated().map { ($1, $0) })
        let categoryIndex = Dictionary(uniqueKeysWithValues: categories.enumerated().map { ($1.id, $0) })
        let K = categories.count, I = imageIDs.count

        // Ground truth and detections per category, then per image, in file order.
        var truthByCategory = [[Int: [Int]]](repeating: [:], count: K)
        for (index, a) in groundTruth.annotations.enumerated() {
            guard let k = categoryIndex[a.categoryID], let i = imageIndex[a.imageID] else { continue }
            truthByCategory[k][i, default: []].append(index)
        }
        var detectionsByCategory = [[Int: [Int]]](repeating: [:], count: K)
        for (index, d) in detections.enumerated() {
            guard let k = categoryIndex[d.categoryID], let i = imageIndex[d.imageID] else { continue }
            detectionsByCategory[k][i, default: []].append(index)
        }

        let T = Self.T, R = Self.R, A = Self.A, M = Self.M
        let precision = SharedDoubles(repeating: -1, count: T * R * K * A * M)
        let recall = SharedDoubles(repeating: -1, count: T * K * A * M)
        let rankedSlots = SharedSlots<RankedDetections>(count: K)
        let annotations = groundTruth.annotations
        let truth = truthByCategory, found = detectionsByCategory
        DispatchQueue.concurrentPerform(iterations: K) { k in
            let evaluated = Self.evaluateCategory(truth: truth[k], detections: found[k],
                                                  annotations: annotations, results: detections, images: I)
            for a in 0..<A {
                for (m, maxDet) in Self.maxDetections.enumerated() {
                    guard let curve = evaluated[a].curve(maxDetections: maxDet) else { continue }
                    for t in 0..<T {
                        recall[((t * K + k) * A + a) * M + m] = curve.recall[t]
                        for r in 0..<R {
                            precision[(((t * R + r) * K + k) * A + a) * M + m] = curve.precision[t * R + r]
                        }
                    }
                }
            }
            rankedSlots[k] = evaluated[0].limited(to: Self.maxDetections.last!)
        }
        self.imageIDs = imageIDs
        self.categories = categories
        self.precision = precision.values
        self.recall = recall.values
        ranked = rankedSlots.values
    }

    // MARK: - Per image and category (pycocotools' computeIoU + evaluateImg)

    /// pycocotools' `bbIou`: intersection over union, or over the detection's area when the
    /// ground truth is a crowd region. Areas here are width × height of the boxes.
    static func iou(_ d: Box, _ g: Box, crowd: Bool) -> Double {
        let w = min(d.width + d.x, g.width + g.x) - max(d.x, g.x)
        if w <= 0 { return 0 }
        let h = min(d.height + d.y, g.height + g.y) - max(d.y, g.y)
        if h <= 0 { return 0 }
        let intersection = w * h
        let detectionArea = d.width * d.height
        let union = crowd ? detectionArea : detectionArea + g.width * g.height - intersection
        return intersection / union
    }

    /// One image and category: its detections by score, highest first (ties keep file order, a
    /// stable sort), at most `cap` of them, and their IoU with each ground-truth box (D × G).
    static func cell(truth: [Int], detections: [Int], annotations: [COCOGroundTruth.Annotation],
                     results: [COCODetection], cap: Int = .max) -> (detections: [Int], ious: [Double]) {
        let sorted = Array(detections.sorted {
            results[$0].score != results[$1].score ? results[$0].score > results[$1].score : $0 < $1
        }.prefix(cap))
        let G = truth.count
        var ious = [Double](repeating: 0, count: sorted.count * G)
        for (d, di) in sorted.enumerated() {
            for (g, gi) in truth.enumerated() {
                ious[d * G + g] = iou(results[di].bbox, annotations[gi].bbox, crowd: annotations[gi].isCrowd)
            }
        }
        return (sorted, ious)
    }

    /// The outcome of greedy matching on one image and category at several IoU thresholds.
    struct Matching {
        /// Per detection (in score order): bit t set when matched at threshold t.
        var matched: [UInt16]
        /// Per detection: bit t set when ignored at threshold t (matched to an ignored ground
        /// truth, or unmatched with an area outside the range).
        var ignored: [UInt16]
        var nonIgnoredTruth: Int
        /// Per detection: the ground-truth index (file order) it matched at the first threshold,
        /// or -1.
        var truthAtFirstThreshold: [Int]
    }

    /// pycocotools' evaluateImg matching. `ious` is D × G (detections in score order, ground
    /// truth in file order); ground truth is visited non-ignored first.
    static func match(ious: [Double], detections D: Int, truthIgnored: [Bool], truthCrowd: [Bool],
                      detectionOutside: [Bool], thresholds: [Double]) -> Matching {
        let G = truthIgnored.count
        let order = (0..<G).filter { !truthIgnored[$0] } + (0..<G).filter { truthIgnored[$0] }
        var matched = [UInt16](repeating: 0, count: D), ignored = [UInt16](repeating: 0, count: D)
        var taken = [Bool](repeating: false, count: G)
        var truthAtFirst = [Int](repeating: -1, count: D)
        for (t, threshold) in thresholds.enumerated() {
            for position in 0..<G { taken[position] = false }
            let bit = UInt16(1) << UInt16(t)
            for d in 0..<D {
                var best = min(threshold, 1 - 1e-10)
                var m = -1   // position in `order`
                for (position, g) in order.enumerated() {
                    if taken[position] && !truthCrowd[g] { continue }
                    if m > -1 && !truthIgnored[order[m]] && truthIgnored[g] { break }
                    let value = ious[d * G + g]
                    if value < best { continue }
                    best = value
                    m = position
                }
                if m == -1 {
                    if detectionOutside[d] { ignored[d] |= bit }
                    continue
                }
                matched[d] |= bit
                if t == 0 { truthAtFirst[d] = order[m] }
                if truthIgnored[order[m]] { ignored[d] |= bit }
                taken[m] = true
            }
        }
        return Matching(matched: matched, ignored: ignored, nonIgnoredTruth: truthIgnored.filter { !$0 }.count,
                        truthAtFirstThreshold: truthAtFirst)
    }

    /// Evaluates one category on every image, for each area range: the detections (up to 100
    /// per image, by score) with their match flags, in pycocotools' accumulate order.
    static func evaluateCategory(truth: [Int: [Int]], detections: [Int: [Int]], annotations: [COCOGroundTruth.Annotation],
                                 results: [COCODetection], images: Int) -> [RankedDetections] {
        let cap = maxDetections.last!
        var perArea = (0..<A).map { _ in RankedDetections(images: images) }
        for image in Set(truth.keys).union(detections.keys).sorted() {
            let truthIndices = truth[image] ?? []
            let (detectionIndices, ious) = cell(truth: truthIndices, detections: detections[image] ?? [],
                                                annotations: annotations, results: results, cap: cap)
            let D = detectionIndices.count
            let crowd = truthIndices.map { annotations[$0].isCrowd }
            let scores = detectionIndices.map { results[$0].score }
            for (a, range) in areaRanges.enumerated() {
                let ignoredTruth = truthIndices.map {
                    annotations[$0].isCrowd || annotations[$0].area < range.lower || annotations[$0].area > range.upper
                }
                let outside = detectionIndices.map { index -> Bool in
                    let area = results[index].bbox.width * results[index].bbox.height
                    return area < range.lower || area > range.upper
                }
                let matching = match(ious: ious, detections: D, truthIgnored: ignoredTruth, truthCrowd: crowd,
                                     detectionOutside: outside, thresholds: iouThresholds)
                perArea[a].append(image: image, scores: scores, matching: matching)
            }
        }
        for a in 0..<A { perArea[a].sortByScore() }
        return perArea
    }

    // MARK: - Summaries (pycocotools' summarize)

    func precisionSlice(t: Int?, k: Int? = nil, area: String, maxDetections maxDet: Int) -> [Double] {
        let K = categories.count
        guard let a = Self.areaRanges.firstIndex(where: { $0.label == area }),
              let m = Self.maxDetections.firstIndex(of: maxDet) else { return [] }
        var values: [Double] = []
        for tt in t.map({ [$0] }) ?? Array(0..<Self.T) {
            for r in 0..<Self.R {
                for kk in k.map({ [$0] }) ?? Array(0..<K) {
                    values.append(precision[(((tt * Self.R + r) * K + kk) * Self.A + a) * Self.M + m])
                }
            }
        }
        return values
    }

    func recallSlice(t: Int? = nil, area: String, maxDetections maxDet: Int) -> [Double] {
        let K = categories.count
        guard let a = Self.areaRanges.firstIndex(where: { $0.label == area }),
              let m = Self.maxDetections.firstIndex(of: maxDet) else { return [] }
        var values: [Double] = []
        for tt in t.map({ [$0] }) ?? Array(0..<Self.T) {
            for kk in 0..<K { values.append(recall[((tt * K + kk) * Self.A + a) * Self.M + m]) }
        }
        return values
    }

    /// The mean of the values that are not −1, or −1 when there are none (pycocotools' rule).
    static func meanDefined(_ values: [Double]) -> Double {
        var sum = ExactSum(), count = 0
        for value in values where value > -1 {
            sum.add(value)
            count += 1
        }
        return count == 0 ? -1 : sum.value / Double(count)
    }

    static func thresholdIndex(_ iou: Double) -> Int? { iouThresholds.firstIndex(of: iou) }

    /// The 12 numbers of `COCOeval.summarize()`, in its order: AP, AP50, AP75, AP small, medium,
    /// large, AR1, AR10, AR100, AR small, medium, large. −1 where pycocotools gives −1.
    public var stats: [Double] {
        let t50 = Self.thresholdIndex(0.5)!, t75 = Self.thresholdIndex(0.75)!
        return [
            Self.meanDefined(precisionSlice(t: nil, area: "all", maxDetections: 100)),
            Self.meanDefined(precisionSlice(t: t50, area: "all", maxDetections: 100)),
            Self.meanDefined(precisionSlice(t: t75, area: "all", maxDetections: 100)),
            Self.meanDefined(precisionSlice(t: nil, area: "small", maxDetections: 100)),
            Self.meanDefined(precisionSlice(t: nil, area: "medium", maxDetections: 100)),
            Self.meanDefined(precisionSlice(t: nil, area: "large", maxDetections: 100)),
            Self.meanDefined(recallSlice(area: "all", maxDetections: 1)),
            Self.meanDefined(recallSlice(area: "all", maxDetections: 10)),
            Self.meanDefined(recallSlice(area: "all", maxDetections: 100)),
            Self.meanDefined(recallSlice(area: "small", maxDetections: 100)),
            Self.meanDefined(recallSlice(area: "medium", maxDetections: 100)),
            Self.meanDefined(recallSlice(area: "large", maxDetections: 100)),
        ]
    }

    /// AP (IoU .50:.95) and AP50 of one category (area all, 100 detections); nil when the
    /// category has no ground truth.
    public func averagePrecision(category k: Int) -> (ap: Double?, ap50: Double?) {
        let ap = Self.meanDefined(precisionSlice(t: nil, k: k, area: "all", maxDetections: 100))
        let ap50 = Self.meanDefined(precisionSlice(t: Self.thresholdIndex(0.5)!, k: k, area: "all", maxDetections: 100))
        return (ap < 0 ? nil : ap, ap50 < 0 ? nil : ap50)
    }
}

/// One category's detections over all images for one area range, with their match flags, in
/// the order pycocotools accumulates them: by score descending, ties by image, then by rank in
/// the image.
struct RankedDetections: Sendable {
    var image: [Int32] = []
    var rank: [Int16] = []
    var score: [Double] = []
    var matched: [UInt16] = []
    var ignored: [UInt16] = []
    /// Non-ignored ground truth per image (indexed by image index).
    var truthPerImage: [Int32]
    var nonIgnoredTruth = 0

    init(images: Int) {
        truthPerImage = [Int32](repeating: 0, count: images)
    }

    mutating func append(image i: Int, scores: [Double], matching: COCOEvaluation.Matching) {
        for d in 0..<scores.count {
            image.append(Int32(i))
            rank.append(Int16(d))
            score.append(scores[d])
            matched.append(matching.matched[d])
            ignored.append(matching.ignored[d])
        }
        truthPerImage[i] = Int32(matching.nonIgnoredTruth)
        nonIgnoredTruth += matching.nonIgnoredTruth
    }

    /// Appended in (image, rank) order; a stable sort by score gives pycocotools' order.
    mutating func sortByScore() {
        let order = score.indices.sorted { score[$0] != score[$1] ? score[$0] > score[$1] : $0 < $1 }
        image = order.map { image[$0] }
        rank = order.map { rank[$0] }
        score = order.map { score[$0] }
        matched = order.map { matched[$0] }
        ignored = order.map { ignored[$0] }
    }

    /// Only the detections ranked below `limit` in their image (order preserved).
    func limited(to limit: Int) -> RankedDetections {
        var copy = RankedDetections(images: truthPerImage.count)
        copy.truthPerImage = truthPerImage
        copy.nonIgnoredTruth = nonIgnoredTruth
        for index in score.indices where Int(rank[index]) < limit {
            copy.image.append(image[index])
            copy.rank.append(rank[index])
            copy.score.append(score[index])
            copy.matched.append(matched[index])
            copy.ignored.append(ignored[index])
        }
        return copy
    }

    /// Precision at the 101 recall points and final recall for every IoU threshold (pycocotools'
    /// accumulate), or nil when the category has no detections and no ground truth here, or no
    /// non-ignored ground truth (pycocotools leaves those at −1).
    func curve(maxDetections maxDet: Int, weights: [Int]? = nil) -> PrecisionRecallCurve? {
        let truth: Int
        if let weights {
            truth = zip(truthPerImage, weights).reduce(0) { $0 + Int($1.0) * $1.1 }
        } else {
            truth = nonIgnoredTruth
        }
        guard truth > 0 else { return nil }
        let T = COCOEvaluation.T, R = COCOEvaluation.R
        var precision = [Double](repeating: 0, count: T * R)
        var recall = [Double](repeating: 0, count: T)
        var rc: [Double] = [], pr: [Double] = []
        rc.reserveCapacity(score.count)
        pr.reserveCapacity(score.count)
        let spacing = Double.ulpOfOne   // numpy.spacing(1)
        for t in 0..<T {
            let bit = UInt16(1) << UInt16(t)
            rc.removeAll(keepingCapacity: true)
            pr.removeAll(keepingCapacity: true)
            var tp = 0, fp = 0
            func add(_ index: Int) {
                if ignored[index] & bit == 0 {
                    if matched[index] & bit != 0 { tp += 1 } else { fp += 1 }
                }
                // Ignored detections still add a point (pycocotools keeps them in the cumsum).
                rc.append(Double(tp) / Double(truth))
                pr.append(Double(tp) / (Double(fp) + Double(tp) + spacing))
            }
            var start = 0
            while start < score.count {
                // A run: detections of one image with one score. With weights, an image drawn w
                // times contributes its run w times in a row — the order pycocotools would use if
                // the copies were distinct images with ids next to each other.
                var end = start + 1
                while end < score.count, score[end] == score[start], image[end] == image[start] { end += 1 }
                let copies = weights?[Int(image[start])] ?? 1
                for _ in 0..<copies {
                    for index in start..<end where Int(rank[index]) < maxDet { add(index) }
                }
                start = end
            }
            recall[t] = rc.last ?? 0
            // Precision envelope: non-increasing from the right.
            if pr.count > 1 {
                for i in stride(from: pr.count - 1, to: 0, by: -1) where pr[i] > pr[i - 1] {
                    pr[i - 1] = pr[i]
                }
            }
            // numpy.searchsorted(rc, recThrs, side="left"); thresholds beyond the last recall stay 0.
            var position = 0
            for (r, threshold) in COCOEvaluation.recallThresholds.enumerated() {
                while position < rc.count && rc[position] < threshold { position += 1 }
                guard position < rc.count else { break }
                precision[t * R + r] = pr[position]
            }
        }
        return PrecisionRecallCurve(precision: precision, recall: recall)
    }
}

struct PrecisionRecallCurve {
    /// T × R, row-major by threshold.
    var precision: [Double]
    var recall: [Double]
}

/// Fixed-size buffers written from concurrentPerform iterations, each index by one iteration.
final class SharedDoubles: @unchecked Sendable {
    private let storage: UnsafeMutableBufferPointer<Double>

    init(repeating value: Double, count: Int) {
        storage = .allocate(capacity: count)
        storage.initialize(repeating: value)
    }

    deinit { storage.deallocate() }

    subscript(index: Int) -> Double {
        get { storage[index] }
        set { storage[index] = newValue }
    }

    var values: [Double] { Array(storage) }
}

final class SharedSlots<Value>: @unchecked Sendable {
    private let storage: UnsafeMutableBufferPointer<Value?>

    init(count: Int) {
        storage = .allocate(capacity: count)
        storage.initialize(repeating: nil)
    }

    deinit {
        storage.deinitialize()
        storage.deallocate()
    }

    subscript(index: Int) -> Value? {
        get { storage[index] }
        set { storage[index] = newValue }
    }

    var values: [Value] { storage.map { $0! } }
}

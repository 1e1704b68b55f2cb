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
        let imageIndex = IDIndex(imageIDs), categoryIndex = IDIndex(categories.map(\.id))
        let K = categories.count, I = imageIDs.count
        let annotations = groundTruth.annotations
        // Image indices per annotation and detection (−1: not an image of the evaluation).
        let truthImages = annotations.map { Int32(imageIndex[$0.imageID] ?? -1) }
        let detectionImages = detections.map { Int32(imageIndex[$0.imageID] ?? -1) }
        let truth = Buckets(count: K, items: annotations.count) {
            truthImages[$0] < 0 ? nil : categoryIndex[annotations[$0].categoryID]
        }
        let found = Buckets(count: K, items: detections.count) {
            detectionImages[$0] < 0 ? nil : categoryIndex[detections[$0].categoryID]
        }

        let T = Self.T, R = Self.R, A = Self.A, M = Self.M
        let precision = SharedDoubles(repeating: -1, count: T * R * K * A * M)
        let recall = SharedDoubles(repeating: -1, count: T * K * A * M)
        let rankedSlots = SharedSlots<RankedDetections>(count: K)
        DispatchQueue.concurrentPerform(iterations: K) { k in
            let evaluated = Self.evaluateCategory(truth: truth[k], truthImages: truthImages,
                                                  detections: found[k], detectionImages: detectionImages,
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
            // Cells hold at most 100 detections (the largest cap), so area "all" is what the
            // bootstrap needs as it is.
            rankedSlots[k] = evaluated[0]
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

    /// Evaluates one category on every image, for each area range: the detections (up to 100
    /// per image, by score) with their match flags, in pycocotools' accumulate order. `truth`
    /// and `detections` are the category's annotation and result indices in file order;
    /// `truthImages` and `detectionImages` give each one's image index.
    static func evaluateCategory(truth: ArraySlice<Int32>, truthImages: [Int32], detections: ArraySlice<Int32>,
                                 detectionImages: [Int32], annotations: [COCOGroundTruth.Annotation],
                                 results: [COCODetection], images: Int) -> [RankedDetections] {
        let cap = maxDetections.last!
        let allThresholds = UInt16((1 << T) - 1)
        // Cells (image, category) become contiguous runs: ground truth by image then file order;
        // detections by image, then score (highest first), then file order, as pycocotools'
        // stable sort of each cell by score.
        let truthOrder = truth.sorted { (truthImages[Int($0)], $0) < (truthImages[Int($1)], $1) }
        let detectionOrder = detections.sorted { a, b in
            let ia = detectionImages[Int(a)], ib = detectionImages[Int(b)]
            if ia != ib { return ia < ib }
            let sa = results[Int(a)].score, sb = results[Int(b)].score
            return sa != sb ? sa > sb : a < b
        }
        // Columns shared by the area ranges (the same detections in the same order), and the
        // match flags of each range.
        var imageColumn: [Int32] = [], rankColumn: [Int16] = [], scoreColumn: [Double] = []
        var matched = [[UInt16]](repeating: [], count: A), ignored = [[UInt16]](repeating: [], count: A)
        var truthPerImage = [[Int32]](repeating: [Int32](repeating: 0, count: images), count: A)
        var nonIgnoredTruth = [Int](repeating: 0, count: A)
        // Per-cell buffers, reused: matching millions of cells allocates nothing per cell.
        var matcher = Matcher()
        var ious: [Double] = [], crowd: [Bool] = [], truthIgnored: [Bool] = [], outside: [Bool] = []
        var truthAreas: [Double] = [], detectionAreas: [Double] = []
        var t = 0, d = 0
        while t < truthOrder.count || d < detectionOrder.count {
            let image = min(t < truthOrder.count ? truthImages[Int(truthOrder[t])] : .max,
                            d < detectionOrder.count ? detectionImages[Int(detectionOrder[d])] : .max)
            var truthEnd = t, detectionsEnd = d
            while truthEnd < truthOrder.count && truthImages[Int(truthOrder[truthEnd])] == image { truthEnd += 1 }
            while detectionsEnd < detectionOrder.count && detectionImages[Int(detectionOrder[detectionsEnd])] == image {
                detectionsEnd += 1
            }
            let cellTruth = truthOrder[t..<truthEnd], cellDetections = detectionOrder[d..<min(detectionsEnd, d + cap)]
            let G = cellTruth.count, D = cellDetections.count
            crowd.removeAll(keepingCapacity: true)
            truthAreas.removeAll(keepingCapacity: true)
            for g in cellTruth {
                crowd.append(annotations[Int(g)].isCrowd)
                truthAreas.append(annotations[Int(g)].area)
            }
            ious.removeAll(keepingCapacity: true)
            detectionAreas.removeAll(keepingCapacity: true)
            for (rank, di) in cellDetections.enumerated() {
                let result = results[Int(di)]
                for g in cellTruth {
                    ious.append(iou(result.bbox, annotations[Int(g)].bbox, crowd: annotations[Int(g)].isCrowd))
                }
                detectionAreas.append(result.bbox.width * result.bbox.height)
                imageColumn.append(image)
                rankColumn.append(Int16(rank))
                scoreColumn.append(result.score)
            }
            for (a, range) in areaRanges.enumerated() {
                if G == 0 {
                    // Nothing to match: a detection is ignored at every threshold when its area is
                    // outside the range, a false positive otherwise.
                    for area in detectionAreas {
                        matched[a].append(0)
                        ignored[a].append(area < range.lower || area > range.upper ? allThresholds : 0)
                    }
                    continue
                }
                truthIgnored.removeAll(keepingCapacity: true)
                for g in 0..<G { truthIgnored.append(crowd[g] || truthAreas[g] < range.lower || truthAreas[g] > range.upper) }
                outside.removeAll(keepingCapacity: true)
                for area in detectionAreas { outside.append(area < range.lower || area > range.upper) }
                matcher.match(ious: ious, detections: D, truthIgnored: truthIgnored, truthCrowd: crowd,
                              detectionOutside: outside, thresholds: iouThresholds)
                matched[a].append(contentsOf: matcher.matched)
                ignored[a].append(contentsOf: matcher.ignored)
                truthPerImage[a][Int(image)] = Int32(matcher.nonIgnoredTruth)
                nonIgnoredTruth[a] += matcher.nonIgnoredTruth
            }
            t = truthEnd
            d = detectionsEnd
        }
        // Appended in (image, rank) order; by score, highest first, ties kept in that order, is
        // pycocotools' accumulate order (its stable mergesort of the concatenated cells).
        let order = scoreColumn.indices.sorted { scoreColumn[$0] != scoreColumn[$1] ? scoreColumn[$0] > scoreColumn[$1] : $0 < $1 }
        let images = order.map { imageColumn[$0] }, ranks = order.map { rankColumn[$0] }
        let scores = order.map { scoreColumn[$0] }
        return (0..<A).map { a in
            RankedDetections(image: images, rank: ranks, score: scores, matched: order.map { matched[a][$0] },
                             ignored: order.map { ignored[a][$0] }, truthPerImage: truthPerImage[a],
                             nonIgnoredTruth: nonIgnoredTruth[a])
        }
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

/// pycocotools' evaluateImg matching with buffers kept between calls.
struct Matcher {
    /// Of the last call, per detection (in score order): bit t set when matched at threshold t.
    private(set) var matched: [UInt16] = []
    /// Bit t set when ignored at threshold t (matched to an ignored ground truth, or unmatched
    /// with an area outside the range).
    private(set) var ignored: [UInt16] = []
    /// The ground-truth index (file order) matched at the first threshold, or −1.
    private(set) var truthAtFirstThreshold: [Int] = []
    private(set) var nonIgnoredTruth = 0
    private var order: [Int] = [], taken: [Bool] = []

    /// `ious` is D × G (detections in score order, ground truth in file order); ground truth is
    /// visited non-ignored first.
    mutating func match(ious: [Double], detections D: Int, truthIgnored: [Bool], truthCrowd: [Bool],
                        detectionOutside: [Bool], thresholds: [Double]) {
        let G = truthIgnored.count
        order.removeAll(keepingCapacity: true)
        for g in 0..<G where !truthIgnored[g] { order.append(g) }
        nonIgnoredTruth = order.count
        for g in 0..<G where truthIgnored[g] { order.append(g) }
        matched.removeAll(keepingCapacity: true)
        matched.append(contentsOf: repeatElement(0, count: D))
        ignored.removeAll(keepingCapacity: true)
        ignored.append(contentsOf: repeatElement(0, count: D))
        truthAtFirstThreshold.removeAll(keepingCapacity: true)
        truthAtFirstThreshold.append(contentsOf: repeatElement(-1, count: D))
        for (t, threshold) in thresholds.enumerated() {
            taken.removeAll(keepingCapacity: true)
            taken.append(contentsOf: repeatElement(false, count: G))
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
                if t == 0 { truthAtFirstThreshold[d] = order[m] }
                if truthIgnored[order[m]] { ignored[d] |= bit }
                taken[m] = true
            }
        }
    }
}

/// One category's detections over all images for one area range, with their match flags, in
/// the order pycocotools accumulates them: by score descending, ties by image, then by rank in
/// the image.
struct RankedDetections: Sendable {
    var image: [Int32]
    var rank: [Int16]
    var score: [Double]
    var matched: [UInt16]
    var ignored: [UInt16]
    /// Non-ignored ground truth per image (indexed by image index).
    var truthPerImage: [Int32]
    var nonIgnoredTruth: Int

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
        // The detections in the order they are accumulated, those ranked maxDet or below in
        // their image left out. With weights, an image drawn w times contributes each of its runs
        // (its detections of one score) w times in a row: the order pycocotools would use if the
        // copies were distinct images with ids next to each other.
        var visits: [Int32] = []
        visits.reserveCapacity(score.count)
        var start = 0
        while start < score.count {
            var end = start + 1
            if weights != nil {
                while end < score.count, score[end] == score[start], image[end] == image[start] { end += 1 }
            }
            for _ in 0..<(weights?[Int(image[start])] ?? 1) {
                for index in start..<end where Int(rank[index]) < maxDet { visits.append(Int32(index)) }
            }
            start = end
        }
        // pycocotools computes precision and recall after every detection, makes precision
        // non-increasing from the right (the envelope) and reads it where recall first reaches
        // each recall point. Only true positives raise precision (a false positive lowers it, an
        // ignored detection keeps it), so the envelope at any point is the largest precision at
        // that point or at a later true positive; and recall only moves at true positives. So
        // precision is computed only at the first detection and at true positives, with the
        // same arithmetic (the same bits), and all IoU thresholds are counted in one pass.
        var accumulation = Accumulation(truth: truth, detections: visits.count)
        for (position, index) in visits.enumerated() {
            let ignoredBits = ignored[Int(index)], truePositiveBits = matched[Int(index)] & ~ignoredBits
            if ignoredBits != 0 { accumulation.ignore(ignoredBits) }
            if truePositiveBits != 0 { accumulation.truePositives(truePositiveBits, at: position) }
            if position == 0 { accumulation.first(except: truePositiveBits) }
        }
        return accumulation.curve()
    }
}

/// The counts of `RankedDetections.curve` for every IoU threshold at once, and the precision
/// at the first detection and at each true positive ("peaks").
private struct Accumulation {
    static let T = COCOEvaluation.T, R = COCOEvaluation.R
    let truth: Int, detections: Int
    /// Per threshold: true positives and ignored detections so far.
    var tp: [Int], ignoredSoFar: [Int]
    /// Per threshold, `stride` slots: the peaks in order; peakCount of them are set.
    var peaks: [Double], peakCount: [Int]
    let stride: Int
    /// Per threshold and recall point reached: the peak where recall first reached it.
    var firstPeak: [Int], reached: [Int]

    init(truth: Int, detections: Int) {
        self.truth = truth
        self.detections = detections
        tp = [Int](repeating: 0, count: Self.T)
        ignoredSoFar = tp
        peakCount = tp
        reached = tp
        stride = min(detections, truth) + 1
        peaks = [Double](repeating: 0, count: Self.T * stride)
        firstPeak = [Int](repeating: 0, count: Self.T * Self.R)
    }

    mutating func ignore(_ bits: UInt16) {
        var rest = bits
        while rest != 0 {
            ignoredSoFar[rest.trailingZeroBitCount] += 1
            rest &= rest - 1
        }
    }

    mutating func truePositives(_ bits: UInt16, at position: Int) {
        var rest = bits
        while rest != 0 {
            let t = rest.trailingZeroBitCount
            tp[t] += 1
            peak(t, at: position)
            rest &= rest - 1
        }
    }

    /// The first detection is a point of every threshold (those where it is a true positive
    /// have it already).
    mutating func first(except bits: UInt16) {
        for t in 0..<Self.T where bits & (1 << t) == 0 { peak(t, at: 0) }
    }

    private mutating func peak(_ t: Int, at position: Int) {
        let truePositives = tp[t], falsePositives = position + 1 - ignoredSoFar[t] - truePositives
        peaks[t * stride + peakCount[t]] = Double(truePositives) / (Double(falsePositives) + Double(truePositives) + .ulpOfOne)
        peakCount[t] += 1
        // numpy.searchsorted(rc, recThrs, side="left")
        let rc = Double(truePositives) / Double(truth)
        while reached[t] < Self.R && !(rc < COCOEvaluation.recallThresholds[reached[t]]) {
            firstPeak[t * Self.R + reached[t]] = peakCount[t] - 1
            reached[t] += 1
        }
    }

    /// The envelope from the right, read at each reached recall point; points beyond the last
    /// recall stay 0.
    func curve() -> PrecisionRecallCurve {
        let T = Self.T, R = Self.R
        var precision = [Double](repeating: 0, count: T * R)
        var recall = [Double](repeating: 0, count: T)
        for t in 0..<T {
            if detections > 0 { recall[t] = Double(tp[t]) / Double(truth) }
            var envelope = -Double.infinity, r = reached[t] - 1, peak = peakCount[t] - 1
            while r >= 0 {
                envelope = max(envelope, peaks[t * stride + peak])
                while r >= 0 && firstPeak[t * R + r] == peak {
                    precision[t * R + r] = envelope
                    r -= 1
                }
                peak -= 1
            }
        }
        return PrecisionRecallCurve(precision: precision, recall: recall)
    }
}

/// Item indices (of annotations or detections) in numbered buckets (categories, images), each
/// bucket in file order: a counting sort, two passes however many items there are.
struct Buckets: Sendable {
    private let items: [Int32]
    /// offsets[b]..<offsets[b + 1]: bucket b's part of `items`.
    private let offsets: [Int]

    /// `bucket` gives an item's bucket in 0..<count, or nil when it belongs to none.
    init(count: Int, items itemCount: Int, bucket: (Int) -> Int?) {
        precondition(itemCount < Int(Int32.max), "more than 2^31 annotations or detections")
        var buckets = [Int32](repeating: -1, count: itemCount)
        var offsets = [Int](repeating: 0, count: count + 1)
        for index in 0..<itemCount {
            guard let b = bucket(index) else { continue }
            buckets[index] = Int32(b)
            offsets[b + 1] += 1
        }
        for b in 0..<count { offsets[b + 1] += offsets[b] }
        var next = offsets, items = [Int32](repeating: 0, count: offsets[count])
        for index in 0..<itemCount where buckets[index] >= 0 {
            let b = Int(buckets[index])
            items[next[b]] = Int32(index)
            next[b] += 1
        }
        self.items = items
        self.offsets = offsets
    }

    subscript(bucket: Int) -> ArraySlice<Int32> { items[offsets[bucket]..<offsets[bucket + 1]] }
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

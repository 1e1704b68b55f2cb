import Foundation
import Testing
import VigilTestSupport
@testable import Vigil

/// Reference values from scikit-learn, pycocotools, SciPy and the numpy references in
/// Scripts/make_metric_fixtures.py. Every field is compared with tolerance 1e-9: Vigil's sums
/// are exact (correctly rounded), numpy's are pairwise, so the two differ in the last bits only.
enum MetricFixtures {
    static func load(_ name: String) -> JSONValue { JSONValue.load(Repository.fixture("metrics/\(name).json")) }

    static let classification = load("classification").array
    static let detection = load("detection").array
    static let paired = load("paired")
    static let mcnemar = load("mcnemar").array
}

struct Case: CustomTestStringConvertible, Sendable {
    var fields: JSONValue
    var name: String { fields["name"]!.string! }
    var testDescription: String { name }
    subscript(key: String) -> JSONValue? { fields[key] }
}

/// `expected` is a number or null (undefined); `actual` nil means undefined.
func expectClose(_ actual: Double?, _ expected: JSONValue?, _ what: String, tolerance: Double = 1e-9,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    switch (actual, expected?.double) {
    case (nil, nil) where expected == nil || expected!.isNull:
        return
    case let (value?, reference?):
        #expect(abs(value - reference) <= tolerance, "\(what): Vigil \(value), reference \(reference)", sourceLocation: sourceLocation)
    default:
        Issue.record("\(what): Vigil \(String(describing: actual)), reference \(String(describing: expected))", sourceLocation: sourceLocation)
    }
}

@Suite("Metrics engine against scikit-learn, pycocotools and SciPy")
struct MetricsEngineTests {
    static let classificationCases = MetricFixtures.classification.map { Case(fields: $0) }
    static let detectionCases = MetricFixtures.detection.map { Case(fields: $0) }

    static func accumulator(_ c: Case) -> ClassificationAccumulator {
        let labels = c["labels"]!.ints
        let probabilities = c["probabilities"]!.array.map(\.doubles)
        var accumulator = ClassificationAccumulator(classes: (0..<probabilities[0].count).map(String.init))
        for (label, row) in zip(labels, probabilities) { accumulator.add(label: label, probabilities: row) }
        return accumulator
    }

    @Test(arguments: classificationCases)
    func classificationMatchesReferences(_ c: Case) throws {
        let expected = c["expected"]!
        let m = Self.accumulator(c).compute(threshold: expected["threshold"]?.double)
        #expect(m.n == expected["n"]!.int)
        expectClose(m.accuracy, expected["accuracy"], "accuracy")
        expectClose(m.top5Accuracy, expected["top5_accuracy"], "top5_accuracy")
        for (name, averages) in [("macro", m.macro), ("weighted", m.weighted)] {
            let reference = expected[name]!
            expectClose(averages.precision, reference["precision"], "\(name) precision")
            expectClose(averages.recall, reference["recall"], "\(name) recall")
            expectClose(averages.f1, reference["f1"], "\(name) f1")
        }
        #expect(m.confusion == expected["confusion_matrix"]!.array.map(\.ints))
        for (k, entry) in m.perClass.enumerated() {
            for (field, value) in [("precision", entry.precision), ("recall", entry.recall), ("f1", entry.f1),
                                   ("fpr", entry.fpr), ("fnr", entry.fnr), ("roc_auc", entry.rocAUC),
                                   ("average_precision", entry.averagePrecision)] {
                expectClose(value, expected[field]!.array[k], "\(field)[\(k)]")
            }
            #expect(entry.support == expected["support"]!.ints[k])
        }
        let calibration = expected["calibration"]!
        let ours = m.calibration
        for (field, value) in [("ece", ours.ece), ("mce", ours.mce), ("rmsce", ours.rmsce), ("adaptive_ece", ours.adaptiveECE),
                               ("classwise_ece", ours.classwiseECE), ("brier", ours.brier), ("nll", ours.nll)] {
            expectClose(value, calibration[field], field)
        }
        let bins = calibration["bins"]!.array
        #expect(ours.bins.map(\.count) == bins.map { $0["count"]!.int! })
        for (bin, reference) in zip(ours.bins, bins) {
            expectClose(bin.confidence, reference["confidence"], "bin confidence")
            expectClose(bin.accuracy, reference["accuracy"], "bin accuracy")
        }
        #expect(ours.bins.map(\.lower) + [ours.bins.last!.upper] == calibration["edges"]!.doubles)
    }

    @Test(arguments: classificationCases.filter { $0["bootstrap"] != nil })
    func bootstrapIntervalsMatchTheReference(_ c: Case) throws {
        let reference = c["bootstrap"]!
        let bootstrap = Bootstrap(replicates: reference["replicates"]!.int!, seed: UInt64(reference["seed"]!.int!),
                                  confidence: reference["confidence"]!.double!)
        let accumulator = Self.accumulator(c)
        // The same generator draws the same samples.
        #expect(bootstrap.weights(replicate: 0, samples: accumulator.count) == reference["first_weights"]!.ints)
        let intervals = try accumulator.intervals(for: accumulator.headlineMetrics, bootstrap: bootstrap)
        let expected = reference["intervals"]!
        for (key, interval) in intervals {
            let e = try #require(expected[key.description], "no reference interval for \(key)")
            expectClose(interval.lower, e["lower"], "\(key) lower")
            expectClose(interval.upper, e["upper"], "\(key) upper")
            #expect(interval.replicates == e["replicates"]!.int)
        }
        if case .object(let fields) = expected { #expect(fields.count == intervals.count) }
    }

    @Test func pairedComparisonMatchesTheReference() throws {
        let f = MetricFixtures.paired
        let labels = f["labels"]!.ints
        func accumulator(_ key: String) -> ClassificationAccumulator {
            let rows = f[key]!.array.map(\.doubles)
            var a = ClassificationAccumulator(classes: (0..<rows[0].count).map(String.init))
            for (label, row) in zip(labels, rows) { a.add(label: label, probabilities: row) }
            return a
        }
        let baseline = accumulator("baseline"), candidate = accumulator("candidate")
        let keys = ["accuracy", "macro_f1", "ece", "brier", "nll"].map { try! MetricKey(parsing: $0) }
        let deltas = try baseline.compare(with: candidate, keys: keys,
                                          bootstrap: Bootstrap(replicates: f["replicates"]!.int!, seed: UInt64(f["seed"]!.int!)))
        let expected = f["deltas"]!
        for d in deltas {
            let e = expected[d.metric.description]!
            expectClose(d.baseline, e["baseline"], "\(d.metric) baseline")
            expectClose(d.candidate, e["candidate"], "\(d.metric) candidate")
            expectClose(d.delta, e["delta"], "\(d.metric) delta")
            let interval = e["interval"]!
            expectClose(d.interval?.lower, interval["lower"], "\(d.metric) lower")
            expectClose(d.interval?.upper, interval["upper"], "\(d.metric) upper")
            if d.metric.metric == .accuracy {
                let m = f["mcnemar"]!
                #expect(d.test == "mcnemar-exact")
                #expect(d.mcnemar?.onlyFirstCorrect == m["only_baseline"]!.int)
                #expect(d.mcnemar?.onlySecondCorrect == m["only_candidate"]!.int)
                expectClose(d.pValue, m["p_value"], "McNemar p")
            } else {
                #expect(d.test == "paired-bootstrap")
                expectClose(d.pValue, e["p_value"], "\(d.metric) p")
            }
        }
    }

    @Test(arguments: MetricFixtures.mcnemar.map { ($0["b"]!.int!, $0["c"]!.int!, $0["p_value"]!.double!) })
    func mcnemarMatchesScipy(b: Int, c: Int, p: Double) {
        let test = McNemar(onlyFirstCorrect: b, onlySecondCorrect: c)
        #expect(abs(test.pValue - p) <= 1e-9 * max(1, p), "b=\(b) c=\(c): Vigil \(test.pValue), SciPy \(p)")
    }

    static func detection(_ c: Case) throws -> (COCOGroundTruth, [COCODetection]) {
        let gt = try c["gt"]!.data()
        let results = try c["results"]!.data()
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try gt.write(to: folder.appendingPathComponent("gt.json"))
        try results.write(to: folder.appendingPathComponent("dt.json"))
        let truth = try COCOGroundTruth.load(folder.appendingPathComponent("gt.json"))
        return (truth, try COCODetection.load(folder.appendingPathComponent("dt.json"), groundTruth: truth))
    }

    @Test(arguments: detectionCases)
    func detectionMatchesPycocotools(_ c: Case) throws {
        let (truth, detections) = try Self.detection(c)
        let scorer = DetectionScorer(groundTruth: truth, detections: detections)
        let m = scorer.metrics(iou: c["iou"]!.double!, scoreThreshold: c["score_threshold"]!.double!)
        let stats = c["stats"]!.doubles
        for (index, (ours, theirs)) in zip(m.stats, stats).enumerated() {
            #expect(abs(ours - theirs) <= 1e-9, "stat \(index): Vigil \(ours), pycocotools \(theirs)")
        }
        #expect(zip(scorer.evaluation.recall, c["recall"]!.doubles).allSatisfy { abs($0 - $1) <= 1e-12 })
        for (entry, reference) in zip(m.perClass, c["per_class"]!.array) {
            #expect(entry.categoryID == reference["category_id"]!.int)
            expectClose(entry.ap, reference["ap"], "ap[\(entry.categoryID)]")
            expectClose(entry.ap50, reference["ap50"], "ap50[\(entry.categoryID)]")
        }
        for ((entry, image), reference) in zip(zip(m.perClass, m.imageFPR), c["operating_point"]!.array) {
            #expect(entry.tp == reference["tp"]!.int && entry.fp == reference["fp"]!.int && entry.fn == reference["fn"]!.int,
                    "category \(entry.categoryID): Vigil \(entry.tp)/\(entry.fp)/\(entry.fn), reference \(reference)")
            #expect(image.negativeImages == reference["negative_images"]!.int)
            #expect(image.falsePositiveImages == reference["false_positive_images"]!.int)
        }
        if let theirs = c["pycocotools_stats"]?.doubles {
            // pycocotools miscounts matches to annotation id 0; Vigil does not (see COCOEvaluation).
            #expect(zip(m.stats, theirs).contains { abs($0 - $1) > 1e-6 }, "the id-0 case should differ from pycocotools")
        }
    }

    @Test(arguments: detectionCases.filter { $0["bootstrap"] != nil })
    func detectionBootstrapMatchesDuplicatedImagesInPycocotools(_ c: Case) throws {
        let (truth, detections) = try Self.detection(c)
        let scorer = DetectionScorer(groundTruth: truth, detections: detections)
        let reference = c["bootstrap"]!
        let bootstrap = Bootstrap(replicates: reference["replicates"]!.int!, seed: UInt64(reference["seed"]!.int!))
        for (r, expected) in reference["first"]!.array.enumerated() {
            let (map, map50) = scorer.meanAP(weights: bootstrap.weights(replicate: r, samples: truth.images.count))
            expectClose(map, expected["map"], "replicate \(r) map")
            expectClose(map50, expected["map50"], "replicate \(r) map50")
        }
        let (map, map50) = scorer.intervals(bootstrap: bootstrap)
        for (interval, key) in [(map, "map"), (map50, "map50")] {
            let e = reference[key]!
            expectClose(interval?.lower, e["lower"], "\(key) lower")
            expectClose(interval?.upper, e["upper"], "\(key) upper")
        }
    }

    @Test func thresholdsAreNumpysLinspace() {
        #expect(COCOEvaluation.iouThresholds.count == 10 && COCOEvaluation.iouThresholds[5] == 0.75)
        #expect(COCOEvaluation.recallThresholds.count == 101 && COCOEvaluation.recallThresholds[1] == 0.01)
        #expect(COCOEvaluation.iouThresholds.last == 0.95)
    }

    @Test func shardedClassificationEqualsSinglePass() {
        let c = Self.classificationCases[0]
        let whole = Self.accumulator(c)
        var merged = ClassificationAccumulator(classes: whole.classes)
        let labels = c["labels"]!.ints, rows = c["probabilities"]!.array.map(\.doubles)
        for start in stride(from: 0, to: labels.count, by: 70).reversed() {
            var part = ClassificationAccumulator(classes: whole.classes)
            for i in start..<min(start + 70, labels.count) { part.add(label: labels[i], probabilities: rows[i]) }
            merged.merge(part)
        }
        #expect(merged.compute() == whole.compute())
    }
}

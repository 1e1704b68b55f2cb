import ArgumentParser
import Foundation
import Vigil

struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Compute metrics from label and prediction files (models run elsewhere).",
        discussion: "Definitions: Sources/Vigil/Metrics/METRICS.md. Exit status: 0 done, 2 the input or the command is wrong.",
        subcommands: [Classification.self, Detection.self, Segmentation.self, OCR.self, Compare.self])

    struct BootstrapOptions: ParsableArguments {
        @Option(help: "Bootstrap replicates for confidence intervals, 0...1000000 (0 turns them off).")
        var bootstrap = 1000

        @Option(help: "Seed of the bootstrap.")
        var seed: UInt64 = 0

        @Option(help: "Confidence level of the intervals, strictly between 0 and 1.")
        var confidence = 0.95

        func validate() throws {
            guard Limits.bootstrap.contains(bootstrap) else { throw ValidationError(Limits.refusal("--bootstrap", bootstrap, Limits.bootstrap)) }
            guard confidence > 0 && confidence < 1 else { throw ValidationError("--confidence must be between 0 and 1") }
        }

        /// The bootstrap, with a progress line on a terminal's stderr.
        var value: Bootstrap? {
            guard bootstrap > 0 else { return nil }
            let started = Date()
            let live = Terminal.stderrIsTerminal
            return Bootstrap(replicates: bootstrap, seed: seed, confidence: confidence, progress: { done, total in
                // About a hundred updates per pass, and the last.
                guard live, done == total || done % max(1, total / 100) == 0 else { return }
                let line = String(format: "\rbootstrap: %d/%d replicates, %.1f s", done, total, Date().timeIntervalSince(started))
                FileHandle.standardError.write(Data(line.utf8))
            })
        }

        /// Scores with the bootstrap's time on stderr (the intervals can take longer than the
        /// metrics: say so, and how to turn them off).
        func timed<T>(_ score: (Bootstrap?) throws -> T) rethrows -> T {
            let started = Date()
            let result = try score(value)
            if bootstrap > 0 {
                let seconds = Date().timeIntervalSince(started)
                FileHandle.standardError.write(Data(((Terminal.stderrIsTerminal ? "\r\u{1B}[K" : "")
                    + String(format: "metrics and %d bootstrap replicates in %.1f s (--bootstrap 0: point estimates only)\n", bootstrap, seconds)).utf8))
            }
            return result
        }
    }

    struct Classification: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Classification metrics, calibration and bootstrap intervals.",
            discussion: """
                LABELS.jsonl lines: {"id": "s1", "label": 3}. PREDS.jsonl lines: {"id": "s1", "probs": [...]} \
                or {"id": "s1", "logits": [...]}. Ids must match one to one.
                """)

        @Option(help: "Labels, JSON Lines.") var labels: String
        @Option(help: "Predictions, JSON Lines.") var predictions: String
        @Option(help: "FPR/FNR count p(class) ≥ threshold as positive, 0...1 (default: the argmax).") var threshold: Double?
        @Option(help: "Equal-width bins for ECE, MCE, RMSCE and the reliability diagram, 1...10000.") var bins = 15
        @OptionGroup var bootstrap: BootstrapOptions
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            guard Limits.bins.contains(bins) else { throw ValidationError(Limits.refusal("--bins", bins, Limits.bins)) }
            if let threshold, !(0...1).contains(threshold) { throw ValidationError("--threshold must be in 0...1") }
        }

        func run() throws {
            let data = try ClassificationFiles.load(labels: URL(fileURLWithPath: labels), predictions: URL(fileURLWithPath: predictions),
                                                    labelsPath: labels, predictionsPath: predictions, bins: bins)
            let score = try bootstrap.timed { try ClassificationScore.evaluate(data, threshold: threshold, bootstrap: $0) }
            print(json ? try Output.json(score) : ScoreReport.classification(score))
        }
    }

    struct Detection: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "COCO detection metrics (pycocotools' COCOeval), per-class counts and image FPR.",
            discussion: "GT: COCO annotations JSON. PREDICTIONS: COCO results JSON [{image_id, category_id, bbox, score}].")

        @Option(help: "Ground truth, COCO annotations JSON.") var gt: String
        @Option(help: "Detections, COCO results JSON.") var predictions: String
        @Option(help: "IoU threshold of the per-class operating point, in (0, 1].") var iou = 0.5
        @Option(help: "Score threshold of the per-class operating point and image FPR (a finite number).") var scoreThreshold = 0.0
        @OptionGroup var bootstrap: BootstrapOptions
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            guard iou > 0 && iou <= 1 else { throw ValidationError("--iou must be in (0, 1]") }
            guard scoreThreshold.isFinite else { throw ValidationError("--score-threshold must be a finite number") }
        }

        func run() throws {
            let truth = try COCOGroundTruth.load(URL(fileURLWithPath: gt), displayPath: gt)
            let detections = try COCODetection.load(URL(fileURLWithPath: predictions), displayPath: predictions, groundTruth: truth)
            let score = bootstrap.timed {
                DetectionScore.evaluate(DetectionScorer(groundTruth: truth, detections: detections),
                                        iou: iou, scoreThreshold: scoreThreshold, bootstrap: $0)
            }
            print(json ? try Output.json(score) : ScoreReport.detection(score))
        }
    }

    struct Segmentation: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Semantic segmentation metrics (mIoU, mean Dice, pixel accuracy, fwIoU) from mask folders.",
            discussion: """
                GT and PREDICTIONS are folders of 8-bit single-channel PNG masks whose pixel values \
                are class indices, matched by their paths inside the folders (a missing prediction \
                is an error). Pixels whose truth is the ignore index are left out. Definitions: \
                mmsegmentation's IoUMetric and Cityscapes (see METRICS.md).

                Example: vigil score segmentation --gt val/labels --predictions out/masks --num-classes 19 --json
                """)

        @Option(help: "Folder of truth masks.") var gt: String
        @Option(help: "Folder of predicted masks (same relative paths).") var predictions: String
        @Option(help: "Classes, 1...256 (default: one more than the largest index in the masks).") var numClasses: Int?
        @Option(help: "The truth value of pixels left out, 0...255.") var ignoreIndex = 255
        @OptionGroup var bootstrap: BootstrapOptions
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            if let numClasses, !(1...256).contains(numClasses) { throw ValidationError(Limits.refusal("--num-classes", numClasses, 1...256)) }
            guard (0...255).contains(ignoreIndex) else { throw ValidationError(Limits.refusal("--ignore-index", ignoreIndex, 0...255)) }
        }

        func run() throws {
            let (classes, images) = try SegmentationFiles.load(truth: URL(fileURLWithPath: gt), predictions: URL(fileURLWithPath: predictions),
                                                               truthPath: gt, predictionsPath: predictions, classes: numClasses,
                                                               ignoreIndex: ignoreIndex)
            let score = bootstrap.timed { SemanticSegmentation.score(images, classes: classes, bootstrap: $0) }
            print(json ? try Output.json(score) : score.text)
        }
    }

    struct OCR: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ocr",
            abstract: "Text recognition metrics (CER, WER, exact match) with jiwer's definitions.",
            discussion: """
                LABELS.jsonl and PREDS.jsonl lines: {"id": "s1", "text": "…"} (UTF-8); ids must match \
                one to one. Corpus-level CER and WER with jiwer's default transforms (stripped text, \
                code points; runs of whitespace collapsed, words split on spaces); see METRICS.md.

                Example: vigil score ocr --labels lines.jsonl --predictions read.jsonl --json
                """)

        @Option(help: "Transcripts, JSON Lines.") var labels: String
        @Option(help: "Recognised texts, JSON Lines.") var predictions: String
        @OptionGroup var bootstrap: BootstrapOptions
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let samples = try TextRecognitionFiles.load(labels: URL(fileURLWithPath: labels), predictions: URL(fileURLWithPath: predictions),
                                                        labelsPath: labels, predictionsPath: predictions)
            let score = bootstrap.timed { TextRecognition.score(samples, bootstrap: $0) }
            print(json ? try Output.json(score) : score.text)
        }
    }

    struct Compare: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Paired comparison of two models on the same labels (or ground truth).",
            discussion: """
                Deltas are candidate − baseline, with paired-bootstrap intervals (the same resampled \
                samples for both models) and p-values; accuracy uses McNemar's exact test.
                """)

        @Option(help: "Classification labels, JSON Lines (or give --gt).") var labels: String?
        @Option(help: "Detection ground truth, COCO JSON (or give --labels).") var gt: String?
        @Option(help: "Baseline predictions.") var baseline: String
        @Option(help: "Candidate predictions.") var candidate: String
        @Option(help: "FPR/FNR threshold (classification), 0...1.") var threshold: Double?
        @Option(help: "Metrics to compare (classification), e.g. accuracy,ece,fnr[3]; default: the headline metrics.")
        var metrics: String?
        @OptionGroup var bootstrap: BootstrapOptions
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            guard (labels == nil) != (gt == nil) else { throw ValidationError("give exactly one of --labels (classification) and --gt (detection)") }
            guard bootstrap.bootstrap > 0 else { throw ValidationError("a comparison needs --bootstrap of at least 1") }
            if let threshold, !(0...1).contains(threshold) { throw ValidationError("--threshold must be in 0...1") }
        }

        func run() throws {
            let score: ComparisonScore
            // validate() requires --bootstrap of at least 1, so `timed` passes a bootstrap.
            if let labels {
                let a = try ClassificationFiles.load(labels: URL(fileURLWithPath: labels), predictions: URL(fileURLWithPath: baseline),
                                                     labelsPath: labels, predictionsPath: baseline)
                let b = try ClassificationFiles.load(labels: URL(fileURLWithPath: labels), predictions: URL(fileURLWithPath: candidate),
                                                     labelsPath: labels, predictionsPath: candidate)
                if a.accumulator.classes.count != b.accumulator.classes.count {
                    throw InputError("\(candidate): \(b.accumulator.classes.count) class probabilities per prediction, "
                                     + "but \(baseline) has \(a.accumulator.classes.count); a comparison needs the same classes")
                }
                let keys = try metrics.map { try $0.split(separator: ",").map { try MetricKey(parsing: String($0).trimmingCharacters(in: .whitespaces)) } }
                    ?? a.accumulator.headlineMetrics
                score = try bootstrap.timed { resampling in
                    ComparisonScore(task: "classification", n: a.accumulator.count,
                                    deltas: try a.accumulator.compare(with: b.accumulator, keys: keys, threshold: threshold, bootstrap: resampling!),
                                    bootstrap: BootstrapInfo(resampling!))
                }
            } else {
                let gt = self.gt!
                let truth = try COCOGroundTruth.load(URL(fileURLWithPath: gt), displayPath: gt)
                let a = try COCODetection.load(URL(fileURLWithPath: baseline), displayPath: baseline, groundTruth: truth)
                let b = try COCODetection.load(URL(fileURLWithPath: candidate), displayPath: candidate, groundTruth: truth)
                score = bootstrap.timed { resampling in
                    ComparisonScore(task: "detection", n: truth.images.count,
                                    deltas: DetectionScorer(groundTruth: truth, detections: a)
                                        .compare(with: DetectionScorer(groundTruth: truth, detections: b), bootstrap: resampling!),
                                    bootstrap: BootstrapInfo(resampling!))
                }
            }
            print(json ? try Output.json(score) : ScoreReport.comparison(score))
        }
    }
}

enum Output {
    static func json<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try JSONConvention.encoder().encode(value), as: UTF8.self)
    }
}

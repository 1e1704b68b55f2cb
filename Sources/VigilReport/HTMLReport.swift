import Foundation
import Mustache
import Vigil

/// Writes `index.html` and its PNGs into a run's report folder (no external assets, so the
/// folder can be archived or attached to a review as it is).
///
/// Every string that comes from data — class names, sample ids, file names, model and suite
/// names — reaches the HTML through Mustache's `{{…}}`, which escapes it.
public struct HTMLReport {
    public var result: RunResult
    public var goldenSet: GoldenSet
    /// Tiles per failure gallery (classification, per model) and, a third of it, rows per
    /// detection gallery.
    public var galleryLimit: Int
    /// The models' `input:` sections, so tiles show what each model received after its resize
    /// and crop. A model without one (a cascade, a predictions file, a baseline taken from a
    /// stored run) is shown the scenario image only.
    public var modelInputs: [ModelRole: ModelSpec.Input]
    /// Called as gallery pictures are made, with (done, total), from any thread.
    public var progress: (@Sendable (Int, Int) -> Void)?
    /// Scenario images the run kept for this report (``KeptScenarioImages``, made with
    /// ``keeper(galleryLimit:)``); the others are made again from the image files.
    public var keptImages: KeptScenarioImages?
    /// The run's sign-offs, listed in `signoffs.html` (which the page shows in a frame, and
    /// which `vigil signoff` rewrites: the report's content hash leaves that file out).
    public var signOffs: [SignOff] = []
    /// The suite's primary metric over its stored runs up to this one, drawn as `trend.png`
    /// (nil for a run without a store).
    public var trend: Trend?

    public init(result: RunResult, goldenSet: GoldenSet, galleryLimit: Int = HTMLReport.defaultGalleryLimit,
                modelInputs: [ModelRole: ModelSpec.Input] = [:], progress: (@Sendable (Int, Int) -> Void)? = nil,
                keptImages: KeptScenarioImages? = nil) {
        self.result = result
        self.goldenSet = goldenSet
        self.galleryLimit = galleryLimit
        self.modelInputs = modelInputs
        self.progress = progress
        self.keptImages = keptImages
    }

    public static let defaultGalleryLimit = 24

    /// What a run that this report will follow keeps for it: the images of the failures its
    /// classification galleries show.
    public static func keeper(galleryLimit: Int = HTMLReport.defaultGalleryLimit) -> KeptScenarioImages {
        KeptScenarioImages(limit: galleryLimit)
    }

    /// Folder, inside the report's, of the gallery pictures.
    static let imagesFolder = "images"

    /// Writes the report as `folder` and returns the path of its index.html. Everything is
    /// written into a hidden folder beside it first and renamed into place when whole, so a
    /// report that fails midway (a full disk) leaves no folder that looks complete; a folder
    /// already at `folder` (an earlier report of the same run) is replaced.
    @discardableResult
    public func write(to folder: URL) throws -> URL {
        try StagedFolder.write(folder, shown: folder.path, creating: "the report folder", writing: "the report") { staging in
            do {
                try FileManager.default.createDirectory(at: staging.appendingPathComponent(Self.imagesFolder), withIntermediateDirectories: true)
            } catch {
                throw InputError("\(folder.path): cannot create the report folder (\(FileProblem.describe(error)))")
            }
            try writeFiles(to: staging)
            try SignOffPage.write(signOffs, runID: result.id, to: staging)
        }
        return folder.appendingPathComponent("index.html")
    }

    private func writeFiles(to folder: URL) throws {
        let samples = Dictionary(uniqueKeysWithValues: goldenSet.samples.map { ($0.id, $0) })
        let indexByID = Dictionary(uniqueKeysWithValues: goldenSet.samples.enumerated().map { ($1.id, $0) })
        let plans = result.scenarios.map { plan($0, samples: samples) }
        let pictures = try makePictures(plans, indexByID: indexByID, folder: folder)
        var sections: [[String: Any]] = []
        for (index, scenarioResult) in result.scenarios.enumerated() {
            sections.append(try section(scenarioResult, index: index, plan: plans[index], pictures: pictures,
                                        indexByID: indexByID, folder: folder))
        }
        var context = context(sections: sections)
        if let robustness = result.robustness {
            context["robustness"] = try robustnessContext(robustness, folder: folder)
        }
        if let trend, !trend.runs.isEmpty {
            // One run is not a trend: the section says so until the suite has a second.
            if trend.runs.count < 2 {
                context["trend"] = ["line": "This is the first complete run of suite \(trend.suite) in the run store; "
                    + "from the next one on, this section charts each scenario's \(trend.metric) across the stored runs."]
            } else {
                let file = "trend.png"
                try TrendChart(trend: trend).render(to: folder.appendingPathComponent(file))
                context["trend"] = [
                    "chart": file, "metric": trend.metric.description,
                    "line": "Each scenario's \(trend.metric) over the last \(trend.runs.count) complete runs of suite "
                        + "\(trend.suite) in the run store, up to this one (vigil trend --suite \(trend.suite) prints the numbers).",
                ]
            }
        }
        let html = try MustacheTemplate(string: Self.template).render(context)
        let index = folder.appendingPathComponent("index.html")
        do {
            try html.write(to: index, atomically: false, encoding: .utf8)
        } catch {
            throw InputError("\(index.path): cannot write the report (\(FileProblem.describe(error)))")
        }
    }

    /// `low-light@3` → `low-light-s3`, `ink=heavy:fog@2` → `ink-heavy_fog-s2`: safe in file
    /// names and URLs (letters, digits, `-` and `_` only).
    static func fileStem(_ scenario: Scenario) -> String {
        let text = scenario.id.replacingOccurrences(of: "@", with: "-s").replacingOccurrences(of: "=", with: "-")
        return String(text.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") ? $0 : "_" })
    }

    /// What one scenario's galleries show.
    enum GalleryPlan {
        case classification([ModelRole: [FailureGallery.Tile]])
        case detection([DetectionGallery.Row])
        case none
    }

    private func plan(_ s: ScenarioResult, samples: [String: Sample]) -> GalleryPlan {
        switch (result.outcomes(s.scenario, .baseline), result.outcomes(s.scenario, .candidate)) {
        case (.classification(let baseline)?, .classification(let candidate)?):
            let baselineByID = Dictionary(uniqueKeysWithValues: baseline.map { ($0.sampleID, $0) })
            return .classification([
                .baseline: FailureGallery.worst(baseline, samples: samples, baseline: nil, limit: galleryLimit),
                .candidate: FailureGallery.worst(candidate, samples: samples, baseline: baselineByID, limit: galleryLimit),
            ])
        case (.detection(let baseline)?, .detection(let candidate)?):
            let matches = result.detectionMatches[s.scenario.id] ?? [:]
            return .detection(DetectionGallery.worst(
                samples: candidate.map { samples[$0.sampleID]! }, baseline: baseline, baselineMatches: matches[.baseline] ?? [],
                candidate: candidate, candidateMatches: matches[.candidate] ?? [], limit: max(1, galleryLimit / 3)))
        // Listed, not `default:`, so that a new task's outcomes cannot fall through to an
        // empty section unnoticed: the compiler asks for them here.
        case (nil, _), (_, nil), (.classification?, .detection?), (.detection?, .classification?):
            return .none
        }
    }

    /// A picture file in the report and the size the page shows it at.
    struct ShownFile: Sendable {
        var path: String
        var width: Int
        var height: Int
        var display: DisplaySize

        func context(alt: String, title: String? = nil) -> [String: Any] {
            var context: [String: Any] = ["src": path, "width": display.width, "height": display.height, "alt": alt,
                                          "crisp": display.enlarged]
            if let title { context["title"] = title }
            return context
        }
    }

    /// The files made for one (scenario, sample) pair.
    struct Pictures: Sendable {
        /// The scenario image at full size.
        var full: ShownFile
        /// What a tile shows of it (the full file itself when it is small, and for detection rows).
        var thumbnail: ShownFile
        /// The image each model received, for roles with an input section.
        var inputs: [ModelRole: ShownFile]
        /// Detection: the row's PNG with both models' boxes.
        var row: String?
    }

    /// Makes every picture the galleries show, each (scenario, sample) pair once.
    private func makePictures(_ plans: [GalleryPlan], indexByID: [String: Int], folder: URL) throws -> [ShownImages.Pair: Pictures] {
        var roles: [ShownImages.Pair: Set<ModelRole>] = [:]
        var rows: [ShownImages.Pair: (gallery: DetectionGallery, row: DetectionGallery.Row, rank: Int)] = [:]
        let gallery = DetectionGallery(classes: goldenSet.classes, modelNames: (result.baseline.name, result.candidate.name))
        for (scenario, plan) in plans.enumerated() {
            switch plan {
            case .classification(let tiles):
                for (role, roleTiles) in tiles {
                    for tile in roleTiles { roles[.init(scenario: scenario, sample: indexByID[tile.sample.id]!), default: []].insert(role) }
                }
            case .detection(let detectionRows):
                for (rank, row) in detectionRows.enumerated() {
                    let pair = ShownImages.Pair(scenario: scenario, sample: indexByID[row.sample.id]!)
                    roles[pair] = Set(ModelRole.allCases)
                    rows[pair] = (gallery, row, rank + 1)
                }
            case .none:
                break
            }
        }
        if !rows.isEmpty { try DetectionGallery.renderLegend(to: folder.appendingPathComponent("detections-legend.png")) }
        let stems = result.scenarios.map { Self.fileStem($0.scenario) }
        let inputs = modelInputs, needs = roles, detectionRows = rows
        let shown = ShownImages(scenarios: result.scenarios.map(\.scenario), goldenSet: goldenSet, seed: result.seed,
                                kept: keptImages)
        return try shown.render(Set(roles.keys), progress: progress) { pair, image in
            let base = "\(Self.imagesFolder)/\(stems[pair.scenario])-\(pair.sample)"
            func save(_ picture: Vigil.Image, _ path: String) throws -> ShownFile {
                try picture.writePNG(to: folder.appendingPathComponent(path))
                return ShownFile(path: path, width: picture.width, height: picture.height,
                                 display: DisplaySize(picture.width, picture.height))
            }
            let full = try save(image, base + ".png")
            // Small images are their own thumbnail; large ones get a file of the shown size.
            // Detection rows draw their own panels and need none.
            var thumbnail = full
            if detectionRows[pair] == nil, max(image.width, image.height) > 2 * DisplaySize.side {
                let size = full.display
                thumbnail = try save(image.resized(width: size.width, height: size.height), base + "-thumb.png")
            }
            var made: [ModelRole: ShownFile] = [:]
            for role in needs[pair, default: []].sorted(by: { $0.rawValue < $1.rawValue }) {
                guard let input = inputs[role] else { continue }
                // Baseline and candidate with the same preprocessing share one file.
                if let twin = made.first(where: { inputs[$0.key] == input }) {
                    made[role] = twin.value
                    continue
                }
                made[role] = try save(input.view(of: image), base + "-input-\(role.rawValue).png")
            }
            var row: String?
            if let (gallery, detectionRow, rank) = detectionRows[pair] {
                row = "detections-\(stems[pair.scenario])-\(rank).png"
                try gallery.renderRow(detectionRow, rank: rank, image: image, to: folder.appendingPathComponent(row!))
            }
            return Pictures(full: full, thumbnail: thumbnail, inputs: made, row: row)
        }
    }

    /// What the page says about a model's input picture.
    private func inputTitle(_ role: ModelRole, _ file: ShownFile) -> String {
        let model = role == .baseline ? result.baseline.name : result.candidate.name
        let how = modelInputs[role].map { " (\($0.resize.rawValue))" } ?? ""
        return "what \(role.rawValue) \(model) received: \(file.width)×\(file.height)\(how), before scaling and normalisation"
    }

    private func section(_ s: ScenarioResult, index: Int, plan: GalleryPlan, pictures: [ShownImages.Pair: Pictures],
                         indexByID: [String: Int], folder: URL) throws -> [String: Any] {
        let stem = Self.fileStem(s.scenario)
        func picturesOf(_ sample: Sample) -> Pictures { pictures[.init(scenario: index, sample: indexByID[sample.id]!)]! }
        var galleries: [[String: Any]] = []
        var diagrams: [[String: Any]] = []
        var section: [String: Any] = [:]
        let detail: [MetricKey]
        switch plan {
        case .classification(let tiles):
            for role in ModelRole.allCases {
                let outcomes = result.outcomes(s.scenario, role)?.classification ?? []
                let model = role == .baseline ? result.baseline : result.candidate
                let roleTiles = tiles[role] ?? []
                let errors = outcomes.filter { !$0.correct }.count
                var gallery: [String: Any] = ["role": role.rawValue, "model": model.name,
                                              "none": "\(role.rawValue) \(model.name): no misclassifications on \(outcomes.count) samples."]
                if !roleTiles.isEmpty {
                    gallery["title"] = "\(role.rawValue) \(model.name) · \(s.scenario.id)"
                    gallery["subtitle"] = "\(errors) of \(outcomes.count) misclassified; the \(roleTiles.count) most confident shown"
                        + (role == .candidate ? " · NEW: the baseline got it right (\(roleTiles.filter(\.isNew).count) shown)" : "")
                        + (modelInputs[role] != nil
                            ? " · left: the scenario image (click for the full-size PNG), right: what the model received after its resize and crop"
                            : " · click an image for the full-size PNG")
                    gallery["hasTiles"] = true
                    gallery["tiles"] = roleTiles.enumerated().map { rank, tile in
                        let files = picturesOf(tile.sample)
                        var context: [String: Any] = [
                            "full": files.full.path,
                            "thumbnail": files.thumbnail.context(alt: "\(tile.sample.id) under \(s.scenario.id)",
                                                                 title: "the scenario image, \(files.full.width)×\(files.full.height)"),
                            "label": goldenSet.classes[tile.outcome.label],
                            "predicted": goldenSet.classes[tile.outcome.predicted],
                            "confidence": String(format: "%.3f", tile.outcome.confidence),
                            "rank": rank + 1,
                            "sample": tile.sample.id,
                            "isNew": tile.isNew,
                        ]
                        if let input = files.inputs[role] {
                            context["input"] = input.context(alt: "what \(role.rawValue) received", title: inputTitle(role, input))
                        }
                        return context
                    }
                }
                galleries.append(gallery)
                if let calibration = (role == .baseline ? s.baseline : s.candidate).classification?.calibration {
                    let diagramFile = "reliability-\(stem)-\(role.rawValue).png"
                    try ReliabilityDiagram(title: "\(role.rawValue) \(model.name) · \(s.scenario.id)", bins: calibration.bins,
                                           ece: calibration.ece).render(to: folder.appendingPathComponent(diagramFile))
                    diagrams.append(["file": diagramFile, "role": role.rawValue])
                }
            }
            if let baseline = s.baseline.classification, let candidate = s.candidate.classification {
                section["classes"] = Self.perClassContext(baseline: baseline, candidate: candidate)
                if goldenSet.classes.count <= ConfusionHeatMaps.maximumClasses {
                    let file = "confusion-\(stem).png"
                    try ConfusionHeatMaps(title: "confusion matrices · \(s.scenario.id)", classes: goldenSet.classes,
                                          baseline: baseline.confusion, candidate: candidate.confusion,
                                          modelNames: (result.baseline.name, result.candidate.name))
                        .render(to: folder.appendingPathComponent(file))
                    section["confusion"] = file
                }
            }
            detail = [.init(.accuracy), .init(.macroF1), .init(.ece), .init(.brier), .init(.nll),
                      .init(.latencyP50), .init(.latencyP95), .init(.throughput)]
        case .detection(let rows):
            let candidateMatches = result.detectionMatches[s.scenario.id]?[.candidate] ?? []
            let images = result.outcomes(s.scenario, .candidate)?.detection?.count ?? 0
            let failing = candidateMatches.filter { $0.misses + $0.falsePositives > 0 }.count
            var gallery: [String: Any] = ["role": "candidate", "model": result.candidate.name,
                                          "none": "candidate \(result.candidate.name): no misses or false positives on \(images) images."]
            if !rows.isEmpty, let point = result.operatingPoint {
                let thresholds = point.baselineScoreThreshold == point.candidateScoreThreshold
                    ? "score ≥ \(DetectionGallery.score(point.candidateScoreThreshold))"
                    : "score ≥ \(DetectionGallery.score(point.baselineScoreThreshold)) (baseline), ≥ \(DetectionGallery.score(point.candidateScoreThreshold)) (candidate)"
                gallery["title"] = "\(s.scenario.id) · worst images"
                gallery["subtitle"] = "\(failing) of \(images) images with candidate misses or false positives at IoU ≥ \(Formatting.number(point.iou)), \(thresholds); "
                    + "the \(rows.count) worst shown, baseline left, candidate right · NEW: the candidate misses an object the baseline found, or has more false positives (\(rows.filter(\.isNew).count) shown) · click a row for the full-size PNG"
                gallery["legend"] = "detections-legend.png"
                gallery["rows"] = rows.map { row in
                    let files = picturesOf(row.sample)
                    var context: [String: Any] = ["full": files.full.path, "file": files.row!, "sample": row.sample.id]
                    let inputs = ModelRole.allCases.compactMap { role in
                        files.inputs[role].map { $0.context(alt: "what \(role.rawValue) received", title: inputTitle(role, $0))
                            .merging(["role": role.rawValue]) { a, _ in a } }
                    }
                    if !inputs.isEmpty { context["inputs"] = inputs; context["hasInputs"] = true }
                    return context
                }
            }
            galleries.append(gallery)
            detail = [.init(.map), .init(.map50), .init(.map75), .init(.ar100), .init(.fpPerImage),
                      .init(.latencyP50), .init(.latencyP95), .init(.throughput)]
                + goldenSet.classes.flatMap { [MetricKey(.ap50, className: $0), MetricKey(.recall, className: $0), MetricKey(.precision, className: $0)] }
        case .none:
            detail = []
        }
        section.merge([
            "id": s.scenario.id,
            "anchor": stem,
            "summary": Self.summary(s.scenario),
            "passed": s.passed,
            "metrics": detail.map { Self.cells($0, baseline: s.baseline.value($0), candidate: s.candidate.value($0)) },
            "galleries": galleries,
            "diagrams": diagrams,
        ]) { _, new in new }
        // Optional lines are left out of the context (Mustache treats "" as present).
        if !s.scenario.parameters.isEmpty {
            section["parameters"] = s.scenario.parameters.joined(separator: " · ")
        }
        if let run = s.baselineReusedFrom {
            section["reuse"] = "Baseline outcomes reused from run \(run) (not run again)."
        }
        return section
    }

    /// Most classes shown in a scenario's per-class table; with more, the ones whose recall
    /// changed most.
    static let perClassRows = 20

    /// The per-class table: support, then precision, recall, F1, FPR and FNR as baseline →
    /// candidate with the change.
    static func perClassContext(baseline: ClassificationMetrics, candidate: ClassificationMetrics) -> [String: Any] {
        let pairs = Array(zip(baseline.perClass, candidate.perClass))
        var shown = Array(pairs.indices)
        if pairs.count > perClassRows {
            func change(_ i: Int) -> Double { abs((pairs[i].1.recall ?? 0) - (pairs[i].0.recall ?? 0)) }
            shown = Array(shown.sorted { change($0) != change($1) ? change($0) > change($1) : $0 < $1 }.prefix(perClassRows)).sorted()
        }
        let metrics: [(Metric, KeyPath<ClassMetrics, Double?>)] = [
            (.precision, \.precision), (.recall, \.recall), (.f1, \.f1), (.fpr, \.fpr), (.fnr, \.fnr),
        ]
        let rows: [[String: Any]] = shown.map { i in
            let (b, c) = pairs[i]
            return [
                "class": b.className,
                "support": "\(b.support)",
                "cells": metrics.map { metric, path in
                    let (x, y) = (b[keyPath: path], c[keyPath: path])
                    let delta = x.flatMap { x in y.map { $0 - x } }
                    let worse = delta.map { metric.higherIsBetter ? $0 < 0 : $0 > 0 } ?? false
                    return ["value": "\(Formatting.value(x, metric)) → \(Formatting.value(y, metric))",
                            "delta": Formatting.signedDelta(delta, metric), "worse": worse && delta != 0]
                },
            ]
        }
        var context: [String: Any] = ["rows": rows, "metrics": metrics.map { ["name": $0.0.rawValue] }]
        if shown.count < pairs.count {
            context["note"] = "The \(shown.count) of \(pairs.count) classes whose recall changed most."
        }
        return context
    }

    /// What the scenario is, in words: the slice, then each transform's summary.
    static func summary(_ scenario: Scenario) -> String {
        var parts: [String] = []
        if !scenario.slice.isEmpty {
            parts.append("samples tagged " + scenario.slice.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))
        }
        parts += scenario.steps.map { "\($0.transform.name): \($0.transform.summary)" }
        return parts.isEmpty ? "the golden-set images unchanged" : parts.joined(separator: "; then ")
    }

    /// The image the models saw for `sample` under `scenario`: decoded and transformed again with
    /// the run's seed, which reproduces it byte for byte.
    private func scenarioImage(_ sample: Sample, _ scenario: Scenario) throws -> Vigil.Image {
        try SuiteRunner.scenarioImage(sample, scenario, goldenSet: goldenSet, seed: result.seed)
    }

    private static func cells(_ key: MetricKey, baseline b: Double?, candidate c: Double?, verdict: String = "") -> [String: Any] {
        [
            "metric": key.description,
            "baseline": Formatting.value(b, key.metric),
            "candidate": Formatting.value(c, key.metric),
            "delta": Formatting.signedDelta(b.flatMap { b in c.map { $0 - b } }, key.metric),
            "verdict": verdict,
            "verdictClass": verdict == "FAIL" ? "fail" : verdict == "pass" ? "pass" : verdict == "flagged" ? "flag" : "",
        ]
    }

    /// Severity curves (a PNG) and the CE / mCE / mPC tables.
    private func robustnessContext(_ r: RobustnessScores, folder: URL) throws -> [String: Any] {
        let cleanResult = result.scenarios.first { $0.scenario.isClean }
        let clean = cleanResult.map { (baseline: $0.baseline.value(r.metric), candidate: $0.candidate.value(r.metric)) }
        let file = "severity-curves.png"
        try SeverityCurves(title: "\(r.metric) against severity", curves: r.curves, clean: clean)
            .render(to: folder.appendingPathComponent(file))
        func percent(_ value: Double?) -> String { value.map { String(format: "%.1f%%", $0 * 100) } ?? "—" }
        return [
            "curves": file,
            "reference": r.reference == .alexnet ? "AlexNet's published ImageNet-C errors" : "the baseline",
            "metric": r.metric.description,
            "summaries": [("baseline", r.baseline), ("candidate", r.candidate)].map { name, s in
                ["role": name, "mce": percent(s.mCE), "relativeMCE": percent(s.relativeMCE), "mpc": percent(s.mPC), "rpc": percent(s.rPC)]
            },
            "corruptions": r.corruptions.map { c in
                ["name": c.family, "baselineCE": percent(c.baseline.ce), "candidateCE": percent(c.candidate.ce),
                 "baselineRelative": percent(c.baseline.relativeCE), "candidateRelative": percent(c.candidate.relativeCE)]
            },
            "notes": r.notes.map { ["note": $0] },
        ]
    }

    private func context(sections: [[String: Any]]) -> [String: Any] {
        let table = result.comparisonRows.map { row in
            var entry = Self.cells(row.metric, baseline: row.baseline, candidate: row.candidate, verdict: row.verdict)
            entry["interval"] = row.intervalText
            if row.isFirstOfScenario { entry["scenario"] = row.scenarioLabel }
            entry["anchor"] = Self.fileStem(row.scenario)
            return entry
        }
        let failures = result.failures
        let reused = result.scenarios.compactMap(\.baselineReusedFrom)
        return [
            "suite": result.suite.name,
            "passed": result.passed,
            "verdict": result.passed ? "PASS" : "FAIL",
            "verdictLine": (failures.isEmpty
                ? "All \(result.verdicts.count - result.flagged.count) checks passed."
                : "\(failures.count) of \(result.verdicts.count - result.flagged.count) checks failed.")
                + (result.flagged.isEmpty ? "" : result.flagged.count == 1 ? " 1 check on a too-small slice is flagged, not gated."
                    : " \(result.flagged.count) checks on too-small slices are flagged, not gated."),
            "hasFailures": !failures.isEmpty,
            "version": result.environment.vigilVersion,
            "failures": failures.map { ["explanation": $0.explanation, "source": $0.condition.source] },
            "hasFlagged": !result.flagged.isEmpty,
            "flagged": result.flagged.map { ["explanation": $0.explanation, "flag": $0.flag ?? "", "source": $0.condition.source] },
            "checks": result.verdicts.map {
                ["explanation": $0.explanation, "source": $0.condition.source, "passed": $0.passed,
                 "isFlagged": $0.flag != nil, "flag": $0.flag ?? ""]
            },
            "meta": [
                ["key": "Run", "value": result.id],
                ["key": "Started", "value": result.startedAt.formatted(.iso8601)],
                ["key": "Duration", "value": String(format: "%.1f s", result.durationSeconds)],
                ["key": "Suite", "value": "\(result.suite.path) (sha256 \(result.suite.sha256.prefix(16))…)"],
                ["key": "Golden set", "value": "\(result.goldenSet.name) \(result.goldenSet.version), \(result.goldenSet.samples) samples, identity \(result.goldenSet.identity)"],
                ["key": "Seed", "value": "\(result.seed)"],
            ] + (result.operatingPoint.map { point in
                [["key": "Operating point", "value": "IoU ≥ \(Formatting.number(point.iou)); score ≥ \(Formatting.number(point.baselineScoreThreshold)) (baseline), ≥ \(Formatting.number(point.candidateScoreThreshold)) (candidate)"]]
            } ?? []) + [
                ["key": "Baseline", "value": Self.modelLine(result.baseline)],
                ["key": "Candidate", "value": Self.modelLine(result.candidate)],
                ["key": "Baseline outcomes", "value": reused.isEmpty ? "evaluated in this run" : "reused from run \(Set(reused).sorted().joined(separator: ", ")) for \(reused.count) of \(result.scenarios.count) scenarios"],
                ["key": "Git commit", "value": result.environment.gitCommit ?? "not in a git checkout"],
                ["key": "Versions", "value": "Vigil \(result.environment.vigilVersion), OpenCV \(result.environment.opencvVersion)"],
                ["key": "Workers", "value": "\(result.environment.workers) (OpenCV threads each: \(result.environment.opencvThreads)), batch size \(result.batchSize)"],
            ],
            "table": table,
            "sections": sections,
        ]
    }

    static let template = """
    <!DOCTYPE html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <title>Vigil · {{suite}} · {{verdict}}</title>
    <style>
      body { font-family: "DejaVu Sans", system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; padding: 0 1rem; }
      h1 { font-size: 1.5rem; margin-bottom: .3rem; }
      h2 { font-size: 1.2rem; margin-top: 2.5rem; border-bottom: 1px solid #ddd; padding-bottom: .3rem; }
      .verdict { display: inline-block; padding: .35rem .9rem; border-radius: 4px; color: #fff; font-weight: bold; font-size: 1.2rem; }
      .verdict.pass { background: #009E73; } .verdict.fail { background: #D55E00; }
      table { border-collapse: collapse; margin: .8rem 0; font-size: .9rem; }
      th, td { padding: .25rem .7rem; text-align: left; border-bottom: 1px solid #eee; }
      td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
      td.fail { color: #D55E00; font-weight: bold; } td.pass { color: #009E73; } td.flag { color: #B07A00; font-weight: bold; }
      .meta td:first-child { color: #666; white-space: nowrap; }
      .meta td { word-break: break-all; }
      ul.checks li { margin: .2rem 0; } .src { color: #888; font-size: .8rem; }
      .muted { color: #666; } img { max-width: 100%; border: 1px solid #ddd; margin: .4rem 0; }
      .diagrams img { width: 360px; margin-right: .8rem; }
      h3 { font-size: 1rem; margin: 1.6rem 0 .2rem; }
      table.classes { font-size: .8rem; } table.classes th { font-weight: normal; color: #555; }
      table.classes th.group { text-align: center; font-weight: bold; color: #222; border-bottom: none; }
      table.classes td, table.classes th { padding: .2rem .45rem; }
      .tiles { display: flex; flex-wrap: wrap; gap: .6rem; }
      figure { margin: 0; }
      .tile { border: 1px solid #ddd; padding: .4rem; font-size: .8rem; }
      .tile.new { border: 3px solid #D55E00; padding: calc(.4rem - 2px); }
      .tile .pictures { display: flex; gap: .4rem; align-items: flex-start; }
      .tile img, .inputs img { border: 1px solid #ddd; margin: 0; background: #eee; }
      img.crisp { image-rendering: pixelated; }
      .badge { background: #D55E00; color: #fff; font-weight: bold; padding: 0 .3rem; }
      .detection-row { display: flex; gap: .6rem; align-items: flex-start; margin: .4rem 0; }
      .detection-row > a img { margin: 0; }
      .inputs { display: flex; flex-direction: column; gap: .4rem; font-size: .8rem; }
      img.legend { border: none; }
      iframe.signoffs { width: 100%; height: 7rem; border: 1px solid #ddd; margin-top: .6rem; }
    </style>
    </head>
    <body>
    <h1>Vigil report — {{suite}}</h1>
    <p><span class="verdict {{#passed}}pass{{/passed}}{{^passed}}fail{{/passed}}">{{verdict}}</span> {{verdictLine}}</p>
    <iframe class="signoffs" src="signoffs.html" title="Sign-offs"></iframe>
    {{#hasFailures}}
    <h2>Why it failed</h2>
    <ul class="checks">
    {{#failures}}<li>{{explanation}} <span class="src">{{source}}</span></li>{{/failures}}
    </ul>
    {{/hasFailures}}
    {{#hasFlagged}}
    <h2>Flagged, not gated</h2>
    <p class="muted">These scenarios have fewer samples than the suite's min_samples, so their checks are shown but do not decide the gate.</p>
    <ul class="checks">
    {{#flagged}}<li>⚑ {{explanation}} — {{flag}} <span class="src">{{source}}</span></li>{{/flagged}}
    </ul>
    {{/hasFlagged}}
    <h2>Run</h2>
    <table class="meta">
    {{#meta}}<tr><td>{{key}}</td><td>{{value}}</td></tr>{{/meta}}
    </table>
    <h2>Scenarios</h2>
    <table>
    <tr><th>scenario</th><th>metric</th><th>baseline</th><th>candidate</th><th>delta</th><th>95% CI of delta</th><th>verdict</th></tr>
    {{#table}}<tr><td>{{#scenario}}<a href="#{{anchor}}">{{scenario}}</a>{{/scenario}}</td><td>{{metric}}</td><td class="num">{{baseline}}</td><td class="num">{{candidate}}</td><td class="num">{{delta}}</td><td class="num">{{interval}}</td><td class="{{verdictClass}}">{{verdict}}</td></tr>
    {{/table}}
    </table>
    {{#trend}}
    <h2 id="trend">Trend</h2>
    <p class="muted">{{line}}</p>
    {{#chart}}<p><img src="{{chart}}" alt="{{metric}} of each scenario over the suite's stored runs"></p>{{/chart}}
    {{/trend}}
    {{#robustness}}
    <h2 id="robustness">Robustness</h2>
    <p class="muted">Corruption errors (Hendrycks &amp; Dietterich) normalised by {{reference}}; mPC and rPC (Michaelis et al.) from {{metric}}. Definitions: METRICS.md.</p>
    <table>
    <tr><th></th><th>mCE</th><th>relative mCE</th><th>mPC</th><th>rPC</th></tr>
    {{#summaries}}<tr><td>{{role}}</td><td class="num">{{mce}}</td><td class="num">{{relativeMCE}}</td><td class="num">{{mpc}}</td><td class="num">{{rpc}}</td></tr>
    {{/summaries}}
    </table>
    {{#notes}}<p class="muted">Note: {{note}}</p>{{/notes}}
    <p><img src="{{curves}}" alt="{{metric}} against severity for each corruption"></p>
    <table>
    <tr><th>corruption</th><th>CE baseline</th><th>CE candidate</th><th>relative CE baseline</th><th>relative CE candidate</th></tr>
    {{#corruptions}}<tr><td>{{name}}</td><td class="num">{{baselineCE}}</td><td class="num">{{candidateCE}}</td><td class="num">{{baselineRelative}}</td><td class="num">{{candidateRelative}}</td></tr>
    {{/corruptions}}
    </table>
    {{/robustness}}
    {{#sections}}
    <h2 id="{{anchor}}">{{id}} {{#passed}}<span class="muted">· pass</span>{{/passed}}{{^passed}}<span style="color:#D55E00">· FAIL</span>{{/passed}}</h2>
    <p class="muted">{{summary}}{{#parameters}} — {{parameters}}{{/parameters}}</p>
    {{#reuse}}<p class="muted">{{reuse}}</p>{{/reuse}}
    <table>
    <tr><th>metric</th><th>baseline</th><th>candidate</th><th>delta</th></tr>
    {{#metrics}}<tr><td>{{metric}}</td><td class="num">{{baseline}}</td><td class="num">{{candidate}}</td><td class="num">{{delta}}</td></tr>
    {{/metrics}}
    </table>
    {{#classes}}
    <table class="classes">
    <tr><th rowspan="2">class</th><th rowspan="2">support</th>{{#metrics}}<th colspan="2" class="group">{{name}}</th>{{/metrics}}</tr>
    <tr>{{#metrics}}<th>baseline → candidate</th><th>Δ</th>{{/metrics}}</tr>
    {{#rows}}<tr><td>{{class}}</td><td class="num">{{support}}</td>{{#cells}}<td class="num">{{value}}</td><td class="num{{#worse}} fail{{/worse}}">{{delta}}</td>{{/cells}}</tr>
    {{/rows}}
    </table>
    {{#note}}<p class="muted">{{note}}</p>{{/note}}
    {{/classes}}
    {{#confusion}}<p><img src="{{confusion}}" alt="confusion matrices of baseline and candidate and their difference on {{id}}"></p>{{/confusion}}
    {{#galleries}}
    {{#title}}<h3>{{title}}</h3><p class="muted">{{subtitle}}</p>{{/title}}
    {{#hasTiles}}<div class="tiles">{{/hasTiles}}
    {{#tiles}}<figure class="tile{{#isNew}} new{{/isNew}}">
    <div class="pictures">{{#thumbnail}}<a href="{{full}}"><img src="{{src}}" width="{{width}}" height="{{height}}" alt="{{alt}}" title="{{title}}"{{#crisp}} class="crisp"{{/crisp}}></a>{{/thumbnail}}{{#input}}<img src="{{src}}" width="{{width}}" height="{{height}}" alt="{{alt}}" title="{{title}}"{{#crisp}} class="crisp"{{/crisp}}>{{/input}}</div>
    <figcaption>{{#isNew}}<span class="badge">NEW</span> {{/isNew}}<b>true {{label}} → {{predicted}}</b><br>confidence {{confidence}}<br><span class="muted">#{{rank}} {{sample}}</span></figcaption>
    </figure>{{/tiles}}
    {{#hasTiles}}</div>{{/hasTiles}}
    {{#legend}}<p><img src="{{legend}}" alt="legend: true positive, false positive, missed object, found object, crowd region" class="legend"></p>{{/legend}}
    {{#rows}}<div class="detection-row"><a href="{{full}}"><img src="{{file}}" alt="baseline and candidate detections on {{sample}}"></a>{{#hasInputs}}<div class="inputs">{{#inputs}}<figure><img src="{{src}}" width="{{width}}" height="{{height}}" alt="{{alt}}" title="{{title}}"{{#crisp}} class="crisp"{{/crisp}}><figcaption class="muted">{{role}} input</figcaption></figure>{{/inputs}}</div>{{/hasInputs}}</div>
    {{/rows}}
    {{^title}}<p class="muted">{{none}}</p>{{/title}}
    {{/galleries}}
    <div class="diagrams">{{#diagrams}}<img src="{{file}}" alt="{{role}} reliability diagram">{{/diagrams}}</div>
    {{/sections}}
    <h2>All checks</h2>
    <ul class="checks">
    {{#checks}}<li>{{#isFlagged}}⚑{{/isFlagged}}{{^isFlagged}}{{#passed}}✓{{/passed}}{{^passed}}✗{{/passed}}{{/isFlagged}} {{explanation}}{{#isFlagged}} — {{flag}}{{/isFlagged}} <span class="src">{{source}}</span></li>{{/checks}}
    </ul>
    <p class="muted">Written by Vigil {{version}}.</p>
    </body>
    </html>
    """
}

extension HTMLReport {
    /// Name, spec, model sha256 and footprint, for the report's header.
    static func modelLine(_ model: ModelInfo) -> String {
        var line = "\(model.name) — \(model.spec), model sha256 \(model.sha256)"
        if let footprint = model.footprint { line += "; \(footprint.summary)" }
        return line
    }
}

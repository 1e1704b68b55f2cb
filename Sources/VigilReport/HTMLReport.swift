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
    /// Tiles per failure gallery.
    public var galleryLimit: Int

    public init(result: RunResult, goldenSet: GoldenSet, galleryLimit: Int = 24) {
        self.result = result
        self.goldenSet = goldenSet
        self.galleryLimit = galleryLimit
    }

    /// Writes the report into `folder` (created if needed) and returns the path of index.html.
    @discardableResult
    public func write(to folder: URL) throws -> URL {
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw InputError("\(folder.path): cannot create the report folder (\(error.localizedDescription))")
        }
        let samples = Dictionary(uniqueKeysWithValues: goldenSet.samples.map { ($0.id, $0) })
        var sections: [[String: Any]] = []
        for scenarioResult in result.scenarios {
            sections.append(try section(scenarioResult, samples: samples, folder: folder))
        }
        var context = context(sections: sections)
        if let robustness = result.robustness {
            context["robustness"] = try robustnessContext(robustness, folder: folder)
        }
        let html = try MustacheTemplate(string: Self.template).render(context)
        let index = folder.appendingPathComponent("index.html")
        do {
            try html.write(to: index, atomically: true, encoding: .utf8)
        } catch {
            throw InputError("\(index.path): cannot write the report (\(error.localizedDescription))")
        }
        return index
    }

    /// `low-light@3` → `low-light-s3`, `ink=heavy:fog@2` → `ink-heavy_fog-s2`: safe in file
    /// names and URLs (letters, digits, `-` and `_` only).
    static func fileStem(_ scenario: Scenario) -> String {
        let text = scenario.id.replacingOccurrences(of: "@", with: "-s").replacingOccurrences(of: "=", with: "-")
        return String(text.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") ? $0 : "_" })
    }

    private func section(_ s: ScenarioResult, samples: [String: Sample], folder: URL) throws -> [String: Any] {
        let stem = Self.fileStem(s.scenario)
        var galleries: [[String: Any]] = []
        var diagrams: [[String: Any]] = []
        let detail: [MetricKey]
        switch (result.outcomes(s.scenario, .baseline), result.outcomes(s.scenario, .candidate)) {
        case (.classification(let baselineOutcomes)?, .classification(let candidateOutcomes)?):
            let baselineByID = Dictionary(uniqueKeysWithValues: baselineOutcomes.map { ($0.sampleID, $0) })
            for role in ModelRole.allCases {
                let outcomes = role == .baseline ? baselineOutcomes : candidateOutcomes
                let model = role == .baseline ? result.baseline : result.candidate
                let errors = outcomes.filter { !$0.correct }.count
                let tiles = FailureGallery.worst(outcomes, samples: samples, baseline: role == .candidate ? baselineByID : nil,
                                                 limit: galleryLimit)
                var gallery: [String: Any] = ["role": role.rawValue, "model": model.name, "n": outcomes.count,
                                              "none": "\(role.rawValue) \(model.name): no misclassifications on \(outcomes.count) samples."]
                if !tiles.isEmpty {
                    let file = "gallery-\(stem)-\(role.rawValue).png"
                    let newCount = tiles.filter(\.isNew).count
                    let subtitle = "\(errors) of \(outcomes.count) misclassified; the \(tiles.count) most confident shown"
                        + (role == .candidate ? " · NEW: the baseline got it right (\(newCount) shown)" : "")
                    try FailureGallery(title: "\(role.rawValue) \(model.name) · \(s.scenario.id)", subtitle: subtitle,
                                       tiles: tiles, classes: goldenSet.classes)
                        .render(to: folder.appendingPathComponent(file)) { sample in
                            try scenarioImage(sample, s.scenario)
                        }
                    gallery["file"] = file
                }
                galleries.append(gallery)
                if let calibration = (role == .baseline ? s.baseline : s.candidate).classification?.calibration {
                    let diagramFile = "reliability-\(stem)-\(role.rawValue).png"
                    try ReliabilityDiagram(title: "\(role.rawValue) \(model.name) · \(s.scenario.id)", bins: calibration.bins,
                                           ece: calibration.ece).render(to: folder.appendingPathComponent(diagramFile))
                    diagrams.append(["file": diagramFile, "role": role.rawValue])
                }
            }
            detail = [.init(.accuracy), .init(.macroF1), .init(.ece), .init(.brier), .init(.nll),
                      .init(.latencyP50), .init(.latencyP95), .init(.throughput)]
        case (.detection(let baselineOutcomes)?, .detection(let candidateOutcomes)?):
            let matches = result.detectionMatches[s.scenario.id] ?? [:]
            let baselineMatches = matches[.baseline] ?? [], candidateMatches = matches[.candidate] ?? []
            let scenarioSamples = candidateOutcomes.map { samples[$0.sampleID]! }
            let rows = DetectionGallery.worst(samples: scenarioSamples, baseline: baselineOutcomes, baselineMatches: baselineMatches,
                                              candidate: candidateOutcomes, candidateMatches: candidateMatches,
                                              limit: max(1, galleryLimit / 3))
            let failing = candidateMatches.filter { $0.misses + $0.falsePositives > 0 }.count
            var gallery: [String: Any] = ["role": "candidate", "model": result.candidate.name, "n": candidateOutcomes.count,
                                          "none": "candidate \(result.candidate.name): no misses or false positives on \(candidateOutcomes.count) images."]
            if !rows.isEmpty, let point = result.operatingPoint {
                let file = "detections-\(stem).png"
                let thresholds = point.baselineScoreThreshold == point.candidateScoreThreshold
                    ? "score ≥ \(DetectionGallery.score(point.candidateScoreThreshold))"
                    : "score ≥ \(DetectionGallery.score(point.baselineScoreThreshold)) (baseline), ≥ \(DetectionGallery.score(point.candidateScoreThreshold)) (candidate)"
                let subtitle = ["\(failing) of \(candidateOutcomes.count) images with candidate misses or false positives at IoU ≥ \(Formatting.number(point.iou)), \(thresholds)",
                                "the \(rows.count) worst shown, baseline left, candidate right · NEW: the candidate misses an object the baseline found, or has more false positives (\(rows.filter(\.isNew).count) shown)"]
                try DetectionGallery(title: "\(s.scenario.id) · worst images", subtitle: subtitle, rows: rows,
                                     classes: goldenSet.classes, modelNames: (result.baseline.name, result.candidate.name))
                    .render(to: folder.appendingPathComponent(file)) { sample in
                        try scenarioImage(sample, s.scenario)
                    }
                gallery["file"] = file
            }
            galleries.append(gallery)
            detail = [.init(.map), .init(.map50), .init(.map75), .init(.ar100), .init(.fpPerImage),
                      .init(.latencyP50), .init(.latencyP95), .init(.throughput)]
                + goldenSet.classes.flatMap { [MetricKey(.ap50, className: $0), MetricKey(.recall, className: $0), MetricKey(.precision, className: $0)] }
        default:
            detail = []
        }
        var section: [String: Any] = [
            "id": s.scenario.id,
            "anchor": stem,
            "summary": Self.summary(s.scenario),
            "passed": s.passed,
            "metrics": detail.map { Self.cells($0, baseline: s.baseline.value($0), candidate: s.candidate.value($0)) },
            "galleries": galleries,
            "diagrams": diagrams,
        ]
        // Optional lines are left out of the context (Mustache treats "" as present).
        if !s.scenario.parameters.isEmpty {
            section["parameters"] = s.scenario.parameters.joined(separator: " · ")
        }
        if let run = s.baselineReusedFrom {
            section["reuse"] = "Baseline outcomes reused from run \(run) (not run again)."
        }
        return section
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
      body { font-family: "DejaVu Sans", system-ui, sans-serif; margin: 2rem auto; max-width: 1120px; color: #222; padding: 0 1rem; }
      h1 { font-size: 1.5rem; margin-bottom: .3rem; }
      h2 { font-size: 1.2rem; margin-top: 2.5rem; border-bottom: 1px solid #ddd; padding-bottom: .3rem; }
      .verdict { display: inline-block; padding: .35rem .9rem; border-radius: 4px; color: #fff; font-weight: bold; font-size: 1.2rem; }
      .verdict.pass { background: #009E73; } .verdict.fail { background: #D55E00; }
      table { border-collapse: collapse; margin: .8rem 0; font-size: .9rem; }
      th, td { padding: .25rem .7rem; text-align: left; border-bottom: 1px solid #eee; }
      td.num { text-align: right; font-variant-numeric: tabular-nums; }
      td.fail { color: #D55E00; font-weight: bold; } td.pass { color: #009E73; } td.flag { color: #B07A00; font-weight: bold; }
      .meta td:first-child { color: #666; white-space: nowrap; }
      .meta td { word-break: break-all; }
      ul.checks li { margin: .2rem 0; } .src { color: #888; font-size: .8rem; }
      .muted { color: #666; } img { max-width: 100%; border: 1px solid #ddd; margin: .4rem 0; }
      .diagrams img { width: 360px; margin-right: .8rem; }
    </style>
    </head>
    <body>
    <h1>Vigil report — {{suite}}</h1>
    <p><span class="verdict {{#passed}}pass{{/passed}}{{^passed}}fail{{/passed}}">{{verdict}}</span> {{verdictLine}}</p>
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
    {{#galleries}}
    {{#file}}<p><img src="{{file}}" alt="{{role}} {{model}} failures on {{id}}"></p>{{/file}}
    {{^file}}<p class="muted">{{none}}</p>{{/file}}
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

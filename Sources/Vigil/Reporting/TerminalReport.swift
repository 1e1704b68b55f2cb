import Foundation

/// One line of the scenario × metric comparison that reports show.
public struct ComparisonRow: Sendable {
    public var scenario: Scenario
    public var isFirstOfScenario: Bool
    public var metric: MetricKey
    public var baseline: Double?
    public var candidate: Double?
    /// candidate − baseline, when both are defined.
    public var delta: Double?
    /// The paired-bootstrap interval of the delta at 95%, when computed.
    public var interval: Interval?
    /// "pass" or "FAIL" from the conditions on this metric and scenario, "flagged" when the
    /// scenario is too small to gate, "" when none apply.
    public var verdict: String

    /// The scenario's id, with its sample count for tag slices (which cover part of the set).
    public var scenarioLabel: String {
        scenario.slice.isEmpty ? scenario.id : "\(scenario.id) (n=\(sampleCount))"
    }

    public var sampleCount: Int

    /// "−2.90 … −1.10 pp", or "" without an interval.
    public var intervalText: String {
        interval.map { "\(Formatting.signedDelta($0.lower, metric.metric)) … \(Formatting.signedDelta($0.upper, metric.metric))" } ?? ""
    }
}

extension RunResult {
    /// One row per scenario and metric: the primary metric everywhere, other metrics where a
    /// condition names them.
    public var comparisonRows: [ComparisonRow] {
        var rows: [ComparisonRow] = []
        for scenario in scenarios {
            var first = true
            for key in reportedMetrics {
                let verdicts = scenario.verdicts.filter { $0.condition.metric == key }
                guard key == primaryMetric || !verdicts.isEmpty else { continue }
                let b = scenario.baseline.value(key), c = scenario.candidate.value(key)
                rows.append(ComparisonRow(
                    scenario: scenario.scenario, isFirstOfScenario: first, metric: key, baseline: b, candidate: c,
                    delta: b.flatMap { b in c.map { $0 - b } }, interval: scenario.comparison(of: key)?.interval,
                    verdict: verdicts.isEmpty ? "" : verdicts.contains { $0.flag != nil } ? "flagged"
                        : verdicts.allSatisfy(\.passed) ? "pass" : "FAIL",
                    sampleCount: scenario.candidate.n))
                first = false
            }
        }
        return rows
    }
}

/// The plain-text summary `vigil run` prints: what was compared, a scenario × metric table with
/// baseline, candidate, delta and verdict, and the reasons for every failed condition.
public enum TerminalReport {
    public static func render(_ result: RunResult) -> String {
        var lines: [String] = []
        lines.append("Vigil \(result.environment.vigilVersion) · suite \(result.suite.name) (\(result.suite.path)) · run \(result.id)")
        lines.append("golden set \(result.goldenSet.name) \(result.goldenSet.version): \(result.goldenSet.samples) samples, "
                     + "identity \(result.goldenSet.identity.prefix(12)) · seed \(result.seed)")
        for (role, model) in [("baseline ", result.baseline), ("candidate", result.candidate)] {
            lines.append("\(role) \(model.name) (sha256 \(model.sha256.prefix(12)))" + (model.footprint.map { ": \($0.summary)" } ?? ""))
        }
        if let point = result.operatingPoint {
            let scores = point.baselineScoreThreshold == point.candidateScoreThreshold
                ? "score ≥ \(Formatting.number(point.baselineScoreThreshold))"
                : "score ≥ \(Formatting.number(point.baselineScoreThreshold)) (baseline), ≥ \(Formatting.number(point.candidateScoreThreshold)) (candidate)"
            lines.append("operating point: IoU ≥ \(Formatting.number(point.iou)), \(scores)")
        }
        lines.append(reuseLine(result))
        lines.append("")
        lines.append(contentsOf: table(result))
        lines.append("")
        if let robustness = result.robustness {
            lines.append(contentsOf: robustnessLines(robustness))
            lines.append("")
        }
        let checks = result.verdicts.filter { $0.flag == nil }
        let failures = result.failures
        if failures.isEmpty {
            lines.append("Gate: PASS — all \(checks.count) checks passed")
        } else {
            lines.append("Gate: FAIL — \(failures.count) of \(checks.count) checks failed:")
            for verdict in failures {
                lines.append("  ✗ \(verdict.explanation)  [\(verdict.condition.source)]")
            }
        }
        let flagged = result.flagged
        if !flagged.isEmpty {
            lines.append("Flagged, not gated (fewer samples than the suite's min_samples):")
            for verdict in flagged {
                lines.append("  ⚑ \(verdict.explanation) — \(verdict.flag ?? "")  [\(verdict.condition.source)]")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// mCE, relative mCE, mPC and rPC for both models, then the notes that qualify them.
    static func robustnessLines(_ r: RobustnessScores) -> [String] {
        func percent(_ value: Double?) -> String { value.map { String(format: "%.1f%%", $0 * 100) } ?? "—" }
        let reference = r.reference == .alexnet ? "AlexNet's published ImageNet-C errors" : "the baseline"
        var lines = ["Robustness over \(r.curves.count) corruptions (\(r.metric); CE normalised by \(reference)):"]
        var rows = [["", "mCE", "relative mCE", "mPC", "rPC"]]
        for (name, s) in [("baseline", r.baseline), ("candidate", r.candidate)] {
            rows.append([name, percent(s.mCE), percent(s.relativeMCE), percent(s.mPC), percent(s.rPC)])
        }
        lines += layout(rows, rightAligned: [1, 2, 3, 4]).map { "  " + $0 }
        lines += r.notes.map { "  note: \($0)" }
        return lines
    }

    static func reuseLine(_ result: RunResult) -> String {
        let reused = result.scenarios.compactMap(\.baselineReusedFrom)
        guard !reused.isEmpty else { return "baseline evaluated in this run on all \(result.scenarios.count) scenarios" }
        let sources = Array(Set(reused)).sorted().joined(separator: ", ")
        if reused.count == result.scenarios.count {
            return "baseline outcomes reused from run \(sources) for all \(reused.count) scenarios (not run again)"
        }
        return "baseline outcomes reused from run \(sources) for \(reused.count) of \(result.scenarios.count) scenarios; evaluated for the rest"
    }

    static func table(_ result: RunResult) -> [String] {
        var rows: [[String]] = [["scenario", "metric", "baseline", "candidate", "delta", "95% CI of delta", "verdict"]]
        for row in result.comparisonRows {
            rows.append([row.isFirstOfScenario ? row.scenarioLabel : "", row.metric.description,
                         Formatting.value(row.baseline, row.metric.metric), Formatting.value(row.candidate, row.metric.metric),
                         Formatting.signedDelta(row.delta, row.metric.metric), row.intervalText, row.verdict])
        }
        return layout(rows, rightAligned: [2, 3, 4, 5])
    }

    /// Pads columns to equal width (by characters, so "−" and "—" count as one).
    public static func layout(_ rows: [[String]], rightAligned: Set<Int> = []) -> [String] {
        guard let columns = rows.map(\.count).max() else { return [] }
        let widths = (0..<columns).map { column in rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return rightAligned.contains(column) ? padding + cell : cell + padding
            }.joined(separator: "  ").replacing(/\ +$/, with: "")
        }
    }
}

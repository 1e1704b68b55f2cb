import Foundation

/// The gate as GitHub-flavoured Markdown, for `$GITHUB_STEP_SUMMARY`, a merge-request note or a
/// PR comment: the verdict, the scenario × metric table with deltas and intervals, the failed
/// checks with their explanations, sign-offs, and the report's path. Cut at `limit` characters
/// (GitHub refuses comments over 65 536) with a note saying so.
public enum MarkdownReport {
    public static let defaultLimit = 60_000

    public static func render(_ run: ReportedRun, limit: Int = defaultLimit) -> String {
        let result = run.result
        let checks = result.verdicts.filter { $0.flag == nil }
        let failures = result.failures
        var head: [String] = []
        head.append(result.passed
            ? "## ✅ Vigil: gate passed — \(escape(result.suite.name))"
            : "## ❌ Vigil: gate FAILED — \(escape(result.suite.name))")
        head.append("")
        head.append(result.passed ? "All \(checks.count) checks passed." : "\(failures.count) of \(checks.count) checks failed.")
        head.append("")
        head.append("- run `\(result.id)` · suite `\(code(result.suite.path))` (sha256 `\(result.suite.sha256.prefix(12))`)")
        head.append("- golden set \(escape(result.goldenSet.name)) \(escape(result.goldenSet.version)): \(result.goldenSet.samples) samples, identity `\(result.goldenSet.identity.prefix(12))`")
        head.append("- baseline \(escape(result.baseline.name)) (sha256 `\(result.baseline.sha256.prefix(12))`) → candidate \(escape(result.candidate.name)) (sha256 `\(result.candidate.sha256.prefix(12))`)")
        head.append("- \(TerminalReport.reuseLine(result))")
        if let report = run.reportPath { head.append("- report: `\(code(report))`") }
        head.append("")

        var failed: [String] = []
        if !failures.isEmpty {
            failed.append("### Failed checks")
            failed.append("")
            failed += failures.map { "- ✗ \(escape($0.explanation)) `\(code($0.condition.source))`" }
            failed.append("")
        }
        let flagged = result.flagged
        if !flagged.isEmpty {
            failed.append("### Flagged, not gated (fewer samples than the suite's min_samples)")
            failed.append("")
            failed += flagged.map { "- ⚑ \(escape($0.explanation)) — \(escape($0.flag ?? "")) `\(code($0.condition.source))`" }
            failed.append("")
        }
        var signed: [String] = []
        if !run.signOffs.isEmpty {
            signed.append("### Sign-offs")
            signed.append("")
            signed += run.signOffs.map { "- \(escape($0.summary))" }
            signed.append("")
        }

        var table = ["| scenario | metric | baseline | candidate | delta | 95% CI of delta | verdict |",
                     "|---|---|---:|---:|---:|---:|---|"]
        for row in result.comparisonRows {
            let verdict = row.verdict == "FAIL" ? "**FAIL**" : row.verdict
            table.append("| \(row.isFirstOfScenario ? "`\(code(row.scenarioLabel))`" : "") | `\(code(row.metric.description))` | "
                         + "\(Formatting.value(row.baseline, row.metric.metric)) | \(Formatting.value(row.candidate, row.metric.metric)) | "
                         + "\(Formatting.signedDelta(row.delta, row.metric.metric)) | \(row.intervalText) | \(verdict) |")
        }
        table.append("")

        let whole = (head + table + failed + signed).joined(separator: "\n")
        guard whole.count > limit else { return whole }
        // Too long: the verdict, the failed checks and the sign-offs stay; table rows go from
        // the end, as many as needed.
        let lines = Array(table.dropLast()), rows = lines.count - 2
        func assembled(_ shown: Int) -> String {
            let note = "_… cut at \(limit) characters: \(rows - shown) of \(rows) table rows left out; the report has them all._"
            return (head + lines.prefix(2 + shown) + ["", note, ""] + failed + signed).joined(separator: "\n")
        }
        var low = 0, high = rows
        while low < high {
            let middle = (low + high + 1) / 2
            if assembled(middle).count <= limit { low = middle } else { high = middle - 1 }
        }
        let text = assembled(low)
        return text.count <= limit ? text : String(text.prefix(limit - 2)) + "…\n"
    }

    /// Data as Markdown text: ASCII punctuation that Markdown or HTML would read as markup is
    /// backslash-escaped, so names from data stay literal (a class called `<b>|x*` shows as such).
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\", "`", "*", "_", "[", "]", "<", ">", "|", "~", "&":
                out.append("\\")
                out.append(character)
            case "\n", "\r":
                out.append(" ")
            default:
                out.append(character)
            }
        }
        return out
    }

    /// Text inside a code span: backticks cannot be escaped there, so they become ʼ.
    static func code(_ text: String) -> String {
        text.replacingOccurrences(of: "`", with: "ʼ").replacingOccurrences(of: "\n", with: " ")
    }
}

/// Writes ``MarkdownReport`` to a file (or `-`, standard output).
public struct MarkdownReporter: RunReporter {
    public var destination: ReportDestination
    public var limit: Int

    public init(_ destination: ReportDestination, limit: Int = MarkdownReport.defaultLimit) {
        self.destination = destination
        self.limit = limit
    }

    public func report(_ run: inout ReportedRun) throws {
        try destination.write(MarkdownReport.render(run, limit: limit), what: "Markdown summary")
    }
}

import Foundation

/// The gate as JUnit XML, for CI pages (GitLab's test report, Jenkins, GitHub test-report
/// actions): one `<testsuite>` for the run, one `<testcase>` per checked condition and scenario
/// (`classname` the scenario id, `name` the condition), a `<failure>` carrying the gate's
/// explanation, flagged verdicts (thin slices, not gated) as `<skipped>`, and properties naming
/// the run, both models' sha256 and the golden set's identity.
public enum JUnitReport {
    public static func render(_ run: ReportedRun) -> String {
        let result = run.result
        let verdicts = result.verdicts
        let failures = verdicts.filter(\.failsGate).count
        let skipped = verdicts.filter { $0.flag != nil }.count
        let seconds = String(format: "%.3f", result.durationSeconds)
        var properties: [(String, String)] = [
            ("run_id", result.id), ("verdict", result.passed ? "pass" : "fail"),
            ("suite", result.suite.path), ("suite_sha256", result.suite.sha256),
            ("golden_set", "\(result.goldenSet.name) \(result.goldenSet.version)"),
            ("golden_set_identity", result.goldenSet.identity),
            ("baseline", result.baseline.name), ("baseline_sha256", result.baseline.sha256),
            ("candidate", result.candidate.name), ("candidate_sha256", result.candidate.sha256),
            ("vigil_version", result.environment.vigilVersion),
        ]
        if let commit = result.environment.gitCommit { properties.append(("git_commit", commit)) }
        if let report = run.reportPath { properties.append(("report", report)) }
        if let store = run.storePath { properties.append(("store", store)) }
        for signOff in run.signOffs { properties.append(("sign_off", signOff.summary)) }

        var xml = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
        xml += #"<testsuites name="vigil" tests="\#(verdicts.count)" failures="\#(failures)" errors="0" skipped="\#(skipped)" time="\#(seconds)">"# + "\n"
        xml += #"  <testsuite name="\#(escape(result.suite.name))" tests="\#(verdicts.count)" failures="\#(failures)" errors="0" skipped="\#(skipped)" time="\#(seconds)" timestamp="\#(timestamp(result.startedAt))">"# + "\n"
        xml += "    <properties>\n"
        for (name, value) in properties {
            xml += #"      <property name="\#(name)" value="\#(escape(value))"/>"# + "\n"
        }
        xml += "    </properties>\n"
        for verdict in verdicts {
            let name = "\(verdict.condition.title) [\(verdict.condition.source)]"
            xml += #"    <testcase classname="\#(escape(verdict.scenario))" name="\#(escape(name))" time="0">"#
            if let flag = verdict.flag {
                xml += "\n" + #"      <skipped message="\#(escape("not gated: \(flag)"))"/>"# + "\n"
                xml += "      <system-out>\(escape(verdict.explanation))</system-out>\n    "
            } else if !verdict.passed {
                xml += "\n" + #"      <failure message="\#(escape(verdict.explanation))" type="\#(verdict.condition.rule.rawValue)">"#
                xml += escape("\(verdict.explanation)\n  [\(verdict.condition.source)]") + "</failure>\n    "
            } else {
                xml += "\n      <system-out>\(escape(verdict.explanation))</system-out>\n    "
            }
            xml += "</testcase>\n"
        }
        xml += "  </testsuite>\n</testsuites>\n"
        return xml
    }

    /// Text as XML character data or an attribute value: markup characters as entities, and
    /// characters XML 1.0 cannot hold at all (control characters other than tab and newlines)
    /// as U+FFFD, so that data never breaks the file.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out += "&#\(scalar.value);"
            default:
                let v = scalar.value
                let allowed = v >= 0x20 && !(0xD800...0xDFFF).contains(v) && v != 0xFFFE && v != 0xFFFF
                out.unicodeScalars.append(allowed ? scalar : "\u{FFFD}")
            }
        }
        return out
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}

/// Writes ``JUnitReport`` to a file (or `-`, standard output).
public struct JUnitReporter: RunReporter {
    public var destination: ReportDestination

    public init(_ destination: ReportDestination) {
        self.destination = destination
    }

    public func report(_ run: inout ReportedRun) throws {
        try destination.write(JUnitReport.render(run), what: "JUnit file")
    }
}

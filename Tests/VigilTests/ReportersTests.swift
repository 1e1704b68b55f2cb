import Foundation
import Testing
@testable import Vigil
import VigilTestSupport

@Suite("JSON key convention, JUnit and Markdown rendering")
struct ReportersTests {
    static func legacyResult() throws -> RunResult {
        try JSONConvention.decoder().decode(RunResult.self, from: Data(contentsOf: Repository.fixture("legacy-result.json")))
    }

    /// A result stored before the convention (camelCase run-level keys, written by Vigil on
    /// 2026-12-06 before this change) still reads, and is written back in snake_case only.
    @Test func resultsStoredWithCamelCaseKeysStillRead() throws {
        let result = try Self.legacyResult()
        #expect(result.id == "20261206-050819-79bd")
        #expect(result.batchSize == 32)
        #expect(result.environment.opencvVersion == "4.6.0")
        #expect(result.baseline.footprint?.sizeMB != nil)
        #expect(result.robustness?.candidate.mCE != nil)
        #expect(result.scenarios.first?.verdicts.first { $0.condition.metric.className == "9" } != nil)
        let written = String(decoding: try JSONConvention.encoder().encode(result), as: UTF8.self)
        var keys = Set<String>()
        func walk(_ value: Any) {
            if let object = value as? [String: Any] {
                keys.formUnion(object.keys)
                object.values.forEach(walk)
            } else if let array = value as? [Any] {
                array.forEach(walk)
            }
        }
        walk(try JSONSerialization.jsonObject(with: Data(written.utf8)))
        #expect(keys.filter { $0.contains(where: \.isUppercase) }.isEmpty, "camelCase keys left: \(keys.filter { $0.contains(where: \.isUppercase) })")
        #expect(keys.isSuperset(of: ["started_at", "golden_set", "batch_size", "primary_metric", "vigil_version", "size_mb", "mce", "relative_ce", "class"]))
        // And what is written reads back to the same JSON.
        let again = try JSONConvention.decoder().decode(RunResult.self, from: Data(written.utf8))
        #expect(String(decoding: try JSONConvention.encoder().encode(again), as: UTF8.self) == written)
    }

    @Test func junitEscapesDataAndDropsCharactersXMLCannotHold() {
        #expect(JUnitReport.escape("a<b & \"c\" 'd'>") == "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;")
        #expect(JUnitReport.escape("x\u{1}y\tz\n") == "x\u{FFFD}y&#9;z&#10;")
    }

    @Test func markdownIsCutAtTheLimitWithANote() throws {
        let run = ReportedRun(result: try Self.legacyResult(), reportPath: "Reports/x/index.html")
        let whole = MarkdownReport.render(run)
        #expect(whole.count < 60_000)
        #expect(!whole.contains("cut at"))
        let limit = whole.count - 1
        let cut = MarkdownReport.render(run, limit: limit)
        #expect(cut.count <= limit)
        #expect(cut.contains("_… cut at \(limit) characters: "), "\(cut)")
        #expect(cut.contains("| `clean` | `accuracy` |"), "the first rows stay")
        #expect(cut.contains("### Failed checks"), "failed checks are kept; table rows go first")
        #expect(MarkdownReport.escape("<b>|x*_") == "\\<b\\>\\|x\\*\\_")
    }
}

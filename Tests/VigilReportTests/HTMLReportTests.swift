import Foundation
import Testing
import Vigil
@testable import VigilReport

@Suite("HTML report and Cairo PNGs")
struct HTMLReportTests {
    static let hostile = "<script>alert('x')</script>"

    /// A golden set whose class names, sample ids and paths come from an attacker, with real PNGs.
    func hostileGoldenSet(in folder: URL) throws -> GoldenSet {
        let classes = ["<b>cat</b>", "dog & \"friends\""]
        var samples: [Sample] = []
        for i in 0..<6 {
            let id = i == 0 ? Self.hostile : "s\(i)"
            let path = "images/img\(i)<x>.png"
            let url = folder.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            let pixels = (0..<(24 * 24)).map { UInt8(($0 * (i + 3)) % 256) }
            try Image(width: 24, height: 24, channels: 1, pixels: pixels).write(to: url)
            samples.append(Sample(id: id, path: path, sha256: try SHA256.hex(ofFile: url), label: classes[i % 2]))
        }
        let manifest = GoldenSetManifest(format: GoldenSetManifest.format, name: "evil<set>", version: "1",
                                         task: .classification, description: nil, classes: classes, samples: samples)
        try JSONEncoder().encode(manifest).write(to: folder.appendingPathComponent("manifest.json"))
        return try GoldenSet.load(folder)
    }

    func result(for set: GoldenSet) -> RunResult {
        let scenarios = [Scenario.clean, try! Scenario(id: "occlusion@3")]
        var outcomes: [String: [ModelRole: ScenarioOutcomes]] = [:]
        var results: [ScenarioResult] = []
        for scenario in scenarios {
            // Baseline right on every sample; candidate wrong on samples 0, 1 and 2 (so: new failures).
            let baseline = set.samples.enumerated().map { i, s in
                Outcome(sampleID: s.id, label: i % 2, probabilities: i % 2 == 0 ? [0.9, 0.1] : [0.2, 0.8], latencyMs: 1)
            }
            let candidate = set.samples.enumerated().map { i, s in
                Outcome(sampleID: s.id, label: i % 2, probabilities: i < 3 ? (i % 2 == 0 ? [0.3, 0.7] : [0.95, 0.05]) : (i % 2 == 0 ? [0.6, 0.4] : [0.4, 0.6]), latencyMs: 1)
            }
            outcomes[scenario.id] = [.baseline: .classification(baseline), .candidate: .classification(candidate)]
            let b = ScenarioMetrics.classification(SuiteRunner.metrics(baseline, classes: set.classes))
            let c = ScenarioMetrics.classification(SuiteRunner.metrics(candidate, classes: set.classes))
            let condition = Condition(metric: MetricKey(.fpr, className: set.classes[0]), scenario: "all", rule: .atMost,
                                      threshold: 0.1, source: "suite<1>.yaml:3")
            results.append(ScenarioResult(scenario: scenario, baseline: b, candidate: c, baselineReusedFrom: nil,
                                          verdicts: [Gate.evaluate(condition, scenario: scenario, baseline: b, candidate: c)]))
        }
        return RunResult(
            id: "20261125-000000-abcd", startedAt: Date(), finishedAt: Date(),
            suite: SuiteInfo(name: Self.hostile, path: "suite<1>.yaml", sha256: "0"),
            goldenSet: GoldenSetInfo(set), seed: 3, batchSize: 2,
            baseline: ModelInfo(name: "base<i>", spec: "a.yaml", sha256: "1", identity: "x"),
            candidate: ModelInfo(name: "cand\"idate", spec: "b.yaml", sha256: "2", identity: "y"),
            environment: RunEnvironment(vigilVersion: "t", opencvVersion: "4.6.0", gitCommit: nil, workers: 1, opencvThreads: 1),
            primaryMetric: MetricKey(.accuracy), reportedMetrics: [MetricKey(.accuracy), MetricKey(.fpr, className: set.classes[0])],
            scenarios: results, outcomes: outcomes)
    }

    @Test func everyStringFromDataIsEscaped() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let set = try hostileGoldenSet(in: folder.appendingPathComponent("golden"))
        let index = try HTMLReport(result: result(for: set), goldenSet: set).write(to: folder.appendingPathComponent("report"))
        let html = try String(contentsOf: index, encoding: .utf8)
        #expect(!html.contains("<script>"))
        #expect(!html.contains("<b>cat"))
        #expect(!html.contains("base<i>"))
        #expect(!html.contains("suite<1>"))
        #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"))
        #expect(html.contains("fpr[&lt;b&gt;cat&lt;/b&gt;]"))
        #expect(html.contains("cand&quot;idate"))
        #expect(html.contains("FAIL"))
    }

    @Test func writesGalleriesAndDiagramsAsPNG() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let set = try hostileGoldenSet(in: folder.appendingPathComponent("golden"))
        let report = folder.appendingPathComponent("report")
        try HTMLReport(result: result(for: set), goldenSet: set).write(to: report)
        let files = try FileManager.default.contentsOfDirectory(atPath: report.path).sorted()
        // The baseline made no mistakes, so it has no gallery; the candidate has one per scenario.
        #expect(files == ["gallery-clean-candidate.png", "gallery-occlusion-s3-candidate.png", "index.html",
                          "reliability-clean-baseline.png", "reliability-clean-candidate.png",
                          "reliability-occlusion-s3-baseline.png", "reliability-occlusion-s3-candidate.png"])
        for file in files where file.hasSuffix(".png") {
            let data = try Data(contentsOf: report.appendingPathComponent(file))
            #expect(Array(data.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "\(file) is not a PNG")
            // Width and height from the IHDR chunk.
            let width = data[16..<20].reduce(0) { $0 << 8 | Int($1) }, height = data[20..<24].reduce(0) { $0 << 8 | Int($1) }
            #expect(width > 300 && height > 200, "\(file) is \(width)x\(height)")
        }
        let html = try String(contentsOf: report.appendingPathComponent("index.html"), encoding: .utf8)
        #expect(html.contains("no misclassifications on 6 samples"))
        #expect(html.contains(#"<img src="gallery-occlusion-s3-candidate.png""#))
    }

    /// With robustness scores the report draws severity curves and the CE table; a flagged
    /// check is listed as flagged, not as a failure.
    @Test func robustnessAndFlaggedChecksAppear() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let set = try hostileGoldenSet(in: folder.appendingPathComponent("golden"))
        var run = result(for: set)
        run.robustness = RobustnessScores.compute(run.scenarios.map {
            .init(scenario: $0.scenario, baseline: $0.baseline.value(MetricKey(.accuracy)), candidate: $0.candidate.value(MetricKey(.accuracy)))
        }, metric: MetricKey(.accuracy), reference: .baseline)
        run.scenarios[1].verdicts[0].flag = "only 4 samples (min_samples 30): shown, not gated"
        let index = try HTMLReport(result: run, goldenSet: set).write(to: folder.appendingPathComponent("report"))
        let html = try String(contentsOf: index, encoding: .utf8)
        #expect(html.contains("<h2 id=\"robustness\">Robustness</h2>"))
        #expect(html.contains("<td>occlusion</td>"))
        #expect(html.contains("⚑ fpr[&lt;b&gt;cat&lt;/b&gt;] on occlusion@3"))
        #expect(html.contains("only 4 samples (min_samples 30): shown, not gated"))
        let curves = try Image(contentsOf: folder.appendingPathComponent("report/severity-curves.png"))
        #expect(curves.width >= 420 && curves.height > 150)
    }

    @Test func galleryOrdersByConfidenceAndMarksNewFailures() throws {
        let samples = Dictionary(uniqueKeysWithValues: (0..<4).map { ("s\($0)", Sample(id: "s\($0)", path: "p\($0)", sha256: "", label: "a")) })
        let outcomes = [
            Outcome(sampleID: "s0", label: 0, probabilities: [0.4, 0.6], latencyMs: 0),
            Outcome(sampleID: "s1", label: 0, probabilities: [0.1, 0.9], latencyMs: 0),
            Outcome(sampleID: "s2", label: 0, probabilities: [0.9, 0.1], latencyMs: 0),   // correct
            Outcome(sampleID: "s3", label: 0, probabilities: [0.1, 0.9], latencyMs: 0),
        ]
        let baseline = ["s0": outcomes[2], "s1": Outcome(sampleID: "s1", label: 0, probabilities: [0.2, 0.8], latencyMs: 0)]
        let tiles = FailureGallery.worst(outcomes, samples: samples, baseline: baseline, limit: 10)
        #expect(tiles.map(\.sample.id) == ["s1", "s3", "s0"])          // 0.9, 0.9 (id order), 0.6
        #expect(tiles.map(\.isNew) == [false, false, true])             // only s0 was right for the baseline
        #expect(FailureGallery.worst(outcomes, samples: samples, baseline: nil, limit: 2).count == 2)
    }

    @Test func scenarioFileNamesAreSafe() throws {
        #expect(try HTMLReport.fileStem(Scenario(id: "low-light@3")) == "low-light-s3")
        #expect(try HTMLReport.fileStem(Scenario(id: "ink=heavy:fog@2+low-light@1")) == "ink-heavy_fog-s2_low-light-s1")
        #expect(HTMLReport.fileStem(.clean) == "clean")
    }
}

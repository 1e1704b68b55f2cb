import Foundation
import Testing
import Vigil
import VigilTestSupport
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

    @Test func writesGalleriesHeatMapsAndDiagramsAsPNG() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let set = try hostileGoldenSet(in: folder.appendingPathComponent("golden"))
        let report = folder.appendingPathComponent("report")
        // The candidate reads 8×8 grey, so its input pictures differ from the 24×24 images.
        let input = ModelSpec.Input(width: 8, height: 8, color: .gray, resize: .stretch, mean: [0], std: [1])
        try HTMLReport(result: result(for: set), goldenSet: set, modelInputs: [.candidate: input]).write(to: report)
        let files = try FileManager.default.contentsOfDirectory(atPath: report.path).sorted()
        #expect(files == ["confusion-clean.png", "confusion-occlusion-s3.png", "images", "index.html",
                          "reliability-clean-baseline.png", "reliability-clean-candidate.png",
                          "reliability-occlusion-s3-baseline.png", "reliability-occlusion-s3-candidate.png", "signoffs.html"])
        // The baseline made no mistakes, so only the candidate's failures (samples 0, 1, 2) are
        // pictured: the scenario image (small, so its own thumbnail) and what the model received.
        let pictures = try FileManager.default.contentsOfDirectory(atPath: report.appendingPathComponent("images").path).sorted()
        #expect(pictures == ["clean-0-input-candidate.png", "clean-0.png", "clean-1-input-candidate.png", "clean-1.png",
                             "clean-2-input-candidate.png", "clean-2.png",
                             "occlusion-s3-0-input-candidate.png", "occlusion-s3-0.png", "occlusion-s3-1-input-candidate.png",
                             "occlusion-s3-1.png", "occlusion-s3-2-input-candidate.png", "occlusion-s3-2.png"])
        for file in files where file.hasSuffix(".png") {
            let data = try Data(contentsOf: report.appendingPathComponent(file))
            #expect(Array(data.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "\(file) is not a PNG")
            // Width and height from the IHDR chunk.
            let width = data[16..<20].reduce(0) { $0 << 8 | Int($1) }, height = data[20..<24].reduce(0) { $0 << 8 | Int($1) }
            #expect(width > 300 && height > 150, "\(file) is \(width)x\(height)")
        }
        // The full-size picture is the scenario image byte for byte; the input is the model's size.
        let clean = try Image(contentsOf: report.appendingPathComponent("images/clean-1.png"))
        #expect(clean.pixels() == (try Image(contentsOf: set.url(of: set.samples[1]))).pixels())
        let seen = try Image(contentsOf: report.appendingPathComponent("images/clean-1-input-candidate.png"))
        #expect(seen.width == 8 && seen.height == 8 && seen.channels == 1)
        let html = try String(contentsOf: report.appendingPathComponent("index.html"), encoding: .utf8)
        #expect(html.contains("no misclassifications on 6 samples"))
        // 24-px images are enlarged 7× (168 px) with crisp pixels, 8-px inputs 22× (176 px).
        #expect(html.contains(#"<a href="images/occlusion-s3-2.png"><img src="images/occlusion-s3-2.png" width="168" height="168""#))
        #expect(html.contains(#"<img src="images/occlusion-s3-2-input-candidate.png" width="176" height="176""#))
        #expect(html.contains("what candidate cand&quot;idate received: 8×8 (stretch)"))
        #expect(html.contains("<span class=\"badge\">NEW</span>"))
        // The per-class table: both classes, precision … FNR as baseline → candidate.
        #expect(html.contains(#"<th colspan="2" class="group">fnr</th>"#))
        #expect(html.contains(#"<div class="tiles">"#))
        #expect(html.contains("<td>dog &amp; &quot;friends&quot;</td>"))
    }

    /// A picture that cannot be made (an image gone since the run) fails the report with the
    /// file's name, not a crash or a half-drawn gallery passed off as complete.
    @Test func aMissingImageFailsTheReportNamingIt() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let set = try hostileGoldenSet(in: folder.appendingPathComponent("golden"))
        try FileManager.default.removeItem(at: set.url(of: set.samples[2]))
        let message = inputError { try HTMLReport(result: result(for: set), goldenSet: set).write(to: folder.appendingPathComponent("report")) }
        #expect(message.contains("img2<x>.png"), "\(message)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("report/index.html").path))
    }

    @Test func confusionHeatMapsShowCountsAndChange() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-confusion-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("c.png")
        try ConfusionHeatMaps(title: "t", classes: ["a", "b"], baseline: [[9, 1], [0, 10]], candidate: [[5, 5], [0, 10]],
                              modelNames: ("x", "y")).render(to: url)
        let image = try Image(contentsOf: url)
        let pixels = image.pixels(), width = image.width
        func colour(x: Int, y: Int) -> [UInt8] { Array(pixels[(y * width + x) * 3..<(y * width + x) * 3 + 3]) }
        // Find the difference panel's cells by colour: the candidate lost 4 on the diagonal
        // (worse, vermillion: red > blue) and gained 4 off it (worse too); b's row is unchanged (white).
        let reddish = (0..<image.height).flatMap { y in (width * 2 / 3..<width).map { (x: $0, y: y) } }
            .filter { let c = colour(x: $0.x, y: $0.y); return Int(c[2]) > Int(c[0]) + 60 }
        #expect(!reddish.isEmpty)
        let bluish = (0..<image.height).flatMap { y in (width * 2 / 3..<width).map { (x: $0, y: y) } }
            .filter { let c = colour(x: $0.x, y: $0.y); return Int(c[0]) > Int(c[2]) + 60 }
        #expect(bluish.isEmpty, "nothing got better, so the difference has no blue cell")
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

import Foundation
import Testing
import VigilTestSupport
@testable import Vigil

@Suite("Suite files and model specs: parsing and errors that name the line")
struct SuiteAndSpecTests {
    func write(_ text: String, name: String = "file.yaml") throws -> (URL, URL) {
        let folder = try temporaryFolder()
        let url = folder.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return (folder, url)
    }

    @Test func defaultSuiteLoads() throws {
        let suite = try Suite.load(Repository.url("Suites/default.yaml"), displayPath: "Suites/default.yaml")
        #expect(suite.name == "digits-default")
        #expect(suite.scenarios.first == .clean)
        #expect(try suite.scenarios.contains(Scenario(id: "low-light@5")))
        #expect(suite.goldenSet.standardizedFileURL == Repository.url("GoldenSets/digits").standardizedFileURL)
        #expect(suite.conditions.contains { $0.rule == .maxRegression && $0.scenario == "all" && $0.threshold == 0.01 })
        #expect(suite.conditions.allSatisfy { $0.source.hasPrefix("Suites/default.yaml:") })
        #expect(suite.reportedMetrics.first == MetricKey(.accuracy))
    }

    static let suiteTemplate = """
        suite: s
        golden_set: g
        baseline: b.yaml
        candidate: c.yaml
        seed: 1
        scenarios:
          - clean
          - name: low-light
            severities: [1, 3]
        conditions:
          - metric: accuracy
            scenario: all
            max_regression: 0.01
        """

    @Test(arguments: [
        ("    max_regression: 0.01", "    max_regression: 0.01\n  - metric: acuracy\n    scenario: all\n    max_regression: 0.01",
         "file.yaml:14: unknown metric 'acuracy' (did you mean 'accuracy'?)"),
        ("seed: 1", "sed: 1", "file.yaml:5: unknown key 'sed' in the suite (did you mean 'seed'?)"),
        ("    scenario: all", "    scenario: low-lihgt", "file.yaml:12: scenario 'low-lihgt' is not in this suite (did you mean 'low-light'?)"),
        ("    scenario: all", "    scenario: occlusion", "file.yaml:12: scenario 'occlusion' is not in this suite (valid: all, clean, low-light, low-light@1, low-light@3)"),
        ("    severities: [1, 3]", "    severities: [1, 7]", "file.yaml:9: each severity must be in 1...5, got 7"),
        ("  - metric: accuracy", "  - metric: fpr", "file.yaml:11: metric 'fpr' is per class; add 'class: NAME'"),
        ("    max_regression: 0.01", "    max_regresion: 0.01", "file.yaml:13: unknown key 'max_regresion' in a condition (did you mean 'max_regression'?)"),
        ("  - clean", "  - clean@2", "file.yaml:7: scenario 'clean@2': 'clean' takes no severity and cannot be chained"),
        ("  - clean", "  - fgo@2", "file.yaml:7: unknown scenario 'fgo' (did you mean 'fog'?) (`vigil scenarios` lists them)"),
        ("  - clean", "  - slice: {}", "file.yaml:7: slice needs at least one tag: value pair"),
        ("  - clean", "  - slice: {ink: a+b}", "file.yaml:7: slice tag 'ink: a+b': tags used in slices must be non-empty and free of , = : + @"),
        ("  - clean", "  - severities: [1]", "file.yaml:7: a scenario needs 'name' (with 'severities') or 'slice'"),
        ("  - clean", "  - name: low-light+motoin-blur\n    severities: [2]", "file.yaml:7: unknown scenario 'motoin-blur' (did you mean 'motion-blur'?) (`vigil scenarios` lists them)"),
        ("seed: 1", "seed: 1\nrobustness_reference: alexnt", "file.yaml:6: robustness_reference 'alexnt' is not valid (did you mean 'alexnet'?)"),
        ("seed: 1", "seed: 1\nmin_samples: -1", "file.yaml:6: min_samples must be in 0...1000000, got -1"),
        ("    max_regression: 0.01", "    max_regression: 0.01\n    significance: 1.5", "file.yaml:14: significance must be between 0 and 1, e.g. 0.05"),
        ("    max_regression: 0.01", "    at_least: 0.5\n    significance: 0.05", "file.yaml:14: 'significance' goes with 'max_regression'"),
        ("  - metric: accuracy\n    scenario: all\n    max_regression: 0.01",
         "  - metric: roc_auc\n    class: \"1\"\n    scenario: all\n    max_regression: 0.01\n    significance: 0.05",
         "file.yaml:11: 'roc_auc[1]' cannot be bootstrapped (rank-based, per-class AP or latency), so it cannot be judged with significance or intervals"),
        ("    max_regression: 0.01", "    max_regression: 0.01\n    significance: 0.05\nbootstrap: 0",
         "file.yaml:15: bootstrap is 0, but the condition at file.yaml:11 needs intervals or p-values"),
        ("    max_regression: 0.01", "    ci_max_regression: 0.01\n    confidence: 0.9", ""),
        ("seed: 1", "seed: 1\nbootstrap: 0", ""),
        ("seed: 1", "seed: 1\nparams:\n  low-light: {exposre: 0.2}",
         "file.yaml:7: scenario 'low-light' has no parameter 'exposre' (did you mean 'exposure'?) (its parameters: exposure, full_well, read_noise, bits)"),
        ("seed: 1", "seed: 1\nparams:\n  low-light: {exposure: [0.5, 0.3]}",
         "file.yaml:7: low-light exposure: give one number (every severity) or five (severities 1...5), not 2"),
        ("seed: 1", "seed: 1\nparams:\n  low-light: {bits: 7.5}",
         "file.yaml:7: low-light bits: 7.5 is outside its range 1…8, whole numbers (quantisation of the re-encoded signal)"),
        ("seed: 1", "seed: 1\nparams:\n  low-light: {exposure: 0}",
         "file.yaml:7: low-light exposure: 0 is outside its range 0.001…1 (share of the light that reaches the sensor)"),
        ("seed: 1", "seed: 1\nparams:\n  fog: {severity: 2}",
         "file.yaml:7: scenario 'fog' takes no parameters: ImageNet-C corruptions keep the reference's, which is what makes their results comparable (camera scenarios such as motion-blur and low-light take parameters)"),
        ("seed: 1", "seed: 1\nparams:\n  motion-blur: {length_share: 0.01}",
         "file.yaml:7: params for 'motion-blur', which no scenario of this suite uses"),
        ("seed: 1", "seed: 1\nparams:\n  low-light: {exposure: [0.4, 0.3, 0.2, 0.1, 0.05], bits: 8}", ""),
    ])
    func suiteMistakes(find: String, replace: String, message: String) throws {
        let text = Self.suiteTemplate.replacingOccurrences(of: find, with: replace)
        let (folder, url) = try write(text)
        defer { try? FileManager.default.removeItem(at: folder) }
        if message.isEmpty {
            _ = try Suite.load(url, displayPath: "file.yaml")   // valid
        } else {
            #expect(inputError { _ = try Suite.load(url, displayPath: "file.yaml") } == message)
        }
    }

    /// `params:` reaches every scenario with that transform, chains included, and changes what
    /// identifies its outcomes; other scenarios keep the defaults.
    @Test func suiteParamsReachTheirScenarios() throws {
        let text = Self.suiteTemplate
            .replacingOccurrences(of: "seed: 1", with: "seed: 1\nparams:\n  low-light:\n    exposure: [0.4, 0.3, 0.2, 0.1, 0.05]\n    read_noise: 1")
            .replacingOccurrences(of: "  - clean", with: "  - clean\n  - motion-blur@2\n  - low-light@2+motion-blur@2")
        let (folder, url) = try write(text)
        defer { try? FileManager.default.removeItem(at: folder) }
        let suite = try Suite.load(url, displayPath: "file.yaml")
        #expect(suite.parameters == ["low-light": ["exposure": [0.4, 0.3, 0.2, 0.1, 0.05], "read_noise": [1]]])
        let byID = Dictionary(uniqueKeysWithValues: suite.scenarios.map { ($0.id, $0) })
        let key = "low-light{exposure=0.4,0.3,0.2,0.1,0.05;read_noise=1.0,1.0,1.0,1.0,1.0}"
        #expect(byID["low-light@3"]?.parameterKey == key)
        #expect(byID["low-light@2+motion-blur@2"]?.parameterKey == key)
        #expect(byID["motion-blur@2"]?.parameterKey == "")
        #expect(byID["clean"]?.parameterKey == "")
        let step = try #require(byID["low-light@3"]?.steps.first)
        #expect(step.transform.parameters(severity: 3) == "exposure 0.2 · full well 1000 e- · read noise 1.0 e- · 7 bits · set by the suite: exposure, read_noise")
        let standard = try Scenario(id: "low-light@3")
        #expect(byID["low-light@3"] != standard)
    }

    @Test func yamlSyntaxErrorsNameTheLine() throws {
        let (folder, url) = try write("suite: s\nscenarios: [clean\nseed: 1\n")
        defer { try? FileManager.default.removeItem(at: folder) }
        let message = inputError { _ = try Suite.load(url, displayPath: "file.yaml") }
        #expect(message.hasPrefix("file.yaml: line "), "\(message)")
        #expect(message.contains("YAML syntax error"))
    }

    @Test func bundledSpecsLoad() throws {
        let spec = try ModelSpec.load(Repository.url("Models/mnist-cnn/model.yaml"))
        #expect(spec.input?.width == 28 && spec.input?.channels == 1 && spec.input?.resize == .stretch)
        #expect(spec.input?.mean == [0.1307] && spec.input?.std == [0.3081])
        let onnx = spec.settings(as: ONNXSpec.self)
        #expect(onnx.output.kind == .logits && spec.classes.count == 10)
        #expect(FileManager.default.fileExists(atPath: onnx.file.url(in: spec).path))
    }

    static let specTemplate = """
        name: m
        task: classification
        format: onnx
        file: m.onnx
        sha256: \(String(repeating: "ab", count: 32))
        input:
          width: 28
          height: 28
          color: rgb
          resize: stretch
          mean: [0.5, 0.5, 0.5]
          std: 0.25
        output:
          kind: logits
        classes: [a, b]
        """

    @Test(arguments: [
        ("resize: stretch", "resize: strech", "m.yaml:10: resize 'strech' is not valid (did you mean 'stretch'?)"),
        ("mean: [0.5, 0.5, 0.5]", "mean: [0.5, 0.5]", "m.yaml:11: mean has 2 values but color 'rgb' has 3 channel(s)"),
        ("  kind: logits", "  kind: logit", "m.yaml:14: kind 'logit' is not valid (did you mean 'logits'?)"),
        ("  width: 28", "  widht: 28", "m.yaml:7: unknown key 'widht' in input (did you mean 'width'?)"),
        ("std: 0.25", "std: 0", "m.yaml:12: std must not be zero"),
        ("classes: [a, b]", "classes: [a, a]", "m.yaml:15: classes must list each class once"),
    ])
    func specMistakes(find: String, replace: String, message: String) throws {
        let (folder, url) = try write(Self.specTemplate.replacingOccurrences(of: find, with: replace), name: "m.yaml")
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(inputError { _ = try ModelSpec.load(url, displayPath: "m.yaml") } == message)
    }

    @Test func perChannelValuesExpand() throws {
        let (folder, url) = try write(Self.specTemplate, name: "m.yaml")
        defer { try? FileManager.default.removeItem(at: folder) }
        let spec = try ModelSpec.load(url)
        #expect(spec.input?.std == [0.25, 0.25, 0.25])
        #expect(spec.input?.interpolation == .linear && spec.input?.layout == .nchw)
    }

    @Test func suggestionsNeedACloseMatch() {
        #expect(Suggestion.closest(to: "acuracy", in: ["accuracy", "ece"]) == "accuracy")
        #expect(Suggestion.closest(to: "latnecy_p95_ms", in: Metric.allCases.map(\.rawValue)) == "latency_p95_ms")
        #expect(Suggestion.closest(to: "banana", in: ["accuracy", "ece"]) == nil)
        #expect(Suggestion.editDistance("kitten", "sitting") == 3)
        #expect(Suggestion.editDistance("ab", "ba") == 1)
    }
}

import Foundation

/// A suite file: which golden set, which two models, under which scenarios, judged by which
/// conditions. Paths inside are relative to the suite file's folder.
///
/// ```yaml
/// suite: digits-default
/// golden_set: ../GoldenSets/digits
/// baseline: ../Models/mnist-cnn/model.yaml
/// candidate: ../Models/digits-mlp/model.yaml
/// seed: 20261125
/// primary_metric: accuracy
/// batch_size: 32
/// min_samples: 30              # smaller slices are flagged, not gated
/// robustness_reference: baseline # or alexnet: CE/mCE as ImageNet-C publishes them
/// scenarios:
///   - clean
///   - name: low-light
///     severities: [1, 2, 3, 4, 5]
///   - low-light@2+motion-blur@3   # a chain is one scenario
///   - name: imagenet-c            # the 15 ImageNet-C corruptions
///     severities: [1, 2, 3, 4, 5]
///   - slice: {ink: heavy}         # samples tagged ink: heavy, unchanged
///   - slice: {ink: heavy}         # ... and the same slice in low light
///     name: low-light
///     severities: [3]
/// conditions:
///   - metric: accuracy
///     scenario: all
///     max_regression: 0.01
/// ```
public struct Suite: Sendable {
    public var name: String
    /// The suite file as the user named it, for messages and the run record.
    public var path: String
    public var fileURL: URL
    /// sha256 of the suite file's bytes.
    public var sha256: String
    public var goldenSet: URL
    public var baseline: URL
    public var candidate: URL
    public var seed: UInt64
    public var primaryMetric: MetricKey
    public var batchSize: Int
    /// Parallel workers; nil means one per core.
    public var workers: Int?
    /// Bootstrap replicates for intervals and paired tests (0: none).
    public var bootstrap: Int
    public var scenarios: [Scenario]
    /// Parameters set per camera scenario (`params:`), one value per severity; the scenarios
    /// above already carry them.
    public var parameters: [String: [String: [Double]]]
    public var conditions: [Condition]
    /// Scenarios with fewer samples (slices) are flagged: their conditions are reported with n
    /// and the interval width but do not decide the gate. 0 gates every scenario.
    public var minSamples: Int
    /// What corruption errors are normalised by.
    public var robustnessReference: RobustnessReference
    /// The golden set's task as its manifest says (nil when the manifest cannot be read; the
    /// run then refuses the golden set with the reason).
    public var task: VisionTask?
    /// Detection suites: where a detection counts (IoU threshold, per-model score threshold).
    public var operatingPoint: OperatingPoint?

    static let topKeys = ["suite", "golden_set", "baseline", "candidate", "seed", "primary_metric",
                          "batch_size", "workers", "bootstrap", "min_samples", "robustness_reference",
                          "iou_threshold", "score_threshold", "params", "scenarios", "conditions"]
    static let conditionKeys = ["metric", "class", "scenario"] + Condition.Rule.allCases.map(\.rawValue)
        + ["significance", "confidence"]

    /// Reads and checks a suite file. Every problem is one `InputError` line naming the file and
    /// line, with the closest valid name for misspelt keys, metrics and scenarios.
    public static func load(_ url: URL, displayPath: String? = nil) throws -> Suite {
        let shown = displayPath ?? url.path
        let document = try YAMLValue.load(url, displayPath: shown)
        let top = try document.mapping("the suite", allowed: topKeys)
        let folder = url.deletingLastPathComponent()
        func path(_ key: String) throws -> URL {
            let value = try top.required(key)
            let text = try value.string(key)
            return text.hasPrefix("/") ? URL(fileURLWithPath: text) : folder.appendingPathComponent(text).standardizedFileURL
        }

        let goldenSetURL = try path("golden_set")
        let task = GoldenSet.peekTask(goldenSetURL)
        let parameters = try top["params"].map(parseParameters) ?? [:]
        var scenarios = try top.required("scenarios").sequence("scenarios").flatMap(parseScenarios)
        guard !scenarios.isEmpty else { throw try top.required("scenarios").error("scenarios is empty") }
        if let paramsValue = top["params"] {
            let used = Set(scenarios.flatMap { $0.steps.map(\.transform.name) })
            for name in parameters.keys.sorted() where !used.contains(name) {
                throw paramsValue.error("params for '\(name)', which no scenario of this suite uses")
            }
            do {
                scenarios = try scenarios.map { try $0.overriding(parameters) }
            } catch let error as InputError {
                throw paramsValue.error(error.message)
            }
        }
        var seen = Set<String>()
        for scenario in scenarios where !seen.insert(scenario.id).inserted {
            throw try top.required("scenarios").error("scenario '\(scenario.id)' is listed twice")
        }

        let conditions = try top["conditions"]?.sequence("conditions").map { try parseCondition($0, scenarios: scenarios, task: task) } ?? []
        let primaryMetric = try top["primary_metric"].map { try parseMetric($0, className: nil, task: task) }
            ?? MetricKey(task == .detection ? .map50 : .accuracy)
        var operatingPoint: OperatingPoint?
        if task == .detection {
            if let value = top["scenarios"], let moving = scenarios.first(where: { !$0.keepsGeometry }) {
                throw value.error("scenario '\(moving.id)' moves image content, so the golden set's boxes would no longer fit; detection suites cannot use it")
            }
            let iouValue = top["iou_threshold"]
            let iou = try iouValue?.double("iou_threshold") ?? 0.5
            guard iou > 0, iou <= 1 else { throw iouValue!.error("iou_threshold must be in (0, 1], e.g. 0.5") }
            guard let scoreValue = top["score_threshold"] else {
                throw document.error("a detection suite needs 'score_threshold': the score at or above which a detection counts at the operating point (recall, FNR, precision, false positives per image); one number, or {baseline: B, candidate: C} for models whose scores differ in scale")
            }
            let thresholds: (Double, Double)
            if case .scalar = scoreValue.node {
                let value = try scoreValue.double("score_threshold")
                thresholds = (value, value)
            } else {
                let m = try scoreValue.mapping("score_threshold", allowed: ["baseline", "candidate"])
                thresholds = (try m.required("baseline").double("baseline"), try m.required("candidate").double("candidate"))
            }
            operatingPoint = OperatingPoint(iou: iou, baselineScoreThreshold: thresholds.0, candidateScoreThreshold: thresholds.1)
        } else {
            for key in ["iou_threshold", "score_threshold"] {
                if let value = top[key] { throw value.error("'\(key)' is for detection suites; golden set '\(goldenSetURL.lastPathComponent)' is for classification") }
            }
        }
        let bootstrapValue = top["bootstrap"]
        let bootstrap = try bootstrapValue?.int("bootstrap", in: Limits.bootstrap) ?? 1000
        if bootstrap == 0, let needing = conditions.first(where: \.needsStatistics) {
            throw (bootstrapValue ?? document).error("bootstrap is 0, but the condition at \(needing.source) needs intervals or p-values")
        }
        let seedValue = try top.required("seed")
        let seed = try seedValue.int("seed")
        guard seed >= 0 else { throw seedValue.error("seed must be zero or positive") }
        let data = (try? Data(contentsOf: url)) ?? Data()
        return Suite(
            name: try top.required("suite").string("suite"),
            path: shown,
            fileURL: url.standardizedFileURL,
            sha256: SHA256.hex(of: data),
            goldenSet: goldenSetURL,
            baseline: try path("baseline"),
            candidate: try path("candidate"),
            seed: UInt64(seed),
            primaryMetric: primaryMetric,
            batchSize: try top["batch_size"]?.int("batch_size", in: Limits.batchSize) ?? 32,
            workers: try top["workers"].flatMap { value in
                (try? value.string("workers")) == "auto" ? nil : try value.int("workers", in: Limits.workers)
            },
            bootstrap: bootstrap,
            scenarios: scenarios,
            parameters: parameters,
            conditions: conditions,
            minSamples: try top["min_samples"]?.int("min_samples", in: Limits.minSamples) ?? 30,
            robustnessReference: try top["robustness_reference"].map {
                RobustnessReference(rawValue: try $0.choice("robustness_reference", from: RobustnessReference.allCases.map(\.rawValue)))!
            } ?? .baseline,
            task: task,
            operatingPoint: operatingPoint)
    }

    /// A scenario id (`clean`, `low-light@3`, `low-light@2+motion-blur@3`, `ink=heavy`,
    /// `ink=heavy:fog@2`), or a mapping: `name` (a transform, a chain `a+b`, or `imagenet-c` for
    /// the 15 ImageNet-C corruptions) with `severities`, and/or `slice` (tag: value pairs).
    static func parseScenarios(_ value: YAMLValue) throws -> [Scenario] {
        if case .scalar = value.node {
            do {
                let scenario = try Scenario(id: try value.string("a scenario"))
                try Scenario.validateSlice(scenario.slice)
                return [scenario]
            } catch let error as InputError {
                throw value.error(error.message)
            }
        }
        let entry = try value.mapping("a scenario", allowed: ["name", "severities", "slice"])
        var slice: [String: String] = [:]
        if let sliceValue = entry["slice"] {
            for (key, tag) in try sliceValue.mapping("slice", allowed: nil).entries {
                slice[key] = try tag.string("tag '\(key)'")
            }
            guard !slice.isEmpty else { throw sliceValue.error("slice needs at least one tag: value pair") }
            do { try Scenario.validateSlice(slice) } catch let error as InputError { throw sliceValue.error(error.message) }
        }
        guard let nameValue = entry["name"] else {
            guard entry["slice"] != nil else { throw value.error("a scenario needs 'name' (with 'severities') or 'slice'") }
            if let severities = entry["severities"] { throw severities.error("'severities' needs a 'name' to apply to") }
            return [Scenario(steps: [], slice: slice)]
        }
        let name = try nameValue.string("name")
        if name == "clean" {
            if let severities = entry["severities"] { throw severities.error("scenario 'clean' takes no severities") }
            return [Scenario(steps: [], slice: slice)]
        }
        let chains: [[Transform]]
        do {
            if name == "imagenet-c" {
                chains = Transform.all.filter(\.isImageNetCBenchmark).map { [$0] }
            } else {
                chains = [try name.split(separator: "+").map { try Transform.named(String($0).trimmingCharacters(in: .whitespaces)) }]
            }
        } catch let error as InputError {
            throw nameValue.error(error.message)
        }
        let severitiesValue = try entry.required("severities")
        let severities = try severitiesValue.sequence("severities").map { try $0.int("each severity", in: 1...5) }
        guard !severities.isEmpty else { throw severitiesValue.error("severities is empty") }
        return chains.flatMap { chain in
            severities.map { severity in
                Scenario(steps: chain.map { Scenario.Step($0, severity: severity) }, slice: slice)
            }
        }
    }

    /// `params:` — per camera scenario, parameters to set (its `vigil scenarios` entry lists
    /// them), each a number for every severity or a list of five:
    /// `{motion-blur: {length_share: [0.002, 0.004, 0.007, 0.011, 0.016]}}`.
    static func parseParameters(_ value: YAMLValue) throws -> [String: [String: [Double]]] {
        var parameters: [String: [String: [Double]]] = [:]
        for (name, entry) in try value.mapping("params", allowed: nil).entries {
            let transform: Transform
            do { transform = try Transform.named(name) } catch let error as InputError { throw entry.error(error.message) }
            var values: [String: [Double]] = [:]
            for (key, given) in try entry.mapping("params of '\(name)'", allowed: nil).entries {
                if case .scalar = given.node {
                    values[key] = [try given.double("\(name) \(key)")]
                } else {
                    values[key] = try given.doubles("\(name) \(key)")
                }
            }
            do { _ = try transform.overriding(values) } catch let error as InputError { throw entry.error(error.message) }
            parameters[name] = values
        }
        return parameters
    }

    static func parseMetric(_ value: YAMLValue, className: String?, task: VisionTask?) throws -> MetricKey {
        let name = try value.string("metric")
        let known = Metric.allCases.filter { task.map($0.applies(to:)) ?? true }.map(\.rawValue)
        guard let metric = Metric(rawValue: name) else {
            throw value.error("unknown metric '\(name)'" + Suggestion.hint(for: name, in: known))
        }
        if let task, !metric.applies(to: task) {
            throw value.error("metric '\(name)' is not defined for \(task.rawValue) golden sets (\(task.rawValue) metrics: \(known.joined(separator: ", ")))")
        }
        if metric.isPerClass && className == nil {
            throw value.error("metric '\(name)' is per class; add 'class: NAME'")
        }
        if !metric.isPerClass && className != nil {
            throw value.error("metric '\(name)' is not per class; remove 'class'")
        }
        return MetricKey(metric, className: className)
    }

    static func parseCondition(_ value: YAMLValue, scenarios: [Scenario], task: VisionTask?) throws -> Condition {
        let entry = try value.mapping("a condition", allowed: conditionKeys)
        let className = try entry["class"]?.string("class")
        let metric = try parseMetric(try entry.required("metric"), className: className, task: task)
        let rules = Condition.Rule.allCases.filter { entry[$0.rawValue] != nil }
        guard rules.count == 1, let rule = rules.first else {
            throw value.error("a condition needs exactly one of " + Condition.Rule.allCases.map(\.rawValue).joined(separator: ", "))
        }
        let thresholdValue = entry[rule.rawValue]!
        let threshold = try thresholdValue.double(rule.rawValue)
        if (rule == .maxRegression || rule == .ciMaxRegression) && threshold < 0 {
            throw thresholdValue.error("\(rule.rawValue) must be zero or positive")
        }
        func level(_ key: String, allowedWith allowed: Condition.Rule) throws -> Double? {
            guard let value = entry[key] else { return nil }
            guard rule == allowed else { throw value.error("'\(key)' goes with '\(allowed.rawValue)'") }
            let level = try value.double(key)
            guard level > 0 && level < 1 else { throw value.error("\(key) must be between 0 and 1, e.g. 0.05") }
            return level
        }
        let significance = try level("significance", allowedWith: .maxRegression)
        let confidence = try level("confidence", allowedWith: .ciMaxRegression)
        if significance != nil || rule == .ciMaxRegression {
            let resampleable = metric.metric.isResampleable(for: task ?? .classification)
            if !resampleable {
                throw try entry.required("metric").error("'\(metric)' cannot be bootstrapped (rank-based, per-class AP or latency), so it cannot be judged with significance or intervals")
            }
        }
        // A property of the model (its file size, its memory) is the same in every scenario:
        // without `scenario:` it is judged once, on the suite's first scenario.
        let selector: String
        if metric.metric.isModelProperty && entry["scenario"] == nil {
            selector = scenarios[0].id
        } else {
            let selectorValue = try entry.required("scenario")
            selector = try selectorValue.string("scenario")
            let valid = ["all"] + orderedUnique(scenarios.map(\.family) + scenarios.map(\.id))
            guard valid.contains(selector) else {
                throw selectorValue.error("scenario '\(selector)' is not in this suite" + Suggestion.hint(for: selector, in: valid))
            }
        }
        return Condition(metric: metric, scenario: selector, rule: rule, threshold: threshold, significance: significance,
                         confidence: confidence, source: "\(value.file):\(value.line)")
    }

    private static func orderedUnique(_ names: [String]) -> [String] {
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }

    /// The metrics shown for every scenario: the primary metric, then each condition's metric.
    public var reportedMetrics: [MetricKey] {
        var keys = [primaryMetric]
        for condition in conditions where !keys.contains(condition.metric) {
            keys.append(condition.metric)
        }
        return keys
    }
}

import Foundation

public enum ModelRole: String, Sendable, Hashable, Codable, CaseIterable {
    case baseline, candidate
}

/// A model as a run saw it.
public struct ModelInfo: Sendable, Hashable, Codable {
    public var name: String
    /// The model spec file.
    public var spec: String
    /// sha256 of the model file.
    public var sha256: String
    /// The backend's identity for this model (see `InferenceBackend.identity`).
    public var identity: String
    /// File size and memory (nil in results stored before Vigil measured them).
    public var footprint: ModelFootprint?
    /// The spec's `input:` section (resize, crop, normalisation), so a report rebuilt from the
    /// store shows what the model received; nil for models without one and in results stored
    /// before Vigil kept it.
    public var input: ModelSpec.Input?

    public init(name: String, spec: String, sha256: String, identity: String, footprint: ModelFootprint? = nil,
                input: ModelSpec.Input? = nil) {
        self.name = name
        self.spec = spec
        self.sha256 = sha256
        self.identity = identity
        self.footprint = footprint
        self.input = input
    }
}

public struct GoldenSetInfo: Sendable, Hashable, Codable {
    public var name: String
    public var version: String
    public var path: String
    public var identity: String
    public var samples: Int
    public var task: VisionTask
    /// Class names in the golden set's order (class indices in outcomes refer to it).
    public var classes: [String]

    public init(name: String, version: String, path: String, identity: String, samples: Int,
                task: VisionTask = .classification, classes: [String] = []) {
        self.name = name
        self.version = version
        self.path = path
        self.identity = identity
        self.samples = samples
        self.task = task
        self.classes = classes
    }

    public init(_ goldenSet: GoldenSet) {
        self.init(name: goldenSet.name, version: goldenSet.version, path: DisplayPath.of(goldenSet.root),
                  identity: goldenSet.identity, samples: goldenSet.samples.count, task: goldenSet.task,
                  classes: goldenSet.classes)
    }

    enum CodingKeys: String, CodingKey { case name, version, path, identity, samples, task, classes }

    /// Results stored before detection existed have neither task nor classes.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        version = try c.decode(String.self, forKey: .version)
        path = try c.decode(String.self, forKey: .path)
        identity = try c.decode(String.self, forKey: .identity)
        samples = try c.decode(Int.self, forKey: .samples)
        task = try c.decodeIfPresent(VisionTask.self, forKey: .task) ?? .classification
        classes = try c.decodeIfPresent([String].self, forKey: .classes) ?? []
    }
}

public struct SuiteInfo: Sendable, Hashable, Codable {
    public var name: String
    public var path: String
    public var sha256: String

    public init(name: String, path: String, sha256: String) {
        self.name = name
        self.path = path
        self.sha256 = sha256
    }

    public init(_ suite: Suite) {
        self.init(name: suite.name, path: suite.path, sha256: suite.sha256)
    }
}

/// Paths as people want to read them: relative to the current directory when below it.
public enum DisplayPath {
    public static func of(_ url: URL) -> String {
        let cwd = FileManager.default.currentDirectoryPath
        let path = url.standardizedFileURL.path
        return path.hasPrefix(cwd + "/") ? String(path.dropFirst(cwd.count + 1)) : path
    }
}

/// Where a run happened: enough to reproduce it.
public struct RunEnvironment: Sendable, Hashable, Codable {
    public var vigilVersion: String
    public var opencvVersion: String
    /// `git rev-parse HEAD` of the suite's repository, with `+dirty` when it had uncommitted
    /// changes; nil outside a git checkout.
    public var gitCommit: String?
    public var workers: Int
    public var opencvThreads: Int

    enum CodingKeys: String, CodingKey {
        case vigilVersion = "vigil_version", opencvVersion = "opencv_version", gitCommit = "git_commit", workers,
             opencvThreads = "opencv_threads"
    }

    public init(vigilVersion: String, opencvVersion: String, gitCommit: String?, workers: Int, opencvThreads: Int) {
        self.vigilVersion = vigilVersion
        self.opencvVersion = opencvVersion
        self.gitCommit = gitCommit
        self.workers = workers
        self.opencvThreads = opencvThreads
    }
}

/// The metrics of one model on one scenario: classification or detection, by the golden
/// set's task. Encodes as the metrics themselves (the JSON shape of each task's metrics).
public enum ScenarioMetrics: Sendable, Hashable, Encodable {
    case classification(ClassificationMetrics)
    case detection(DetectionMetrics)

    /// The value of `key`; nil when undefined or not a metric of this task.
    public func value(_ key: MetricKey) -> Double? {
        switch self {
        case .classification(let m): m.value(key)
        case .detection(let m): m.value(key)
        }
    }

    /// Records the model's footprint, so `model_size_mb` and `model_memory_mb` read like any
    /// other metric (in tables, conditions and the store).
    public mutating func record(_ footprint: ModelFootprint?) {
        switch self {
        case .classification(var m):
            m.modelSizeMB = footprint?.sizeMB
            m.modelMemoryMB = footprint?.memoryMB
            self = .classification(m)
        case .detection(var m):
            m.modelSizeMB = footprint?.sizeMB
            m.modelMemoryMB = footprint?.memoryMB
            self = .detection(m)
        }
    }

    /// Samples (images) measured.
    public var n: Int {
        switch self {
        case .classification(let m): m.n
        case .detection(let m): m.nImages
        }
    }

    public var classification: ClassificationMetrics? {
        if case .classification(let m) = self { return m }
        return nil
    }

    public var detection: DetectionMetrics? {
        if case .detection(let m) = self { return m }
        return nil
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .classification(let m): try m.encode(to: encoder)
        case .detection(let m): try m.encode(to: encoder)
        }
    }

    /// Decodes the metrics of a golden set of `task` (the run's, which the JSON around them says).
    public init(from decoder: any Decoder, task: VisionTask) throws {
        switch task {
        case .classification: self = .classification(try ClassificationMetrics(from: decoder))
        case .detection: self = .detection(try DetectionMetrics(from: decoder))
        }
    }
}

/// One model's outcomes on one scenario, one per sample in the scenario's sample order.
public enum ScenarioOutcomes: Sendable, Hashable {
    case classification([Outcome])
    case detection([DetectionOutcome])

    public var sampleIDs: [String] {
        switch self {
        case .classification(let o): o.map(\.sampleID)
        case .detection(let o): o.map(\.sampleID)
        }
    }

    public var count: Int {
        switch self {
        case .classification(let o): o.count
        case .detection(let o): o.count
        }
    }

    public var classification: [Outcome]? {
        if case .classification(let o) = self { return o }
        return nil
    }

    public var detection: [DetectionOutcome]? {
        if case .detection(let o) = self { return o }
        return nil
    }
}

/// Baseline and candidate on one scenario, and the gate's verdicts there.
public struct ScenarioResult: Sendable, Hashable, Encodable {
    public var scenario: Scenario
    public var baseline: ScenarioMetrics
    public var candidate: ScenarioMetrics
    /// The run whose stored baseline outcomes were used instead of running the baseline; nil
    /// when the baseline ran in this run.
    public var baselineReusedFrom: String?
    /// Paired comparisons (candidate − baseline, with bootstrap intervals and p-values) of the
    /// primary metric and of the metrics conditions judge with statistics.
    public var comparisons: [PairedDelta]
    public var verdicts: [ConditionVerdict]

    enum CodingKeys: String, CodingKey {
        case scenario, baseline, candidate, baselineReusedFrom = "baseline_reused_from", comparisons, verdicts
    }

    /// Flagged verdicts (too few samples) are shown but do not decide.
    public var passed: Bool { !verdicts.contains(where: \.failsGate) }

    /// Decodes a scenario's result of a run on a golden set of `task`.
    init(from decoder: any Decoder, task: VisionTask) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        scenario = try c.decode(Scenario.self, forKey: .scenario)
        baseline = try ScenarioMetrics(from: c.superDecoder(forKey: .baseline), task: task)
        candidate = try ScenarioMetrics(from: c.superDecoder(forKey: .candidate), task: task)
        baselineReusedFrom = try c.decodeIfPresent(String.self, forKey: .baselineReusedFrom)
        comparisons = try c.decode([PairedDelta].self, forKey: .comparisons)
        verdicts = try c.decode([ConditionVerdict].self, forKey: .verdicts)
    }

    public init(scenario: Scenario, baseline: ScenarioMetrics, candidate: ScenarioMetrics,
                baselineReusedFrom: String?, comparisons: [PairedDelta] = [], verdicts: [ConditionVerdict]) {
        self.scenario = scenario
        self.baseline = baseline
        self.candidate = candidate
        self.baselineReusedFrom = baselineReusedFrom
        self.comparisons = comparisons
        self.verdicts = verdicts
    }

    /// The comparison of `metric` at a confidence level (0.95 unless a condition asked for another).
    public func comparison(of metric: MetricKey, level: Double = 0.95) -> PairedDelta? {
        comparisons.first { $0.metric == metric && $0.level == level }
    }
}

/// Everything a run produced. JSON-encodable (per-sample outcomes excluded: they go to the
/// store and the report).
public struct RunResult: Sendable, Codable {
    public var id: String
    public var startedAt: Date
    public var finishedAt: Date
    public var suite: SuiteInfo
    public var goldenSet: GoldenSetInfo
    public var seed: UInt64
    public var batchSize: Int
    public var baseline: ModelInfo
    public var candidate: ModelInfo
    public var environment: RunEnvironment
    public var primaryMetric: MetricKey
    /// Metrics shown per scenario: the primary metric, then those named by conditions.
    public var reportedMetrics: [MetricKey]
    public var scenarios: [ScenarioResult]
    /// CE/mCE, mPC/rPC and severity curves over the single-corruption scenarios; nil when the
    /// suite has none.
    public var robustness: RobustnessScores?
    /// Per scenario id, per role, one outcome per sample of the scenario in manifest order.
    public var outcomes: [String: [ModelRole: ScenarioOutcomes]] = [:]
    /// The operating point of detection metrics (detection runs only).
    public var operatingPoint: OperatingPoint?
    /// Detection runs: per scenario id, per role, how each image's detections and objects
    /// matched at the operating point (parallel to `outcomes`).
    public var detectionMatches: [String: [ModelRole: [ImageMatch]]] = [:]
    /// The suite's `params:` (per transform, per parameter, one value per severity). Scenarios
    /// encode as their ids, so a stored result applies these to its scenarios when it is read.
    public var scenarioParameters: [String: [String: [Double]]] = [:]

    public var passed: Bool { scenarios.allSatisfy(\.passed) }
    public var verdicts: [ConditionVerdict] { scenarios.flatMap(\.verdicts) }
    /// Failed verdicts that decide the gate (flagged ones do not).
    public var failures: [ConditionVerdict] { verdicts.filter(\.failsGate) }
    /// Verdicts on scenarios too small to gate, shown with their sample count.
    public var flagged: [ConditionVerdict] { verdicts.filter { $0.flag != nil } }
    public var durationSeconds: Double { finishedAt.timeIntervalSince(startedAt) }

    public func outcomes(_ scenario: Scenario, _ role: ModelRole) -> ScenarioOutcomes? {
        outcomes[scenario.id]?[role]
    }

    enum CodingKeys: String, CodingKey {
        case id, startedAt = "started_at", finishedAt = "finished_at", suite, goldenSet = "golden_set", seed,
             batchSize = "batch_size", baseline, candidate, environment, primaryMetric = "primary_metric",
             reportedMetrics = "reported_metrics", scenarios, robustness, operatingPoint = "operating_point",
             scenarioParameters = "scenario_parameters"
        case passed
    }

    public init(id: String, startedAt: Date, finishedAt: Date, suite: SuiteInfo, goldenSet: GoldenSetInfo,
                seed: UInt64, batchSize: Int, baseline: ModelInfo, candidate: ModelInfo,
                environment: RunEnvironment, primaryMetric: MetricKey, reportedMetrics: [MetricKey],
                scenarios: [ScenarioResult], robustness: RobustnessScores? = nil, operatingPoint: OperatingPoint? = nil,
                outcomes: [String: [ModelRole: ScenarioOutcomes]]) {
        self.id = id
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.suite = suite
        self.goldenSet = goldenSet
        self.seed = seed
        self.batchSize = batchSize
        self.baseline = baseline
        self.candidate = candidate
        self.environment = environment
        self.primaryMetric = primaryMetric
        self.reportedMetrics = reportedMetrics
        self.scenarios = scenarios
        self.robustness = robustness
        self.operatingPoint = operatingPoint
        self.outcomes = outcomes
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        startedAt = try c.decode(Date.self, forKey: .startedAt)
        finishedAt = try c.decode(Date.self, forKey: .finishedAt)
        suite = try c.decode(SuiteInfo.self, forKey: .suite)
        goldenSet = try c.decode(GoldenSetInfo.self, forKey: .goldenSet)
        seed = try c.decode(UInt64.self, forKey: .seed)
        batchSize = try c.decode(Int.self, forKey: .batchSize)
        baseline = try c.decode(ModelInfo.self, forKey: .baseline)
        candidate = try c.decode(ModelInfo.self, forKey: .candidate)
        environment = try c.decode(RunEnvironment.self, forKey: .environment)
        primaryMetric = try c.decode(MetricKey.self, forKey: .primaryMetric)
        reportedMetrics = try c.decode([MetricKey].self, forKey: .reportedMetrics)
        // Each scenario's metrics are of the golden set's task.
        var list = try c.nestedUnkeyedContainer(forKey: .scenarios)
        var decoded: [ScenarioResult] = []
        while !list.isAtEnd { decoded.append(try ScenarioResult(from: list.superDecoder(), task: goldenSet.task)) }
        scenarios = decoded
        robustness = try c.decodeIfPresent(RobustnessScores.self, forKey: .robustness)
        operatingPoint = try c.decodeIfPresent(OperatingPoint.self, forKey: .operatingPoint)
        scenarioParameters = try c.decodeIfPresent([String: [String: [Double]]].self, forKey: .scenarioParameters) ?? [:]
        if !scenarioParameters.isEmpty {
            for index in scenarios.indices {
                scenarios[index].scenario = try scenarios[index].scenario.overriding(scenarioParameters)
            }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(passed, forKey: .passed)
        try c.encode(startedAt, forKey: .startedAt)
        try c.encode(finishedAt, forKey: .finishedAt)
        try c.encode(suite, forKey: .suite)
        try c.encode(goldenSet, forKey: .goldenSet)
        try c.encode(seed, forKey: .seed)
        try c.encode(batchSize, forKey: .batchSize)
        try c.encode(baseline, forKey: .baseline)
        try c.encode(candidate, forKey: .candidate)
        try c.encode(environment, forKey: .environment)
        try c.encode(primaryMetric, forKey: .primaryMetric)
        try c.encode(reportedMetrics, forKey: .reportedMetrics)
        try c.encode(scenarios, forKey: .scenarios)
        try c.encodeIfPresent(robustness, forKey: .robustness)
        try c.encodeIfPresent(operatingPoint, forKey: .operatingPoint)
        if !scenarioParameters.isEmpty { try c.encode(scenarioParameters, forKey: .scenarioParameters) }
    }

    /// A JSON encoder configured the way Vigil writes results: sorted keys, ISO 8601 dates.
    public static func jsonEncoder() -> JSONEncoder { JSONConvention.encoder() }
}

/// Where detection metrics count a detection: matched at IoU ≥ `iou`, and only detections
/// scoring at least the model's score threshold take part (`score_threshold` in the suite, one
/// number or one per model, because models' score scales differ).
public struct OperatingPoint: Sendable, Hashable, Codable {
    public var iou: Double
    public var baselineScoreThreshold: Double
    public var candidateScoreThreshold: Double

    enum CodingKeys: String, CodingKey {
        case iou, baselineScoreThreshold = "baseline_score_threshold", candidateScoreThreshold = "candidate_score_threshold"
    }

    public init(iou: Double, baselineScoreThreshold: Double, candidateScoreThreshold: Double) {
        self.iou = iou
        self.baselineScoreThreshold = baselineScoreThreshold
        self.candidateScoreThreshold = candidateScoreThreshold
    }

    public func scoreThreshold(_ role: ModelRole) -> Double {
        role == .baseline ? baselineScoreThreshold : candidateScoreThreshold
    }
}

/// Run identifiers: UTC time plus four random hex digits, e.g. `20261125-154501-3f9a`.
/// They sort by time and are unique enough for one team's history.
public enum RunID {
    public static func make(at date: Date = Date()) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let stamp = String(format: "%04d%02d%02d-%02d%02d%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
        return stamp + "-" + String(format: "%04x", UInt16.random(in: 0...UInt16.max))
    }
}

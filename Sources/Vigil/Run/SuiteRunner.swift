import Foundation
import Synchronization

/// How far a run has got, for progress displays.
public struct RunProgress: Sendable {
    /// Model evaluations done and planned (one image through one model counts one).
    public var done: Int
    public var total: Int
    public var elapsedSeconds: Double
}

/// Choices that belong to one invocation rather than to the suite.
public struct RunOptions: Sendable {
    public var runID: String
    /// Overrides the suite's `workers` (nil: the suite's value, else one per core).
    public var workers: Int?
    /// Reuse stored baseline outcomes when the cache has them for the same key.
    public var reuseBaseline: Bool
    /// Compare against a stored run instead of running the suite's baseline model.
    public var storedBaseline: StoredBaseline?
    public var progress: (@Sendable (RunProgress) -> Void)?
    /// Where the run leaves the scenario images its report will show (nil: no report follows).
    public var keptImages: KeptScenarioImages?

    public init(runID: String = RunID.make(), workers: Int? = nil, reuseBaseline: Bool = true,
                storedBaseline: StoredBaseline? = nil, progress: (@Sendable (RunProgress) -> Void)? = nil,
                keptImages: KeptScenarioImages? = nil) {
        self.runID = runID
        self.workers = workers
        self.reuseBaseline = reuseBaseline
        self.storedBaseline = storedBaseline
        self.progress = progress
        self.keptImages = keptImages
    }
}

/// Runs a suite: baseline and candidate on every scenario of the golden set, metrics, gate.
///
/// Images stream through the pipeline in batches: each worker decodes a batch, applies the
/// scenario once, feeds the same transformed images to both models and keeps only the outcomes.
/// Workers each own their model instances. Batches are fixed ranges of the manifest, so results
/// do not depend on the number of workers or on scheduling.
///
/// ```swift
/// let suite = try Suite.load(URL(fileURLWithPath: "Suites/default.yaml"))
/// let result = try await SuiteRunner(suite: suite).run(cache: store)
/// print(result.passed)
/// ```
public struct SuiteRunner: Sendable {
    public var suite: Suite
    public var options: RunOptions

    public init(suite: Suite, options: RunOptions = RunOptions()) {
        self.suite = suite
        self.options = options
    }

    /// The checked inputs of a run, loaded before any image is processed.
    public struct Prepared: Sendable {
        public var goldenSet: GoldenSet
        public var baselineBackend: (any InferenceBackend)?
        public var candidateBackend: any InferenceBackend
        public var baselineInfo: ModelInfo
        public var candidateInfo: ModelInfo
        /// Per suite scenario, the manifest indices of its samples (all, or a tag slice's).
        public var sampleIndices: [[Int]]
    }

    /// The manifest indices of each scenario's samples. A slice that selects nothing is an
    /// error that names the tag values the golden set does have.
    static func sampleIndices(_ scenarios: [Scenario], _ goldenSet: GoldenSet, suitePath: String) throws -> [[Int]] {
        try scenarios.map { scenario in
            let indices = goldenSet.samples.indices.filter { scenario.includes(tags: goldenSet.samples[$0].tags) }
            guard indices.isEmpty else { return indices }
            let known = scenario.slice.keys.sorted().map { key in
                let values = Set(goldenSet.samples.compactMap { $0.tags[key] }).sorted()
                return values.isEmpty ? "no sample has tag '\(key)'" : "tag '\(key)' has values \(values.joined(separator: ", "))"
            }
            throw InputError("\(suitePath): scenario '\(scenario.id)' selects no sample of golden set '\(goldenSet.name)' (\(known.joined(separator: "; ")))")
        }
    }

    /// Loads and checks everything the run needs: golden set (verified), model specs, models,
    /// class lists, the metrics and classes named by conditions. Throws `InputError`s.
    public func prepare() async throws -> Prepared {
        let goldenSet = try GoldenSet.load(suite.goldenSet)
        let verification = goldenSet.verify()
        guard verification.isValid else { throw InputError(verification.refusal) }
        let task = goldenSet.task
        for key in [suite.primaryMetric] + suite.conditions.map(\.metric) where !key.metric.applies(to: task) {
            let source = suite.conditions.first { $0.metric == key }?.source ?? suite.path
            throw InputError("\(source): metric '\(key.metric.rawValue)' is not defined for \(task.rawValue) golden sets like '\(goldenSet.name)'")
        }
        for condition in suite.conditions {
            if let name = condition.metric.className, !goldenSet.classes.contains(name) {
                throw InputError("\(condition.source): class '\(name)' is not a class of golden set '\(goldenSet.name)'"
                                 + Suggestion.hint(for: name, in: goldenSet.classes))
            }
        }
        if task == .classification, let boxed = suite.scenarios.first(where: \.needsObjects) {
            throw InputError("\(suite.path): scenario '\(boxed.id)' occludes annotated objects; golden set '\(goldenSet.name)' is for classification and has no boxes")
        }
        if task == .detection {
            guard suite.operatingPoint != nil else {
                throw InputError("\(suite.path): golden set '\(goldenSet.name)' is for detection; the suite needs 'score_threshold'")
            }
            if let moving = suite.scenarios.first(where: { !$0.keepsGeometry }) {
                throw InputError("\(suite.path): scenario '\(moving.id)' moves image content, so the boxes of golden set '\(goldenSet.name)' would no longer fit")
            }
        }
        let indices = try Self.sampleIndices(suite.scenarios, goldenSet, suitePath: suite.path)
        func backend(_ url: URL, _ role: ModelRole) async throws -> any InferenceBackend {
            let shown = DisplayPath.of(url)
            let spec = try ModelSpec.load(url, displayPath: shown)
            guard spec.task == goldenSet.task else {
                throw InputError("\(shown): \(role.rawValue) model is for \(spec.task.rawValue), the golden set for \(goldenSet.task.rawValue)")
            }
            switch task {
            case .classification:
                guard spec.classes == goldenSet.classes else {
                    throw InputError("\(shown): the \(role.rawValue) model's classes \(spec.classes) differ from golden set '\(goldenSet.name)' classes \(goldenSet.classes) (same names in the same order are required)")
                }
            case .detection:
                let absent = goldenSet.classes.filter { !spec.classes.contains($0) }
                guard absent.isEmpty else {
                    throw InputError("\(shown): the \(role.rawValue) model does not detect \(absent.map { "'\($0)'" }.joined(separator: ", ")) of golden set '\(goldenSet.name)' (its classes: \(spec.classes.joined(separator: ", ")))")
                }
            }
            let made = try await Backends.make(spec)
            return try made.prepared(for: goldenSet, scenarios: suite.scenarios, sampleIndices: indices)
        }
        func info(_ backend: any InferenceBackend) -> ModelInfo {
            ModelInfo(name: backend.spec.name, spec: backend.spec.shownPath,
                      sha256: backend.spec.sha256 ?? "", identity: backend.identity, footprint: backend.footprint,
                      input: backend.spec.input)
        }
        let candidate = try await backend(suite.candidate, .candidate)
        if let stored = options.storedBaseline {
            return Prepared(goldenSet: goldenSet, baselineBackend: nil, candidateBackend: candidate,
                            baselineInfo: stored.model, candidateInfo: info(candidate), sampleIndices: indices)
        }
        let baseline = try await backend(suite.baseline, .baseline)
        return Prepared(goldenSet: goldenSet, baselineBackend: baseline, candidateBackend: candidate,
                        baselineInfo: info(baseline), candidateInfo: info(candidate), sampleIndices: indices)
    }

    /// Runs the suite. Pass the result of `prepare()` when it was already called (for example to
    /// record the run as started only once its inputs are known to be valid).
    public func run(prepared given: Prepared? = nil, cache: (any OutcomeCache)? = nil) async throws -> RunResult {
        let started = JSONConvention.storable(Date())
        let prepared: Prepared
        if let given { prepared = given } else { prepared = try await prepare() }
        let goldenSet = prepared.goldenSet
        let sampleIDs = prepared.sampleIndices.map { $0.map { goldenSet.samples[$0].id } }

        // Baseline outcomes that need no inference: from a named stored run, or from the cache.
        var known: [String: CachedOutcomes] = [:]
        if let stored = options.storedBaseline {
            guard stored.goldenSetIdentity == goldenSet.identity else {
                throw InputError("run \(stored.runID) was made on a different version of golden set '\(goldenSet.name)' (identity \(stored.goldenSetIdentity.prefix(12))…, now \(goldenSet.identity.prefix(12))…); it cannot serve as the baseline")
            }
            guard stored.seed == suite.seed else {
                throw InputError("run \(stored.runID) used seed \(stored.seed), this suite uses \(suite.seed); scenario images would differ, so it cannot serve as the baseline")
            }
            for (index, scenario) in suite.scenarios.enumerated() {
                guard let outcomes = stored.outcomes[scenario.id], outcomes.sampleIDs == sampleIDs[index] else {
                    throw InputError("run \(stored.runID) has no complete outcomes for scenario '\(scenario.id)'; it cannot serve as the baseline for \(suite.path)")
                }
                if let then = stored.scenarioComputations[scenario.id], then != ScenarioComputation(scenario) {
                    let now = ScenarioComputation(scenario)
                    let what = then.version != now.version
                        ? "implementation version \(then.version) (now \(now.version))"
                        : "parameters \(then.parameters.isEmpty ? "(the defaults)" : then.parameters) (now \(now.parameters.isEmpty ? "the defaults" : now.parameters))"
                    throw InputError("run \(stored.runID) made scenario '\(scenario.id)' with \(what): its images differ from this suite's, so it cannot serve as the baseline")
                }
                known[scenario.id] = CachedOutcomes(runID: stored.runID, outcomes: outcomes)
            }
        } else if options.reuseBaseline, let cache, let baseline = prepared.baselineBackend {
            for (index, scenario) in suite.scenarios.enumerated() {
                let key = OutcomeKey(modelIdentity: baseline.identity, goldenSetIdentity: goldenSet.identity,
                                     scenario: scenario, seed: suite.seed, batchSize: suite.batchSize)
                if let cached = try cache.cachedOutcomes(for: key), cached.outcomes.sampleIDs == sampleIDs[index] {
                    known[scenario.id] = cached
                }
            }
        }

        let items = workItems(sampleIndices: prepared.sampleIndices, runBaseline: { known[$0.id] == nil })
        let workers = max(1, min(options.workers ?? suite.workers ?? ProcessInfo.processInfo.activeProcessorCount, items.count))
        // Parallelism comes from workers (one network each); OpenCV's own pool gets what is left
        // of the cores, so the two never oversubscribe the machine.
        let previousThreads = OpenCV.threads
        let opencvThreads = max(1, ProcessInfo.processInfo.activeProcessorCount / workers)
        OpenCV.threads = opencvThreads
        defer { OpenCV.threads = previousThreads }

        let computed = try await evaluate(items: items, workers: workers, prepared: prepared, started: started)

        var scenarioResults: [ScenarioResult] = []
        var outcomes: [String: [ModelRole: ScenarioOutcomes]] = [:]
        var matches: [String: [ModelRole: [ImageMatch]]] = [:]
        for (index, scenario) in suite.scenarios.enumerated() {
            let candidateOutcomes = computed.candidate[index]
            let baselineOutcomes = known[scenario.id]?.outcomes ?? computed.baseline[index]
            outcomes[scenario.id] = [.baseline: baselineOutcomes, .candidate: candidateOutcomes]
            var scored = try score(scenario, indices: prepared.sampleIndices[index], goldenSet: goldenSet,
                                   baseline: baselineOutcomes, candidate: candidateOutcomes)
            scored.baseline.record(prepared.baselineInfo.footprint)
            scored.candidate.record(prepared.candidateInfo.footprint)
            if let m = scored.matches { matches[scenario.id] = m }
            var result = ScenarioResult(scenario: scenario, baseline: scored.baseline, candidate: scored.candidate,
                                        baselineReusedFrom: known[scenario.id]?.runID, comparisons: scored.comparisons, verdicts: [])
            let smallSample = candidateOutcomes.count < suite.minSamples ? smallSampleFlag(result, n: candidateOutcomes.count) : nil
            result.verdicts = suite.conditions.filter { $0.applies(to: scenario) }.map { condition in
                let paired = condition.needsStatistics ? result.comparison(of: condition.metric, level: condition.confidence ?? 0.95) : nil
                var verdict = Gate.evaluate(condition, scenario: scenario, baseline: scored.baseline, candidate: scored.candidate, paired: paired)
                verdict.flag = smallSample
                return verdict
            }
            scenarioResults.append(result)
        }
        let robustnessMetric = Self.robustnessMetric(task: goldenSet.task, primary: suite.primaryMetric)
        var result = RunResult(
            id: options.runID, startedAt: started, finishedAt: JSONConvention.storable(Date()),
            suite: SuiteInfo(suite), goldenSet: GoldenSetInfo(goldenSet),
            seed: suite.seed, batchSize: suite.batchSize,
            baseline: prepared.baselineInfo, candidate: prepared.candidateInfo,
            environment: RunEnvironment(vigilVersion: VigilVersion.string, opencvVersion: OpenCV.version,
                                        gitCommit: GitInfo.commit(at: suite.fileURL.deletingLastPathComponent()),
                                        workers: workers, opencvThreads: opencvThreads),
            primaryMetric: suite.primaryMetric, reportedMetrics: suite.reportedMetrics,
            scenarios: scenarioResults, operatingPoint: suite.operatingPoint, outcomes: outcomes)
        result.detectionMatches = matches
        result.scenarioParameters = suite.parameters
        result.robustness = RobustnessScores.compute(
            scenarioResults.map { .init(scenario: $0.scenario, baseline: $0.baseline.value(robustnessMetric), candidate: $0.candidate.value(robustnessMetric)) },
            metric: robustnessMetric, reference: suite.robustnessReference)
        return result
    }

    /// The performance metric robustness scores use: accuracy for classification (as
    /// ImageNet-C's CE); for detection the primary metric when it is an mAP, else mAP50 (as
    /// Michaelis et al.'s mPC).
    static func robustnessMetric(task: VisionTask, primary: MetricKey) -> MetricKey {
        switch task {
        case .classification: return MetricKey(.accuracy)
        case .detection: return [.map, .map50, .map75].contains(primary.metric) ? primary : MetricKey(.map50)
        }
    }

    /// Metrics of both models on one scenario and their paired comparisons.
    func score(_ scenario: Scenario, indices: [Int], goldenSet: GoldenSet, baseline: ScenarioOutcomes,
               candidate: ScenarioOutcomes) throws -> (baseline: ScenarioMetrics, candidate: ScenarioMetrics, comparisons: [PairedDelta],
                                                         matches: [ModelRole: [ImageMatch]]?) {
        let levels = comparisonKeys(scenario, task: goldenSet.task)
        let seed = Seeds.sample(run: suite.seed, scenario: scenario, sampleID: "bootstrap")
        switch (baseline, candidate) {
        case (.classification(let b), .classification(let c)):
            let baseline = Self.accumulator(b, classes: goldenSet.classes), candidate = Self.accumulator(c, classes: goldenSet.classes)
            var comparisons: [PairedDelta] = []
            for (level, keys) in levels {
                comparisons += try baseline.compare(with: candidate, keys: keys,
                                                    bootstrap: Bootstrap(replicates: suite.bootstrap, seed: seed, confidence: level))
            }
            return (.classification(baseline.compute()), .classification(candidate.compute()), comparisons, nil)
        case (.detection(let b), .detection(let c)):
            let point = suite.operatingPoint!
            let baseline = DetectionRunEvaluation(goldenSet: goldenSet, indices: indices, outcomes: b, iou: point.iou,
                                                  scoreThreshold: point.baselineScoreThreshold)
            let candidate = DetectionRunEvaluation(goldenSet: goldenSet, indices: indices, outcomes: c, iou: point.iou,
                                                   scoreThreshold: point.candidateScoreThreshold)
            var comparisons: [PairedDelta] = []
            for (level, keys) in levels {
                comparisons += baseline.compare(with: candidate, keys: keys, classes: goldenSet.classes,
                                                bootstrap: Bootstrap(replicates: suite.bootstrap, seed: seed, confidence: level))
            }
            return (.detection(baseline.metrics), .detection(candidate.metrics), comparisons,
                    [.baseline: baseline.matches, .candidate: candidate.matches])
        case (.classification, .detection), (.detection, .classification):
            throw InputError("scenario \(scenario.id): the baseline's and the candidate's outcomes are of different tasks "
                             + "(a stored baseline from a run on another kind of golden set?)")
        }
    }

    /// Why a scenario's verdicts do not decide the gate: its sample count, and how wide the
    /// 95% interval of the primary metric's delta is at that size.
    func smallSampleFlag(_ result: ScenarioResult, n: Int) -> String {
        var text = "only \(n) sample\(n == 1 ? "" : "s") (min_samples \(suite.minSamples))"
        if let interval = result.comparison(of: suite.primaryMetric)?.interval {
            text += "; the 95% CI of Δ\(suite.primaryMetric) spans \(Formatting.delta(interval.upper - interval.lower, suite.primaryMetric.metric))"
        }
        return text + ": shown, not gated"
    }

    public static func metrics(_ outcomes: [Outcome], classes: [String]) -> ClassificationMetrics {
        accumulator(outcomes, classes: classes).compute()
    }

    static func accumulator(_ outcomes: [Outcome], classes: [String]) -> ClassificationAccumulator {
        var accumulator = ClassificationAccumulator(classes: classes)
        for outcome in outcomes { accumulator.add(outcome) }
        return accumulator
    }

    /// The metrics to compare with a paired bootstrap on one scenario, by confidence level: the
    /// primary metric at 95%, and every metric a condition judges with statistics at the
    /// condition's level (0.95 first, then ascending). Each scenario's bootstrap has its own
    /// seed, derived from the suite's seed and the scenario id.
    func comparisonKeys(_ scenario: Scenario, task: VisionTask) -> [(level: Double, keys: [MetricKey])] {
        guard suite.bootstrap > 0 else { return [] }
        var keysByLevel: [Double: [MetricKey]] = [:]
        if suite.primaryMetric.metric.isResampleable(for: task) { keysByLevel[0.95] = [suite.primaryMetric] }
        for condition in suite.conditions where condition.applies(to: scenario) && condition.needsStatistics {
            let level = condition.confidence ?? 0.95
            if !(keysByLevel[level]?.contains(condition.metric) ?? false) { keysByLevel[level, default: []].append(condition.metric) }
        }
        return keysByLevel.sorted { $0.key == 0.95 ? true : $1.key == 0.95 ? false : $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// One unit of work: a batch of one scenario's samples (manifest indices).
    struct WorkItem: Sendable {
        var scenarioIndex: Int
        var scenario: Scenario
        var samples: ArraySlice<Int>
        var runBaseline: Bool
    }

    func workItems(sampleIndices: [[Int]], runBaseline: (Scenario) -> Bool) -> [WorkItem] {
        suite.scenarios.enumerated().flatMap { index, scenario in
            let indices = sampleIndices[index]
            return stride(from: 0, to: indices.count, by: suite.batchSize).map { start in
                WorkItem(scenarioIndex: index, scenario: scenario,
                         samples: indices[start..<min(start + suite.batchSize, indices.count)], runBaseline: runBaseline(scenario))
            }
        }
    }

    struct Computed {
        /// Per scenario index; empty where the baseline was not run.
        var baseline: [ScenarioOutcomes]
        var candidate: [ScenarioOutcomes]
    }

    private func evaluate(items: [WorkItem], workers: Int, prepared: Prepared, started: Date) async throws -> Computed {
        let total = items.reduce(0) { $0 + $1.samples.count * ($1.runBaseline ? 2 : 1) }
        let done = SharedCounter()
        let progress = options.progress, kept = options.keptImages
        let seed = suite.seed
        let goldenSet = prepared.goldenSet
        let results = try await withThrowingTaskGroup(of: [(Int, ScenarioOutcomes?, ScenarioOutcomes)].self) { group in
            for worker in 0..<workers {
                group.addTask {
                    let candidate = try prepared.candidateBackend.makeWorker()
                    let baseline = try items.contains(where: \.runBaseline) ? prepared.baselineBackend?.makeWorker() : nil
                    var produced: [(Int, ScenarioOutcomes?, ScenarioOutcomes)] = []
                    for itemIndex in stride(from: worker, to: items.count, by: workers) {
                        try Task.checkCancellation()
                        let item = items[itemIndex]
                        let samples = item.samples.map { goldenSet.samples[$0] }
                        let inputs = try samples.map { sample in
                            ModelInput(image: try Self.scenarioImage(sample, item.scenario, goldenSet: goldenSet, seed: seed),
                                       sampleID: sample.id, scenarioID: item.scenario.id)
                        }
                        let candidateOutcomes = try await Self.predict(candidate, prepared.candidateBackend, inputs, samples, goldenSet)
                        var baselineOutcomes: ScenarioOutcomes?
                        if item.runBaseline, let baseline, let backend = prepared.baselineBackend {
                            baselineOutcomes = try await Self.predict(baseline, backend, inputs, samples, goldenSet)
                        }
                        if let kept, case .classification(let candidateList) = candidateOutcomes {
                            var lists: [ModelRole: [Outcome]] = [.candidate: candidateList]
                            if case .classification(let baselineList)? = baselineOutcomes { lists[.baseline] = baselineList }
                            kept.offer(scenarioID: item.scenario.id, samples: Array(item.samples), images: inputs.map(\.image),
                                       outcomes: lists)
                        }
                        produced.append((itemIndex, baselineOutcomes, candidateOutcomes))
                        let count = samples.count * (item.runBaseline ? 2 : 1)
                        let now = done.add(count)
                        progress?(RunProgress(done: now, total: total, elapsedSeconds: Date().timeIntervalSince(started)))
                    }
                    return produced
                }
            }
            var all: [(Int, ScenarioOutcomes?, ScenarioOutcomes)] = []
            for try await part in group { all += part }
            return all.sorted { $0.0 < $1.0 }
        }
        var baselineParts = [[ScenarioOutcomes]](repeating: [], count: suite.scenarios.count)
        var candidateParts = baselineParts
        for (itemIndex, baseline, candidate) in results {
            let scenario = items[itemIndex].scenarioIndex
            if let baseline { baselineParts[scenario].append(baseline) }
            candidateParts[scenario].append(candidate)
        }
        return Computed(baseline: baselineParts.map { .joined($0, task: goldenSet.task) },
                        candidate: candidateParts.map { .joined($0, task: goldenSet.task) })
    }

    /// A sample's image as a scenario shows it to the models: decoded, checked against the
    /// manifest's size (detection), and transformed with the sample's seed.
    public static func scenarioImage(_ sample: Sample, _ scenario: Scenario, goldenSet: GoldenSet, seed: UInt64) throws -> Image {
        try scenarioImage(sample, scenario, decoded: sampleImage(sample, goldenSet: goldenSet), goldenSet: goldenSet, seed: seed)
    }

    /// A sample's image decoded and checked against the manifest's size (detection).
    public static func sampleImage(_ sample: Sample, goldenSet: GoldenSet) throws -> Image {
        let url = goldenSet.url(of: sample)
        let image = try Image(contentsOf: url)
        if let width = sample.width, let height = sample.height, image.width != width || image.height != height {
            throw InputError("\(DisplayPath.of(url)): the image is \(image.width)×\(image.height), but golden set '\(goldenSet.name)' lists sample '\(sample.id)' as \(width)×\(height); its boxes would not fit")
        }
        return image
    }

    /// The scenario applied to a sample's image decoded by `sampleImage`, so that one decode
    /// serves several scenarios (reports).
    public static func scenarioImage(_ sample: Sample, _ scenario: Scenario, decoded image: Image, goldenSet: GoldenSet,
                                     seed: UInt64) throws -> Image {
        let url = goldenSet.url(of: sample)
        let sampleSeed = Seeds.sample(run: seed, scenario: scenario, sampleID: sample.id)
        do {
            return try scenario.apply(to: image, seed: sampleSeed, objects: (sample.objects ?? []).map(\.box))
        } catch let error as InputError {
            throw InputError("\(DisplayPath.of(url)): \(error.message)")
        }
    }

    /// Runs one model on a batch (split to the model's largest batch) and turns its predictions
    /// into outcomes. Detections of classes the golden set does not have are dropped; the
    /// others are renumbered to the golden set's class order.
    private static func predict(_ worker: any InferenceWorker, _ backend: any InferenceBackend, _ inputs: [ModelInput],
                                _ samples: [Sample], _ goldenSet: GoldenSet) async throws -> ScenarioOutcomes {
        var predictions: [Prediction] = []
        let maxBatch = backend.maxBatchSize
        for start in stride(from: 0, to: inputs.count, by: maxBatch) {
            predictions += try await worker.predict(Array(inputs[start..<min(start + maxBatch, inputs.count)]))
        }
        switch goldenSet.task {
        case .classification:
            return .classification(predictions.indices.map { i in
                Outcome(sampleID: samples[i].id, label: goldenSet.labelIndex(of: samples[i]),
                        probabilities: predictions[i].probabilities, latencyMs: predictions[i].latencyMs)
            })
        case .detection:
            let classMap = backend.classes.map { goldenSet.classIndex(of: $0) }
            return .detection(predictions.indices.map { i in
                let detections = predictions[i].detections.compactMap { d -> Detection? in
                    guard let k = classMap[d.classIndex] else { return nil }
                    return Detection(classIndex: k, box: d.box, score: d.score)
                }
                return DetectionOutcome(sampleID: samples[i].id, detections: detections, latencyMs: predictions[i].latencyMs)
            })
        }
    }
}

extension ScenarioOutcomes {
    /// The batches' outcomes of one scenario, one after the other (all of `task`).
    static func joined(_ parts: [ScenarioOutcomes], task: VisionTask) -> ScenarioOutcomes {
        switch task {
        case .classification: .classification(parts.flatMap { $0.classification ?? [] })
        case .detection: .detection(parts.flatMap { $0.detection ?? [] })
        }
    }
}

/// A counter that concurrent workers can bump (a class, so tasks share one instance).
final class SharedCounter: Sendable {
    private let value = Atomic<Int>(0)

    func add(_ amount: Int) -> Int {
        value.add(amount, ordering: .relaxed).newValue
    }
}

public enum VigilVersion {
    public static let string = "0.1.0"
}

/// The git commit of a folder's checkout, for run records.
public enum GitInfo {
    public static func commit(at folder: URL) -> String? {
        guard let head = git(["rev-parse", "HEAD"], in: folder), !head.isEmpty else { return nil }
        let status = git(["status", "--porcelain", "--untracked-files=no"], in: folder) ?? ""
        return status.isEmpty ? head : head + "+dirty"
    }

    static func git(_ arguments: [String], in folder: URL) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", folder.path] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

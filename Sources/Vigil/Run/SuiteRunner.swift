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

    public init(runID: String = RunID.make(), workers: Int? = nil, reuseBaseline: Bool = true,
                storedBaseline: StoredBaseline? = nil, progress: (@Sendable (RunProgress) -> Void)? = nil) {
        self.runID = runID
        self.workers = workers
        self.reuseBaseline = reuseBaseline
        self.storedBaseline = storedBaseline
        self.progress = progress
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
        public var baselineBackend: OpenCVDNNBackend?
        public var candidateBackend: OpenCVDNNBackend
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
    /// class lists and the classes named by conditions. Throws `InputError`s.
    public func prepare() throws -> Prepared {
        let goldenSet = try GoldenSet.load(suite.goldenSet)
        let verification = goldenSet.verify()
        guard verification.isValid else { throw InputError(verification.refusal) }
        guard goldenSet.task == .classification else {
            throw InputError("\(suite.path): golden set '\(goldenSet.name)' is for \(goldenSet.task.rawValue); this version of Vigil runs classification suites")
        }
        for condition in suite.conditions {
            if let name = condition.metric.className, !goldenSet.classes.contains(name) {
                throw InputError("\(condition.source): class '\(name)' is not a class of golden set '\(goldenSet.name)'"
                                 + Suggestion.hint(for: name, in: goldenSet.classes))
            }
        }
        func backend(_ url: URL, _ role: ModelRole) throws -> OpenCVDNNBackend {
            let spec = try ModelSpec.load(url, displayPath: DisplayPath.of(url))
            guard spec.task == goldenSet.task else {
                throw InputError("\(DisplayPath.of(url)): \(role.rawValue) model is for \(spec.task.rawValue), the golden set for \(goldenSet.task.rawValue)")
            }
            guard spec.classes == goldenSet.classes else {
                throw InputError("\(DisplayPath.of(url)): the \(role.rawValue) model's classes \(spec.classes) differ from golden set '\(goldenSet.name)' classes \(goldenSet.classes) (same names in the same order are required)")
            }
            return try OpenCVDNNBackend(spec: spec, displayPath: DisplayPath.of(spec.modelURL))
        }
        func info(_ backend: OpenCVDNNBackend) -> ModelInfo {
            ModelInfo(name: backend.spec.name, spec: DisplayPath.of(URL(fileURLWithPath: backend.spec.specPath)),
                      sha256: backend.spec.sha256, identity: backend.identity)
        }
        let indices = try Self.sampleIndices(suite.scenarios, goldenSet, suitePath: suite.path)
        let candidate = try backend(suite.candidate, .candidate)
        if let stored = options.storedBaseline {
            return Prepared(goldenSet: goldenSet, baselineBackend: nil, candidateBackend: candidate,
                            baselineInfo: stored.model, candidateInfo: info(candidate), sampleIndices: indices)
        }
        let baseline = try backend(suite.baseline, .baseline)
        return Prepared(goldenSet: goldenSet, baselineBackend: baseline, candidateBackend: candidate,
                        baselineInfo: info(baseline), candidateInfo: info(candidate), sampleIndices: indices)
    }

    /// Runs the suite. Pass the result of `prepare()` when it was already called (for example to
    /// record the run as started only once its inputs are known to be valid).
    public func run(prepared: Prepared? = nil, cache: (any OutcomeCache)? = nil) async throws -> RunResult {
        let started = Date()
        let prepared = try prepared ?? prepare()
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
                guard let outcomes = stored.outcomes[scenario.id], outcomes.map(\.sampleID) == sampleIDs[index] else {
                    throw InputError("run \(stored.runID) has no complete outcomes for scenario '\(scenario.id)'; it cannot serve as the baseline for \(suite.path)")
                }
                known[scenario.id] = CachedOutcomes(runID: stored.runID, outcomes: outcomes)
            }
        } else if options.reuseBaseline, let cache, let baseline = prepared.baselineBackend {
            for (index, scenario) in suite.scenarios.enumerated() {
                let key = OutcomeKey(modelIdentity: baseline.identity, goldenSetIdentity: goldenSet.identity,
                                     scenario: scenario, seed: suite.seed, batchSize: suite.batchSize)
                if let cached = try cache.cachedOutcomes(for: key), cached.outcomes.map(\.sampleID) == sampleIDs[index] {
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
        var outcomes: [String: [ModelRole: [Outcome]]] = [:]
        for (index, scenario) in suite.scenarios.enumerated() {
            let candidateOutcomes = computed.candidate[index]
            let baselineOutcomes = known[scenario.id]?.outcomes ?? computed.baseline[index]
            outcomes[scenario.id] = [.baseline: baselineOutcomes, .candidate: candidateOutcomes]
            let baseline = Self.accumulator(baselineOutcomes, classes: goldenSet.classes)
            let candidate = Self.accumulator(candidateOutcomes, classes: goldenSet.classes)
            let baselineMetrics = baseline.compute(), candidateMetrics = candidate.compute()
            let comparisons = try pairedComparisons(scenario, baseline, candidate)
            var result = ScenarioResult(scenario: scenario, baseline: baselineMetrics, candidate: candidateMetrics,
                                        baselineReusedFrom: known[scenario.id]?.runID, comparisons: comparisons, verdicts: [])
            let smallSample = candidateOutcomes.count < suite.minSamples ? smallSampleFlag(result, n: candidateOutcomes.count) : nil
            result.verdicts = suite.conditions.filter { $0.applies(to: scenario) }.map { condition in
                let paired = condition.needsStatistics ? result.comparison(of: condition.metric, level: condition.confidence ?? 0.95) : nil
                var verdict = Gate.evaluate(condition, scenario: scenario, baseline: baselineMetrics, candidate: candidateMetrics, paired: paired)
                verdict.flag = smallSample
                return verdict
            }
            scenarioResults.append(result)
        }
        let robustness = RobustnessScores.compute(
            scenarioResults.map { .init(scenario: $0.scenario, baseline: $0.baseline.accuracy, candidate: $0.candidate.accuracy) },
            metric: MetricKey(.accuracy), reference: suite.robustnessReference)

        return RunResult(
            id: options.runID, startedAt: started, finishedAt: Date(),
            suite: SuiteInfo(suite), goldenSet: GoldenSetInfo(goldenSet),
            seed: suite.seed, batchSize: suite.batchSize,
            baseline: prepared.baselineInfo, candidate: prepared.candidateInfo,
            environment: RunEnvironment(vigilVersion: VigilVersion.string, opencvVersion: OpenCV.version,
                                        gitCommit: GitInfo.commit(at: suite.fileURL.deletingLastPathComponent()),
                                        workers: workers, opencvThreads: opencvThreads),
            primaryMetric: suite.primaryMetric, reportedMetrics: suite.reportedMetrics,
            scenarios: scenarioResults, robustness: robustness, outcomes: outcomes)
    }

    /// Why a scenario's verdicts do not decide the gate: its sample count, and how wide the
    /// 95% interval of the primary metric's delta is at that size.
    func smallSampleFlag(_ result: ScenarioResult, n: Int) -> String {
        var text = "only \(n) samples (min_samples \(suite.minSamples))"
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

    /// Paired comparisons for one scenario: the primary metric at 95%, and every metric a
    /// condition judges with statistics at the condition's level. Each scenario's bootstrap has
    /// its own seed, derived from the suite's seed and the scenario id.
    func pairedComparisons(_ scenario: Scenario, _ baseline: ClassificationAccumulator,
                           _ candidate: ClassificationAccumulator) throws -> [PairedDelta] {
        guard suite.bootstrap > 0 else { return [] }
        var keysByLevel: [Double: [MetricKey]] = [:]
        if suite.primaryMetric.metric.isResampleable { keysByLevel[0.95] = [suite.primaryMetric] }
        for condition in suite.conditions where condition.applies(to: scenario) && condition.needsStatistics {
            let level = condition.confidence ?? 0.95
            if !(keysByLevel[level]?.contains(condition.metric) ?? false) { keysByLevel[level, default: []].append(condition.metric) }
        }
        let seed = Seeds.sample(run: suite.seed, scenario: scenario, sampleID: "bootstrap")
        var comparisons: [PairedDelta] = []
        for (level, keys) in keysByLevel.sorted(by: { $0.key == 0.95 ? true : $1.key == 0.95 ? false : $0.key < $1.key }) {
            comparisons += try baseline.compare(with: candidate, keys: keys,
                                                bootstrap: Bootstrap(replicates: suite.bootstrap, seed: seed, confidence: level))
        }
        return comparisons
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
        var baseline: [[Outcome]]
        var candidate: [[Outcome]]
    }

    private func evaluate(items: [WorkItem], workers: Int, prepared: Prepared, started: Date) async throws -> Computed {
        let total = items.reduce(0) { $0 + $1.samples.count * ($1.runBaseline ? 2 : 1) }
        let done = SharedCounter()
        let progress = options.progress
        let seed = suite.seed
        let results = try await withThrowingTaskGroup(of: [(Int, [Outcome], [Outcome])].self) { group in
            for worker in 0..<workers {
                group.addTask {
                    let candidate = try prepared.candidateBackend.makeWorker()
                    let baseline = try items.contains(where: \.runBaseline) ? prepared.baselineBackend?.makeWorker() : nil
                    var produced: [(Int, [Outcome], [Outcome])] = []
                    for itemIndex in stride(from: worker, to: items.count, by: workers) {
                        try Task.checkCancellation()
                        let item = items[itemIndex]
                        let samples = item.samples.map { prepared.goldenSet.samples[$0] }
                        let images = try samples.map { sample in
                            let url = prepared.goldenSet.url(of: sample)
                            let image = try Image(contentsOf: url)
                            let sampleSeed = Seeds.sample(run: seed, scenario: item.scenario, sampleID: sample.id)
                            do {
                                return try item.scenario.apply(to: image, seed: sampleSeed)
                            } catch let error as InputError {
                                throw InputError("\(DisplayPath.of(url)): \(error.message)")
                            }
                        }
                        let labels = samples.map(prepared.goldenSet.labelIndex(of:))
                        let candidateOutcomes = try Self.predict(candidate, prepared.candidateBackend.maxBatchSize,
                                                                 images, samples, labels)
                        var baselineOutcomes: [Outcome] = []
                        if item.runBaseline, let baseline, let backend = prepared.baselineBackend {
                            baselineOutcomes = try Self.predict(baseline, backend.maxBatchSize, images, samples, labels)
                        }
                        produced.append((itemIndex, baselineOutcomes, candidateOutcomes))
                        let count = samples.count * (item.runBaseline ? 2 : 1)
                        let now = done.add(count)
                        progress?(RunProgress(done: now, total: total, elapsedSeconds: Date().timeIntervalSince(started)))
                    }
                    return produced
                }
            }
            var all: [(Int, [Outcome], [Outcome])] = []
            for try await part in group { all += part }
            return all.sorted { $0.0 < $1.0 }
        }
        var computed = Computed(baseline: Array(repeating: [], count: suite.scenarios.count),
                                candidate: Array(repeating: [], count: suite.scenarios.count))
        for (itemIndex, baseline, candidate) in results {
            let scenario = items[itemIndex].scenarioIndex
            computed.baseline[scenario] += baseline
            computed.candidate[scenario] += candidate
        }
        return computed
    }

    private static func predict(_ worker: any InferenceWorker, _ maxBatch: Int, _ images: [Image],
                                _ samples: [Sample], _ labels: [Int]) throws -> [Outcome] {
        var predictions: [Prediction] = []
        for start in stride(from: 0, to: images.count, by: maxBatch) {
            predictions += try worker.predict(Array(images[start..<min(start + maxBatch, images.count)]))
        }
        return predictions.indices.map { i in
            Outcome(sampleID: samples[i].id, label: labels[i], probabilities: predictions[i].probabilities,
                    latencyMs: predictions[i].latencyMs)
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

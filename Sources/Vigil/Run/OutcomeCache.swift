import Foundation

/// Identifies outcomes that can be reused: the same computation (backend identity) on the same
/// golden set content, scenario implementation and parameters, seed and batch size gives the
/// same outputs.
public struct OutcomeKey: Sendable, Hashable, Codable {
    public var modelIdentity: String
    public var goldenSetIdentity: String
    public var scenario: String
    public var scenarioVersion: Int
    /// Parameters the suite set for the scenario's steps ("" for the defaults).
    public var scenarioParameters: String
    public var seed: UInt64
    /// Batching can change the last bits of a network's float outputs, so it is part of the key.
    public var batchSize: Int

    public init(modelIdentity: String, goldenSetIdentity: String, scenario: Scenario, seed: UInt64, batchSize: Int) {
        self.modelIdentity = modelIdentity
        self.goldenSetIdentity = goldenSetIdentity
        self.scenario = scenario.id
        scenarioVersion = scenario.implementationVersion
        scenarioParameters = scenario.parameterKey
        self.seed = seed
        self.batchSize = batchSize
    }
}

/// Outcomes found in a store, and the run that produced them.
public struct CachedOutcomes: Sendable {
    public var runID: String
    public var outcomes: ScenarioOutcomes

    public init(runID: String, outcomes: ScenarioOutcomes) {
        self.runID = runID
        self.outcomes = outcomes
    }
}

/// Something that remembers outcomes of earlier runs (VigilStore's `RunStore` is one), so the
/// baseline need not run again when nothing about it changed.
public protocol OutcomeCache: Sendable {
    /// Outcomes for `key` from the most recent complete run that has them, or nil.
    func cachedOutcomes(for key: OutcomeKey) throws -> CachedOutcomes?
}

/// A baseline taken from a stored run (`vigil run --baseline RUN_ID`) instead of a model.
public struct StoredBaseline: Sendable {
    public var runID: String
    public var model: ModelInfo
    public var goldenSetIdentity: String
    public var seed: UInt64
    /// Per scenario id, one outcome per sample of the scenario.
    public var outcomes: [String: ScenarioOutcomes]
    /// Per scenario id, the implementation version and parameters its images were made with;
    /// a scenario made differently now cannot be compared against.
    public var scenarioComputations: [String: ScenarioComputation]

    public init(runID: String, model: ModelInfo, goldenSetIdentity: String, seed: UInt64, outcomes: [String: ScenarioOutcomes],
                scenarioComputations: [String: ScenarioComputation] = [:]) {
        self.runID = runID
        self.model = model
        self.goldenSetIdentity = goldenSetIdentity
        self.seed = seed
        self.outcomes = outcomes
        self.scenarioComputations = scenarioComputations
    }
}

/// How a scenario's images were made: its implementation version and the suite's parameters.
public struct ScenarioComputation: Sendable, Hashable {
    public var version: Int
    public var parameters: String

    public init(version: Int, parameters: String) {
        self.version = version
        self.parameters = parameters
    }

    public init(_ scenario: Scenario) {
        self.init(version: scenario.implementationVersion, parameters: scenario.parameterKey)
    }
}

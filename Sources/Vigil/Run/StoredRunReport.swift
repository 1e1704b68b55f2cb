import Foundation

extension RunResult {
    /// Matches each detection model's outcomes to the golden set's boxes again at the run's
    /// operating point, as the run did (matching is deterministic; the store keeps the outcomes
    /// and the boxes, not the matching), so a report rebuilt from the store draws the same rows.
    public mutating func matchDetections(goldenSet: GoldenSet) throws {
        guard goldenSet.task == .detection, let point = operatingPoint else { return }
        let indices = try SuiteRunner.sampleIndices(scenarios.map(\.scenario), goldenSet, suitePath: suite.path)
        for (index, scenarioResult) in scenarios.enumerated() {
            let id = scenarioResult.scenario.id
            for role in ModelRole.allCases {
                guard let outcomes = self.outcomes[id]?[role]?.detection else { continue }
                guard outcomes.count == indices[index].count else {
                    throw InputError("run \(self.id): scenario \(id) has \(outcomes.count) stored \(role.rawValue) outcomes, "
                                     + "but golden set '\(goldenSet.name)' puts \(indices[index].count) samples in it")
                }
                detectionMatches[id, default: [:]][role] = DetectionRunEvaluation(
                    goldenSet: goldenSet, indices: indices[index], outcomes: outcomes, iou: point.iou,
                    scoreThreshold: point.scoreThreshold(role)).matches
            }
        }
    }
}

extension GoldenSet {
    /// The golden set a stored run used, loaded from the path the run recorded (relative to the
    /// folder Vigil ran in) and checked to be the same: its identity and every file's hash.
    public static func loadVerified(for result: RunResult) throws -> GoldenSet {
        let goldenSet: GoldenSet
        do {
            goldenSet = try load(URL(fileURLWithPath: result.goldenSet.path))
        } catch let error as InputError {
            throw InputError("run \(result.id) used golden set '\(result.goldenSet.name)' at \(result.goldenSet.path), "
                             + "which cannot be read from here (run Vigil in the folder the run was made in): \(error.message)")
        }
        guard goldenSet.identity == result.goldenSet.identity else {
            throw InputError("\(result.goldenSet.path): golden set identity \(goldenSet.identity.prefix(12))… differs from the one run "
                             + "\(result.id) used (\(result.goldenSet.identity.prefix(12))…): its manifest changed since")
        }
        let verification = goldenSet.verify()
        guard verification.isValid else { throw InputError(verification.refusal) }
        return goldenSet
    }
}

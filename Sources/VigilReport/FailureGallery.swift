import Foundation
import Vigil

/// A model's worst misclassifications on one scenario, most confident mistakes first. The report
/// shows each as a tile: the scenario image (the full-size PNG on click) beside the image the
/// model received after its resize and crop, with true and predicted class and confidence. On
/// the candidate's gallery, tiles the baseline got right carry a NEW badge.
public struct FailureGallery {
    public struct Tile: Sendable {
        public var sample: Sample
        public var outcome: Outcome
        /// True on the candidate's gallery when the baseline classified this sample correctly.
        public var isNew: Bool
    }

    /// The worst `limit` failures of `outcomes` (by confidence, ties by sample id: the order
    /// the run's ``KeptScenarioImages`` keeps).
    public static func worst(_ outcomes: [Outcome], samples: [String: Sample], baseline: [String: Outcome]?,
                             limit: Int) -> [Tile] {
        outcomes.filter { !$0.correct }
            .sorted(by: Outcome.shownFirst)
            .prefix(limit)
            .map { outcome in
                Tile(sample: samples[outcome.sampleID]!, outcome: outcome,
                     isNew: baseline?[outcome.sampleID]?.correct ?? false)
            }
    }
}

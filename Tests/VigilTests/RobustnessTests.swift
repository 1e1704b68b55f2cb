import Foundation
import Testing
@testable import Vigil

/// Robustness scores against values worked out by hand from the definitions (Hendrycks &
/// Dietterich's CE and relative CE; Michaelis et al.'s mPC and rPC).
@Suite("Robustness scores: CE, relative CE, mPC, rPC")
struct RobustnessTests {
    static func measure(_ id: String, _ baseline: Double?, _ candidate: Double?) throws -> RobustnessScores.Measurement {
        .init(scenario: try Scenario(id: id), baseline: baseline, candidate: candidate)
    }

    static func close(_ a: Double?, _ b: Double) -> Bool { a.map { abs($0 - b) < 1e-12 } ?? false }

    @Test func normalisedByTheBaseline() throws {
        let measurements = try [
            Self.measure("clean", 0.9, 0.95),
            Self.measure("fog@1", 0.8, 0.9), Self.measure("fog@2", 0.6, 0.85),
            Self.measure("low-light@1", 0.7, 0.6),
            // Chains and slices are not single corruptions: ignored.
            Self.measure("fog@1+low-light@1", 0.1, 0.1), Self.measure("ink=heavy:fog@1", 0.1, 0.1),
        ]
        let r = try #require(RobustnessScores.compute(measurements, metric: MetricKey(.accuracy), reference: .baseline))
        #expect(r.curves.map(\.family) == ["fog", "low-light"])
        #expect(r.curves[0].severities == [1, 2] && r.curves[0].candidate == [0.9, 0.85])
        let fog = r.corruptions[0].candidate, lowLight = r.corruptions[1].candidate
        // fog: CE = (0.10 + 0.15) / (0.20 + 0.40); relative = (0.05 + 0.10) / (0.10 + 0.30).
        #expect(Self.close(fog.ce, 0.25 / 0.6) && Self.close(fog.relativeCE, 0.15 / 0.4))
        // low light: CE = 0.40 / 0.30; relative = (0.40 − 0.05) / (0.30 − 0.10).
        #expect(Self.close(lowLight.ce, 0.4 / 0.3) && Self.close(lowLight.relativeCE, 0.35 / 0.2))
        #expect(Self.close(r.candidate.mCE, 0.875) && Self.close(r.candidate.relativeMCE, 1.0625))
        // mPC: mean over corruptions of the mean over severities; rPC = mPC / clean.
        #expect(Self.close(r.candidate.mPC, 0.7375) && Self.close(r.candidate.rPC, 0.7375 / 0.95))
        #expect(Self.close(r.baseline.mCE, 1) && Self.close(r.baseline.relativeMCE, 1))
        #expect(Self.close(r.baseline.mPC, 0.7) && Self.close(r.baseline.rPC, 0.7 / 0.9))
        #expect(r.candidate.mCECount == 2 && r.candidate.mPCCount == 2)
    }

    @Test func normalisedByAlexNetNeedsTheFiveSeverities() throws {
        var measurements = try [Self.measure("clean", 0.9, 0.95), Self.measure("low-light@1", 0.7, 0.6)]
        for (severity, p) in [0.9, 0.8, 0.7, 0.6, 0.5].enumerated() {
            measurements.append(try Self.measure("fog@\(severity + 1)", p, p))
        }
        measurements += try [Self.measure("snow@1", 0.5, 0.5)]   // one severity only: no CE
        let r = try #require(RobustnessScores.compute(measurements, metric: MetricKey(.accuracy), reference: .alexnet))
        let fog = try #require(r.corruptions.first { $0.family == "fog" }?.candidate)
        // Mean error 0.3 over the published AlexNet 0.819324; relative with AlexNet's clean 0.4345.
        #expect(Self.close(fog.ce, 0.3 / 0.819324) && Self.close(fog.relativeCE, 0.25 / (0.819324 - 0.4345)))
        #expect(r.corruptions.first { $0.family == "low-light" }?.candidate.ce == nil)
        #expect(r.corruptions.first { $0.family == "snow" }?.candidate.ce == nil)
        #expect(r.candidate.mCECount == 1 && Self.close(r.candidate.mCE, 0.3 / 0.819324))
        #expect(r.notes.contains("mCE over 1 of the 15 ImageNet-C corruptions (each needs severities 1-5): not comparable with published mCE"))
    }

    /// A reference with no errors gives no CE (0/0), and a missing clean scenario no relative
    /// scores; both are said, not silently averaged.
    @Test func undefinedScoresAreLeftOutAndNamed() throws {
        let perfect = try [Self.measure("fog@1", 1.0, 0.9), Self.measure("fog@2", 1.0, 0.8)]
        let r = try #require(RobustnessScores.compute(perfect, metric: MetricKey(.accuracy), reference: .baseline))
        #expect(r.candidate.mCE == nil && r.candidate.relativeMCE == nil && r.candidate.rPC == nil)
        #expect(Self.close(r.candidate.mPC, 0.85))
        #expect(r.notes.contains("no clean scenario: relative mCE and rPC need one"))
        #expect(r.notes.contains { $0.hasPrefix("CE undefined") && $0.hasSuffix("for: fog") })
        #expect(RobustnessScores.compute([try Self.measure("clean", 1, 1)], metric: MetricKey(.accuracy), reference: .baseline) == nil)
    }

    /// A reference as good under a corruption as on clean images on average (one sample better at
    /// severity 1, one worse at 3, of 52) has no degradation to normalise by: relative CE is
    /// undefined, not the rounding residue's 10^17 %.
    @Test func aReferenceThatDoesNotDegradeLeavesRelativeCEUndefined() throws {
        let measurements = try [Self.measure("clean", 50.0 / 52, 42.0 / 52),
                                Self.measure("low-light@1", 51.0 / 52, 42.0 / 52), Self.measure("low-light@3", 49.0 / 52, 43.0 / 52)]
        let r = try #require(RobustnessScores.compute(measurements, metric: MetricKey(.accuracy), reference: .baseline))
        #expect(r.corruptions[0].candidate.relativeCE == nil && r.corruptions[0].baseline.relativeCE == nil)
        #expect(r.corruptions[0].candidate.ce != nil)
    }
}

import Foundation

/// What corruption errors are normalised by.
public enum RobustnessReference: String, Sendable, Codable, CaseIterable {
    /// The suite's baseline model: CE below 100% means the candidate errs less under that
    /// corruption than the baseline does.
    case baseline
    /// The published AlexNet errors on ImageNet-C, for numbers comparable with papers (only
    /// meaningful for ImageNet classifiers on ImageNet-like images; only the 15 benchmark
    /// corruptions at all 5 severities count).
    case alexnet
}

/// Robustness scores over a run's corruption scenarios (single transforms, not chains or
/// slices), computed from a performance metric P (accuracy for classification, error E = 1 − P):
///
/// - severity curves: P per severity for each corruption, baseline and candidate;
/// - Corruption Error (Hendrycks & Dietterich 2019): CE_c = Σ_s E_{s,c} / Σ_s E^ref_{s,c}, and
///   relative CE_c = Σ_s (E_{s,c} − E_clean) / Σ_s (E^ref_{s,c} − E^ref_clean); mCE and relative
///   mCE are their means over corruptions. With the AlexNet reference, Σ_s E^ref is 5 × the
///   published mean error and E^ref_clean = 43.45%.
/// - mean Performance under Corruption (Michaelis et al. 2019): mPC = mean over corruptions of
///   the mean over severities of P; relative rPC = mPC / P_clean.
///
/// A score whose denominator is zero or negative (a reference that makes no errors, or no more
/// under the corruption than on clean images) is undefined (nil) and left out of the means;
/// `notes` says so.
public struct RobustnessScores: Sendable, Hashable, Codable {
    public struct Curve: Sendable, Hashable, Codable {
        public var family: String
        public var severities: [Int]
        public var baseline: [Double?]
        public var candidate: [Double?]
    }

    /// One corruption's errors for one model.
    public struct CorruptionScore: Sendable, Hashable, Codable {
        public var ce: Double?
        public var relativeCE: Double?

        enum CodingKeys: String, CodingKey { case ce, relativeCE = "relative_ce" }
    }

    public struct Corruption: Sendable, Hashable, Codable {
        public var family: String
        public var baseline: CorruptionScore
        public var candidate: CorruptionScore
    }

    /// The summary scores of one model.
    public struct Summary: Sendable, Hashable, Codable {
        public var mCE: Double?
        public var relativeMCE: Double?
        public var mPC: Double?
        public var rPC: Double?
        /// How many corruptions entered mCE (and relative mCE) and mPC.
        public var mCECount: Int
        public var relativeMCECount: Int
        public var mPCCount: Int

        enum CodingKeys: String, CodingKey {
            case mCE = "mce", relativeMCE = "relative_mce", mPC = "mpc", rPC = "rpc", mCECount = "mce_count",
                 relativeMCECount = "relative_mce_count", mPCCount = "mpc_count"
        }
    }

    /// The performance metric P (accuracy for classification).
    public var metric: MetricKey
    public var reference: RobustnessReference
    public var curves: [Curve]
    public var corruptions: [Corruption]
    public var baseline: Summary
    public var candidate: Summary
    public var notes: [String]

    /// One scenario's performance for both models.
    public struct Measurement: Sendable {
        public var scenario: Scenario
        public var baseline: Double?
        public var candidate: Double?

        public init(scenario: Scenario, baseline: Double?, candidate: Double?) {
            self.scenario = scenario
            self.baseline = baseline
            self.candidate = candidate
        }
    }

    /// Scores from per-scenario performance; nil when no scenario is a single corruption.
    /// Denominators at or below this are zero (metrics are fractions of at most billions of
    /// samples, so a real one is never this small).
    static let rounding = 1e-12

    public static func compute(_ measurements: [Measurement], metric: MetricKey,
                               reference: RobustnessReference) -> RobustnessScores? {
        var order: [String] = []
        var byFamily: [String: [(severity: Int, baseline: Double?, candidate: Double?)]] = [:]
        for m in measurements where m.scenario.slice.isEmpty && m.scenario.steps.count == 1 {
            let step = m.scenario.steps[0]
            if byFamily[step.transform.name] == nil { order.append(step.transform.name) }
            byFamily[step.transform.name, default: []].append((step.severity, m.baseline, m.candidate))
        }
        guard !order.isEmpty else { return nil }
        let clean = measurements.first { $0.scenario.isClean }
        var notes: [String] = []

        let curves = order.map { family in
            let points = byFamily[family]!.sorted { $0.severity < $1.severity }
            return Curve(family: family, severities: points.map(\.severity),
                         baseline: points.map(\.baseline), candidate: points.map(\.candidate))
        }

        var corruptions: [Corruption] = []
        for curve in curves {
            func score(_ values: [Double?], cleanValue: Double?) -> CorruptionScore {
                let performance = values.compactMap { $0 }
                guard performance.count == values.count else { return CorruptionScore(ce: nil, relativeCE: nil) }
                let errors = performance.map { 1 - $0 }
                let cleanError = cleanValue.map { 1 - $0 }
                switch reference {
                case .baseline:
                    guard curve.baseline.allSatisfy({ $0 != nil }) else { return CorruptionScore(ce: nil, relativeCE: nil) }
                    let referenceErrors = curve.baseline.map { 1 - $0! }
                    let denominator = referenceErrors.reduce(0, +)
                    let ce = denominator > Self.rounding ? errors.reduce(0, +) / denominator : nil
                    var relative: Double?
                    if let cleanError, let referenceClean = clean?.baseline.map({ 1 - $0 }) {
                        let relativeDenominator = referenceErrors.reduce(0) { $0 + ($1 - referenceClean) }
                        // Sums of differences of fractions leave rounding residue (−1/52 + 1/52 is
                        // 1e-17, not 0): below `rounding`, the reference did not degrade at all.
                        if relativeDenominator > Self.rounding {
                            relative = errors.reduce(0) { $0 + ($1 - cleanError) } / relativeDenominator
                        }
                    }
                    return CorruptionScore(ce: ce, relativeCE: relative)
                case .alexnet:
                    guard let alexnet = AlexNetErrors.table[curve.family], curve.severities == [1, 2, 3, 4, 5] else {
                        return CorruptionScore(ce: nil, relativeCE: nil)
                    }
                    let meanError = errors.reduce(0, +) / 5
                    let relative = cleanError.map { (meanError - $0) / (alexnet - AlexNetErrors.clean) }
                    return CorruptionScore(ce: meanError / alexnet, relativeCE: relative)
                }
            }
            corruptions.append(Corruption(family: curve.family,
                                          baseline: score(curve.baseline, cleanValue: clean?.baseline),
                                          candidate: score(curve.candidate, cleanValue: clean?.candidate)))
        }

        func mean(_ values: [Double]) -> Double? { values.isEmpty ? nil : values.reduce(0, +) / Double(values.count) }
        func summary(_ role: KeyPath<Corruption, CorruptionScore>, _ curveValues: KeyPath<Curve, [Double?]>,
                     cleanValue: Double?) -> Summary {
            let ces = corruptions.compactMap { $0[keyPath: role].ce }
            let relatives = corruptions.compactMap { $0[keyPath: role].relativeCE }
            let performance = curves.compactMap { curve -> Double? in
                let values = curve[keyPath: curveValues]
                return values.contains(where: { $0 == nil }) ? nil : mean(values.map { $0! })
            }
            let mPC = mean(performance)
            return Summary(mCE: mean(ces), relativeMCE: mean(relatives), mPC: mPC,
                           rPC: mPC.flatMap { m in cleanValue.flatMap { $0 > 0 ? m / $0 : nil } },
                           mCECount: ces.count, relativeMCECount: relatives.count, mPCCount: performance.count)
        }
        let baselineSummary = summary(\.baseline, \.baseline, cleanValue: clean?.baseline)
        let candidateSummary = summary(\.candidate, \.candidate, cleanValue: clean?.candidate)

        switch reference {
        case .baseline:
            notes.append("CE normalised by the baseline: the baseline's CE is 100% by definition; the candidate's below 100% means fewer errors under corruption")
        case .alexnet:
            let benchmark = Transform.all.filter(\.isImageNetCBenchmark).count
            if candidateSummary.mCECount < benchmark {
                notes.append("mCE over \(candidateSummary.mCECount) of the \(benchmark) ImageNet-C corruptions (each needs severities 1-5): not comparable with published mCE")
            }
        }
        if clean == nil { notes.append("no clean scenario: relative mCE and rPC need one") }
        let undefined = corruptions.filter { $0.candidate.ce == nil }.map(\.family)
        if !undefined.isEmpty, reference == .baseline {
            notes.append("CE undefined (the reference made no errors, or a metric is undefined) for: \(undefined.joined(separator: ", "))")
        }
        return RobustnessScores(metric: metric, reference: reference, curves: curves, corruptions: corruptions,
                                baseline: baselineSummary, candidate: candidateSummary, notes: notes)
    }
}

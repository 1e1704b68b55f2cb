import Foundation

/// xoshiro256** seeded through SplitMix64: the generator behind every bootstrap replicate.
/// Written out (rather than Swift's `SystemRandomNumberGenerator`) so that replicates are
/// reproducible from a seed on every platform, and so that a reference implementation
/// (Scripts/make_metric_fixtures.py) can draw exactly the same samples.
public struct Xoshiro256: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    public mutating func next() -> UInt64 {
        let result = rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = rotl(s.3, 45)
        return result
    }

    /// Uniform in [0, bound) by Lemire's multiply-and-reject method (no modulo bias).
    public mutating func next(below bound: UInt64) -> UInt64 {
        precondition(bound > 0)
        var product = next().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (0 &- bound) % bound
            while product.low < threshold {
                product = next().multipliedFullWidth(by: bound)
            }
        }
        return product.high
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}

/// A percentile confidence interval from bootstrap replicates.
public struct Interval: Sendable, Hashable, Codable {
    public var lower: Double
    public var upper: Double
    /// The confidence level, e.g. 0.95.
    public var level: Double
    /// Replicates in which the statistic was defined (it can be undefined in a resample, e.g.
    /// the FNR of a class that was not drawn).
    public var replicates: Int
}

/// Nonparametric bootstrap over samples (images): each replicate draws `n` samples with
/// replacement, expressed as how many times each sample was drawn.
///
/// Replicate `r` uses its own generator, `Xoshiro256(seed: mix(seed + r · 0x9E3779B97F4A7C15))`,
/// so replicates are independent of each other and of the order they are computed in: they run
/// in parallel and still give the same numbers for the same seed.
public struct Bootstrap: Sendable {
    public var replicates: Int
    public var seed: UInt64
    public var confidence: Double
    /// Told (replicates done, replicates) as replicates finish, from any thread; for progress
    /// lines. Not part of what is computed.
    public var progress: (@Sendable (Int, Int) -> Void)?

    public init(replicates: Int = 1000, seed: UInt64 = 0, confidence: Double = 0.95,
                progress: (@Sendable (Int, Int) -> Void)? = nil) {
        precondition(replicates >= 1 && confidence > 0 && confidence < 1)
        self.replicates = replicates
        self.seed = seed
        self.confidence = confidence
        self.progress = progress
    }

    /// SplitMix64's finaliser.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// How many times each of `n` samples is drawn in replicate `r`.
    public func weights(replicate r: Int, samples n: Int) -> [Int] {
        var generator = Xoshiro256(seed: Self.mix(seed &+ UInt64(r) &* 0x9E37_79B9_7F4A_7C15))
        var counts = [Int](repeating: 0, count: n)
        for _ in 0..<n {
            counts[Int(generator.next(below: UInt64(n)))] += 1
        }
        return counts
    }

    /// Evaluates `statistics` (several values at once) on every replicate, in parallel.
    /// Returns one array per replicate.
    public func run(samples n: Int, _ statistics: @Sendable ([Int]) -> [Double?]) -> [[Double?]] {
        guard n > 0 else { return [] }
        let results = ReplicateResults(count: replicates)
        let done = SharedCounter()
        DispatchQueue.concurrentPerform(iterations: replicates) { r in
            results.set(r, statistics(weights(replicate: r, samples: n)))
            if let progress { progress(done.add(1), replicates) }
        }
        return results.values
    }

    /// Percentile intervals of named statistics (`statistics` returns one value per name for a
    /// replicate's weights) over `n` resampled samples.
    public func intervals(_ names: [String], samples n: Int, _ statistics: @Sendable ([Int]) -> [Double?]) -> [String: Interval] {
        let replicates = run(samples: n, statistics)
        var result: [String: Interval] = [:]
        for (index, name) in names.enumerated() {
            result[name] = interval(replicates.map { $0[index] })
        }
        return result
    }

    /// Paired comparison of named statistics of two models on the same samples: each delta
    /// (candidate − baseline) at the full sample, and its paired-bootstrap interval and p-value
    /// (both models evaluated on the same resampled samples in every replicate). `baseline` and
    /// `candidate` return one value per name for a replicate's weights, or for the full sample
    /// when given nil.
    public func pairedDeltas(_ names: [String], samples n: Int, baseline: @Sendable ([Int]?) -> [Double?],
                             candidate: @Sendable ([Int]?) -> [Double?]) -> [NamedDelta] {
        @Sendable func deltas(_ weights: [Int]?) -> [Double?] {
            zip(baseline(weights), candidate(weights)).map { a, b in b.flatMap { y in a.map { y - $0 } } }
        }
        let replicates = run(samples: n) { deltas($0) }
        let points = deltas(nil)
        return names.enumerated().map { index, name in
            let values = replicates.map { $0[index] }
            return NamedDelta(metric: name, delta: points[index], interval: interval(values), pValue: Bootstrap.pValue(deltas: values))
        }
    }

    /// The percentile interval of one statistic's replicate values (numpy's linear percentiles
    /// at (1 − level)/2 and (1 + level)/2); nil when no replicate defined it.
    public func interval(_ values: [Double?]) -> Interval? {
        let defined = values.compactMap { $0 }.filter(\.isFinite).sorted()
        guard let lower = ClassificationAccumulator.percentile(defined, (1 - confidence) / 2),
              let upper = ClassificationAccumulator.percentile(defined, (1 + confidence) / 2) else { return nil }
        return Interval(lower: lower, upper: upper, level: confidence, replicates: defined.count)
    }

    /// Two-sided bootstrap p-value for "the delta is zero": twice the smaller tail share of
    /// replicate deltas at or beyond zero, each tail counted as (1 + k) / (1 + R) so that a
    /// p-value is never exactly 0; capped at 1.
    public static func pValue(deltas: [Double?]) -> Double? {
        let defined = deltas.compactMap { $0 }.filter(\.isFinite)
        guard !defined.isEmpty else { return nil }
        let below = defined.filter { $0 <= 0 }.count, above = defined.filter { $0 >= 0 }.count
        let r = Double(defined.count)
        return min(1, 2 * min(Double(1 + below) / (1 + r), Double(1 + above) / (1 + r)))
    }
}

/// Slots for replicate results, one per replicate, written once each.
final class ReplicateResults: @unchecked Sendable {
    // @unchecked: every slot is written by exactly one iteration of concurrentPerform, and the
    // slots are read only after it returns. A raw buffer avoids exclusive access to one array
    // from several threads.
    private let slots: UnsafeMutableBufferPointer<[Double?]>

    init(count: Int) {
        slots = .allocate(capacity: count)
        slots.initialize(repeating: [])
    }

    deinit {
        slots.deinitialize()
        slots.deallocate()
    }

    func set(_ index: Int, _ value: [Double?]) {
        slots[index] = value
    }

    var values: [[Double?]] { Array(slots) }
}

/// McNemar's exact test on paired correctness: of the samples where the two models disagree
/// (b: only the first is right, c: only the second is right), is the split consistent with
/// Binomial(b + c, ½)? Two-sided p = min(1, 2 · P(X ≤ min(b, c))), as statsmodels'
/// `mcnemar(exact=True)` and SciPy's `binomtest(min(b, c), b + c, 0.5)`.
public struct McNemar: Sendable, Hashable, Codable {
    public var onlyFirstCorrect: Int
    public var onlySecondCorrect: Int
    public var pValue: Double

    enum CodingKeys: String, CodingKey {
        case onlyFirstCorrect = "only_first_correct", onlySecondCorrect = "only_second_correct", pValue = "p_value"
    }

    public init(onlyFirstCorrect b: Int, onlySecondCorrect c: Int) {
        onlyFirstCorrect = b
        onlySecondCorrect = c
        pValue = min(1, 2 * Self.binomialCDFHalf(min(b, c), b + c))
    }

    /// P(X ≤ k) for X ~ Binomial(n, ½), summed in log space relative to the largest term.
    static func binomialCDFHalf(_ k: Int, _ n: Int) -> Double {
        guard n > 0 else { return 1 }
        guard k < n else { return 1 }
        let logTotal: Double = Double(n) * Foundation.log(2.0)
        let logN: Double = lgamma(Double(n + 1))
        var logs: [Double] = []
        for i in 0...k {
            let logChoose: Double = logN - lgamma(Double(i + 1)) - lgamma(Double(n - i + 1))
            logs.append(logChoose - logTotal)
        }
        let top = logs.max()!
        var sum = ExactSum()
        for value in logs { sum.add(Foundation.exp(value - top)) }
        return Foundation.exp(top + Foundation.log(sum.value))
    }
}

/// One metric's paired delta (candidate − baseline) with its bootstrap interval and p-value, for
/// metrics named by text (the segmentation and OCR scores).
public struct NamedDelta: Sendable, Hashable {
    public var metric: String
    public var delta: Double?
    public var interval: Interval?
    public var pValue: Double?
}

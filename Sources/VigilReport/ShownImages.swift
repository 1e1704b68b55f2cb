import Foundation
import Synchronization
import Vigil

/// The pictures a report shows: for each (scenario, sample) pair in a gallery, the image the
/// models received under that scenario, re-made with the run's seed (byte for byte what they
/// saw), or taken from the images the run kept for its report. Only pairs that are shown are
/// made; each sample is decoded once for all of its scenarios (and not at all when every one
/// was kept), and samples are processed on all cores.
struct ShownImages {
    /// A scenario (index into the run's scenarios) and a sample (index into the golden set).
    struct Pair: Hashable, Sendable, Comparable {
        var scenario: Int
        var sample: Int

        static func < (a: Pair, b: Pair) -> Bool { (a.sample, a.scenario) < (b.sample, b.scenario) }
    }

    var scenarios: [Scenario]
    var goldenSet: GoldenSet
    var seed: UInt64
    var kept: KeptScenarioImages?

    /// Calls `body` once per pair with its scenario image, and returns what it returned.
    /// `progress(done, total)` is called after each pair (from any thread). The first error
    /// (in pair order) is thrown once all started work has stopped.
    func render<T: Sendable>(_ pairs: Set<Pair>, progress: (@Sendable (Int, Int) -> Void)? = nil,
                             body: @Sendable (Pair, Vigil.Image) throws -> T) throws -> [Pair: T] {
        // Samples with the most pairs first, so that no long group is left running alone at the end.
        let groups: [[Pair]] = Array(Dictionary(grouping: pairs.sorted(), by: \.sample).values)
        let bySample = groups.sorted { (a: [Pair], b: [Pair]) -> Bool in
            a.count != b.count ? a.count > b.count : a[0].sample < b[0].sample
        }
        let results = Mutex<[Pair: T]>([:])
        let failure = Mutex<(Pair, any Error)?>(nil)
        let done = Atomic<Int>(0)
        let total = pairs.count
        let scenarios = scenarios, goldenSet = goldenSet, seed = seed, kept = kept
        DispatchQueue.concurrentPerform(iterations: bySample.count) { group in
            let samplePairs = bySample[group]
            guard failure.withLock({ $0 == nil }) else { return }
            do {
                let sample = goldenSet.samples[samplePairs[0].sample]
                var decoded: Vigil.Image?
                for pair in samplePairs {
                    let scenario = scenarios[pair.scenario]
                    let image: Vigil.Image
                    if let keptImage = kept?.image(.init(scenarioID: scenario.id, sample: pair.sample)) {
                        image = keptImage
                    } else {
                        if decoded == nil { decoded = try SuiteRunner.sampleImage(sample, goldenSet: goldenSet) }
                        image = try SuiteRunner.scenarioImage(sample, scenario, decoded: decoded!, goldenSet: goldenSet, seed: seed)
                    }
                    let value = try body(pair, image)
                    results.withLock { $0[pair] = value }
                    let count = done.add(1, ordering: .relaxed).newValue
                    progress?(count, total)
                }
            } catch {
                failure.withLock { current in
                    if current == nil || samplePairs[0] < current!.0 { current = (samplePairs[0], error) }
                }
            }
        }
        if let (_, error) = failure.withLock({ $0 }) { throw error }
        return results.withLock { $0 }
    }
}

/// How a picture is shown in a gallery tile: at least 160 px on its longer side (small images
/// are enlarged by a whole factor where one fits, so every pixel stays an equal square), at most
/// `side`.
struct DisplaySize: Sendable {
    var width: Int
    var height: Int
    /// True when enlarged: the page draws it with crisp pixels.
    var enlarged: Bool

    static let side = 176
    static let minimum = 160

    init(_ width: Int, _ height: Int, side: Int = DisplaySize.side) {
        let longer = max(width, height, 1)
        if longer <= side {
            let factor = side / longer
            if longer * factor >= Self.minimum {
                (self.width, self.height) = (width * factor, height * factor)
            } else {
                (self.width, self.height) = Canvas.fit(width, height, in: side)
            }
        } else {
            (self.width, self.height) = Canvas.fit(width, height, in: side)
        }
        enlarged = self.width > width
    }
}
